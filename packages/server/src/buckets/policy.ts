/**
 * The IAM policies of the two credentials Upfront uses (`upfront policy` prints them):
 * - the API's runtime credential: exactly the object actions the API sends, on exactly the keys its
 *   routes write (a key template's literal start narrows them to a prefix), and on the buckets themselves
 *   only listing: the sweeper lists the three buckets (and staging's multipart uploads) to find what no
 *   record owns, and versions of the final ones are listed by prefix. Listing, too, is kept to the
 *   routes' prefixes where their key templates start with one.
 * - the admin credential of `upfront setup` and `upfront doctor`: the bucket settings setup reads and
 *   writes, and doctor's probe objects (written and removed under their own prefixes).
 */
import type { RouteConfig } from '../config.ts';
import type { S3DriverConfig } from '../storage/s3-config.ts';
import { DOCTOR_PREFIX, PROBE_PREFIXES } from './probe-prefixes.ts';
import type { PolicyStatement } from './spec.ts';

export interface IamStatement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string[]>>;
}

export interface IamPolicy {
  Version: '2012-10-17';
  Statement: IamStatement[];
}

export type PolicyRoute = Pick<RouteConfig, 'name' | 'keyTemplate' | 'visibility'>;

/**
 * Staging: presigned PUT and POST, multipart parts and completion (all s3:PutObject), the ranged GET
 * and HEAD that verify (s3:GetObject, also the copy's source), delete, abort and list a multipart
 * upload's parts. The final buckets: the copy's target (s3:PutObject, and s3:AbortMultipartUpload when a
 * large copy goes part by part), HEAD of a promoted copy and signed GETs (s3:GetObject), delete, and
 * versions: list (s3:ListBucketVersions, on the bucket, by prefix), read and copy back (s3:GetObjectVersion),
 * and remove the version a replacement wrote when it cannot be recorded (s3:DeleteObjectVersion). The
 * sweeper's listings: s3:ListBucket on the three buckets, s3:ListBucketMultipartUploads on staging. With
 * s3:ListBucket, storage answers a missing key 404 rather than 403 (the driver reads both as missing).
 */
export function runtimePolicy({ buckets }: Pick<S3DriverConfig, 'buckets'>, routes: Iterable<PolicyRoute>): IamPolicy {
  const all = [...routes];
  const prefixes = (visibility?: PolicyRoute['visibility']) =>
    narrowest(all.filter((route) => visibility === undefined || route.visibility === visibility).map((route) => keyPrefix(route.keyTemplate, route.name)));
  const statements: IamStatement[] = [
    {
      Sid: 'UpfrontStaging',
      Effect: 'Allow',
      Action: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      // Doctor's presigned round trip writes its probe the way uploads are written, with this credential.
      Resource: objects(buckets.staging, narrowest([...prefixes(), DOCTOR_PREFIX])),
    },
    listing('UpfrontStagingListing', buckets.staging, narrowest([...prefixes(), DOCTOR_PREFIX]), ['s3:ListBucket']),
    // ListMultipartUploads takes no s3:prefix condition key: a condition on it would refuse every listing.
    { Sid: 'UpfrontStagingMultipartUploads', Effect: 'Allow', Action: ['s3:ListBucketMultipartUploads'], Resource: [`arn:aws:s3:::${buckets.staging}`] },
  ];
  for (const visibility of ['public', 'private'] as const) {
    const own = prefixes(visibility);
    if (own.length === 0) continue; // no route promotes there
    const bucket = buckets[visibility];
    const Sid = visibility === 'public' ? 'UpfrontPublic' : 'UpfrontPrivate';
    statements.push(
      {
        Sid: `${Sid}Files`,
        Effect: 'Allow',
        Action: ['s3:PutObject', 's3:GetObject', 's3:GetObjectVersion', 's3:DeleteObject', 's3:DeleteObjectVersion', 's3:AbortMultipartUpload'],
        Resource: objects(bucket, own),
      },
      listing(`${Sid}Listing`, bucket, own, ['s3:ListBucket', 's3:ListBucketVersions']),
    );
  }
  return { Version: '2012-10-17', Statement: statements };
}

/**
 * What `upfront setup` reads and changes on the buckets (HEAD of a bucket is s3:ListBucket; removing
 * CORS or lifecycle rules is their Put action; Block Public Access matters on AWS), who it is (folder
 * rules exempt the admin: its id comes from ListBuckets' owner), and the probe objects setup and doctor
 * write and remove (by version on the versioned buckets). With a website bucket: its website settings,
 * and the files `upfront site deploy` writes, reads (its manifest) and removes.
 */
export function adminPolicy({ buckets }: Pick<S3DriverConfig, 'buckets'>, site?: string): IamPolicy {
  const names = [buckets.staging, buckets.public, buckets.private];
  const statements: IamStatement[] = [
    {
      Sid: 'UpfrontSetupBuckets',
      Effect: 'Allow',
      Action: [
        's3:CreateBucket', 's3:ListBucket', 's3:GetBucketAcl', 's3:PutBucketAcl', 's3:GetBucketCORS', 's3:PutBucketCORS',
        's3:GetLifecycleConfiguration', 's3:PutLifecycleConfiguration', 's3:GetBucketPolicy', 's3:PutBucketPolicy',
        's3:DeleteBucketPolicy', 's3:GetBucketVersioning', 's3:PutBucketVersioning', 's3:GetBucketPublicAccessBlock',
        's3:PutBucketPublicAccessBlock',
      ],
      Resource: [...names, ...(site ? [site] : [])].map((name) => `arn:aws:s3:::${name}`),
    },
    { Sid: 'UpfrontSetupIdentity', Effect: 'Allow', Action: ['s3:ListAllMyBuckets'], Resource: ['*'] },
    {
      Sid: 'UpfrontDoctorProbes',
      Effect: 'Allow',
      Action: ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'],
      Resource: names.flatMap((name) => objects(name, PROBE_PREFIXES)),
    },
  ];
  if (site) {
    statements.push(
      { Sid: 'UpfrontSiteWebsite', Effect: 'Allow', Action: ['s3:GetBucketWebsite', 's3:PutBucketWebsite'], Resource: [`arn:aws:s3:::${site}`] },
      { Sid: 'UpfrontSiteFiles', Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'], Resource: [`arn:aws:s3:::${site}/*`] },
    );
  }
  return { Version: '2012-10-17', Statement: statements };
}

/**
 * A bucket's share of an IAM policy in bucket-policy form, naming the principal it is for. Ceph RGW 16
 * needs it beside the user's IAM policy: it checks a POST form upload against the bucket policy alone,
 * and once a bucket has a policy it no longer honours the user policy for deletes and copies.
 */
export function bucketStatements(policy: IamPolicy, bucket: string, principal: string): PolicyStatement[] {
  const arn = `arn:aws:s3:::${bucket}`;
  return policy.Statement.flatMap((statement) => {
    const Resource = statement.Resource.filter((resource) => resource === arn || resource.startsWith(`${arn}/`));
    if (Resource.length === 0) return [];
    return [{ Sid: statement.Sid, Effect: statement.Effect, Principal: { AWS: [principal] }, Action: statement.Action, Resource, ...(statement.Condition && { Condition: statement.Condition }) }];
  });
}

/** The literal start of a route's keys: `{route}` is known, the first other placeholder ends it ('' for the whole bucket). */
export function keyPrefix(template: string, route: string): string {
  // Route names are already key-safe ([a-z0-9_-]), so {route} renders as the name itself.
  const rendered = template.replaceAll('{route}', route);
  const end = rendered.indexOf('{');
  return end < 0 ? rendered : rendered.slice(0, end);
}

/** The prefixes that cover all the others ('' covers everything). */
export function narrowest(prefixes: string[]): string[] {
  const unique = [...new Set(prefixes)].sort();
  return unique.filter((prefix) => !unique.some((other) => other !== prefix && prefix.startsWith(other)));
}

/** Listing actions on the bucket, kept to keys under `prefixes` unless one of them is the whole bucket. */
function listing(Sid: string, bucket: string, prefixes: string[], Action: string[]): IamStatement {
  return {
    Sid,
    Effect: 'Allow',
    Action,
    Resource: [`arn:aws:s3:::${bucket}`],
    ...(!prefixes.includes('') && { Condition: { StringLike: { 's3:prefix': prefixes.map((prefix) => `${prefix}*`) } } }),
  };
}

const objects = (bucket: string, prefixes: string[]) => prefixes.map((prefix) => `arn:aws:s3:::${bucket}/${prefix}*`);
