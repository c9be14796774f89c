/**
 * What the three buckets should look like, from the configuration: the settings `upfront setup`
 * provisions and `upfront doctor` checks. Staging is private, takes uploads from the configured
 * origins (CORS for every method the clients send, ETag exposed) and empties itself (objects expire,
 * abandoned multipart uploads are aborted). Public grants anonymous GetObject and nothing else (only
 * to the CDN when one is configured), and keeps versions; private grants nothing anonymous and keeps
 * versions; folder rules deny writes (read-only) or reads (write-only) under a prefix to all but the
 * admin, and each bucket grants a named API principal its share of the runtime policy. An optional
 * fourth bucket serves a built front end as a static website. The provider's profile adapts them
 * (storage/providers.ts): Block Public Access on AWS, no abort rule on MinIO (which ignores it).
 */
import { PROFILES, type ProviderProfile } from '../storage/providers.ts';
import type { S3DriverConfig } from '../storage/s3-config.ts';
import { publicReadStatement, type CdnConfig } from './cdn.ts';
import { folderStatements, type FolderRule } from './folders.ts';
import { bucketStatements, runtimePolicy, type PolicyRoute } from './policy.ts';
import type { SiteConfig, WebsiteSettings } from './website.ts';
import type { EventsSettings } from './notifications.ts';

/** The headers Upfront's signed uploads carry that a browser must be allowed to send (content-length is the browser's own). */
export const SIGNED_UPLOAD_HEADERS = ['content-type', 'content-md5'];

export interface CorsRule {
  allowedOrigins: string[];
  allowedMethods: string[];
  allowedHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds: number;
}

/** A lifecycle rule Upfront owns (its id starts with `upfront-`); other rules on a bucket are left alone. */
export interface LifecycleRule {
  id: string;
  /** Objects under this prefix ('' for all). */
  prefix: string;
  expirationDays?: number;
  abortIncompleteDays?: number;
  /** Moves objects to these storage classes after so many days. */
  transitions?: Transition[];
}

export interface Transition {
  days: number;
  storageClass: string;
}

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  /** Who the statement is about; or everyone but NotPrincipal (folders.ts). */
  Principal?: '*' | Record<string, string | string[]>;
  NotPrincipal?: Record<string, string[]>;
  Action: string[];
  Resource: string[];
  /** e.g. {"StringEquals": {"aws:Referer": "…"}}: the statement applies only when these hold. */
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

export type BucketRole = 'staging' | 'public' | 'private' | 'site';

/** S3 Block Public Access, each of its four switches. */
export interface PublicAccessBlock {
  blockPublicAcls: boolean;
  ignorePublicAcls: boolean;
  blockPublicPolicy: boolean;
  restrictPublicBuckets: boolean;
}

const BLOCK_ALL: PublicAccessBlock = { blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: true, restrictPublicBuckets: true };
/** Everything blocked but what a bucket policy grants anyone: the public bucket's anonymous GetObject. */
const BLOCK_ALL_BUT_POLICY: PublicAccessBlock = { ...BLOCK_ALL, blockPublicPolicy: false, restrictPublicBuckets: false };

export interface BucketSpec {
  role: BucketRole;
  name: string;
  /** The bucket's CORS rules; null leaves them as they are (no origins configured, or none needed). */
  cors: CorsRule[] | null;
  lifecycle: LifecycleRule[];
  /** The whole bucket policy; null: none (nothing anonymous). */
  policy: PolicyDocument | null;
  /** Versioning enabled; false leaves the bucket's versioning as it is. */
  versioning: boolean;
  /** Served as a static website (website.ts); absent leaves the bucket's website settings as they are. */
  website?: WebsiteSettings;
  /** Block Public Access (AWS); null leaves it as it is. */
  publicAccessBlock: PublicAccessBlock | null;
}

export interface BucketSettings {
  /** Browser origins that upload and read (exact, or with one `*`, e.g. `http://localhost:*`). */
  origins: string[];
  /** Days after which staged objects expire (S3 lifecycle counts whole days). */
  stagingExpiryDays: number;
  /** Days after which unfinished multipart uploads are aborted. */
  abortIncompleteDays: number;
  /** Lifecycle transitions of the public and private buckets' files, e.g. to a cold class after 30 days. */
  transitions: Transition[];
  /** The optional website bucket of a built front end (`upfront site deploy`). */
  site?: SiteConfig;
  /** Storage events (notifications.ts): staging notifies the API's hook of created objects; default none. */
  events?: EventsSettings;
  /** A CDN in front of the public bucket: only it may read public files (cdn.ts). */
  cdn?: CdnConfig;
  /** Prefixes of the final buckets only the admin writes (read-only) or reads (write-only): folders.ts. */
  folders?: FolderRule[];
  /**
   * The API credential's principal (e.g. `arn:aws:iam:::user/upfront-api`): each bucket's policy grants
   * it that bucket's share of the runtime policy (policy.ts' bucketStatements; Ceph RGW needs it).
   */
  apiPrincipal?: string;
  /** The routes, whose key templates narrow the runtime policy; needed with apiPrincipal. */
  routes?: PolicyRoute[];
}

export const DEFAULT_BUCKET_SETTINGS: Omit<BucketSettings, 'origins'> = { stagingExpiryDays: 1, abortIncompleteDays: 1, transitions: [] };

const MAX_AGE = 3000;

/** `admin`: the principal folder rules exempt (setup's credential, see folders.ts' principalOf); needed when there are folder rules. */
export function bucketSpecs({ buckets }: Pick<S3DriverConfig, 'buckets'>, settings: BucketSettings, profile: Readonly<ProviderProfile> = PROFILES.other, admin?: string): BucketSpec[] {
  const { origins } = settings;
  const folders = (role: 'public' | 'private') => {
    const rules = (settings.folders ?? []).filter((rule) => rule.bucket === role);
    if (rules.length > 0 && admin === undefined) throw new Error('folder rules need the admin principal they exempt');
    return rules.length > 0 ? folderStatements(buckets[role], rules, admin!) : [];
  };
  if (settings.apiPrincipal && !settings.routes) throw new Error('apiPrincipal needs the routes, which narrow what it is granted');
  const runtime = settings.apiPrincipal && runtimePolicy({ buckets }, settings.routes!);
  const api = (bucket: string) => (runtime ? bucketStatements(runtime, bucket, settings.apiPrincipal!) : []);
  const policyOf = (statements: PolicyStatement[]): PolicyDocument | null => (statements.length > 0 ? { Version: '2012-10-17', Statement: statements } : null);
  const blocked = profile.blockPublicAccess ? BLOCK_ALL : null;
  // Files in the final buckets move to colder classes as they age, when the configuration says so.
  const finalLifecycle: LifecycleRule[] = settings.transitions.length > 0 ? [{ id: 'upfront-transitions', prefix: '', transitions: settings.transitions }] : [];
  const cors = (methods: string[], headers: string[]): CorsRule[] | null =>
    origins.length === 0 ? null : [{ allowedOrigins: origins, allowedMethods: methods, allowedHeaders: headers, exposeHeaders: ['ETag'], maxAgeSeconds: MAX_AGE }];
  return [
    {
      role: 'staging',
      name: buckets.staging,
      // PUT and POST upload; GET and HEAD read what resume needs; DELETE aborts (Uppy sends it).
      cors: cors(['PUT', 'POST', 'GET', 'HEAD', 'DELETE'], SIGNED_UPLOAD_HEADERS),
      lifecycle: [
        { id: 'upfront-expire-staged', prefix: '', expirationDays: settings.stagingExpiryDays },
        // MinIO drops this rule and aborts stale uploads by its own setting (setup says how to set it).
        ...(profile.abortIncomplete === 'lifecycle' ? [{ id: 'upfront-abort-incomplete', prefix: '', abortIncompleteDays: settings.abortIncompleteDays }] : []),
      ],
      policy: policyOf(api(buckets.staging)),
      versioning: false,
      publicAccessBlock: blocked,
    },
    {
      role: 'public',
      name: buckets.public,
      cors: cors(['GET', 'HEAD'], []),
      lifecycle: finalLifecycle,
      policy: {
        Version: '2012-10-17',
        Statement: [publicReadStatement(buckets.public, settings.cdn), ...api(buckets.public), ...folders('public')],
      },
      versioning: true,
      // Behind CloudFront with OAC only the distribution reads, which AWS does not count as public: block all.
      publicAccessBlock: profile.blockPublicAccess ? (readByOac(profile, settings.cdn) ? BLOCK_ALL : BLOCK_ALL_BUT_POLICY) : null,
    },
    {
      role: 'private',
      name: buckets.private,
      cors: null,
      lifecycle: finalLifecycle,
      policy: policyOf([...api(buckets.private), ...folders('private')]),
      versioning: true,
      publicAccessBlock: blocked,
    },
    ...(settings.site ? [siteSpec(settings.site, profile.blockPublicAccess ? BLOCK_ALL_BUT_POLICY : null)] : []),
  ];
}

/** Whether the CDN reads the public bucket through CloudFront Origin Access Control: on stores whose profile has it (AWS). */
const readByOac = (profile: Readonly<ProviderProfile>, cdn: CdnConfig | undefined): boolean =>
  profile.originAccess === 'oac' && cdn !== undefined && 'cloudFrontDistributionArn' in cdn;

/** The website bucket: anyone may read its files (nobody list them); no CORS, pages load from its own origin. */
function siteSpec(site: SiteConfig, publicAccessBlock: PublicAccessBlock | null): BucketSpec {
  return {
    role: 'site',
    name: site.bucket,
    cors: null,
    lifecycle: [],
    policy: {
      Version: '2012-10-17',
      Statement: [{ Sid: 'UpfrontSiteRead', Effect: 'Allow', Principal: '*', Action: ['s3:GetObject'], Resource: [`arn:aws:s3:::${site.bucket}/*`] }],
    },
    versioning: false,
    publicAccessBlock,
    website: { indexDocument: site.indexDocument, errorDocument: site.errorDocument },
  };
}
