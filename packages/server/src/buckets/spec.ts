/**
 * What the three buckets should look like, from the configuration: the settings `upfront setup`
 * provisions and `upfront doctor` checks. Staging is private, takes uploads from the configured
 * origins (CORS for every method the clients send, ETag exposed) and empties itself (objects expire,
 * abandoned multipart uploads are aborted). Public grants anonymous GetObject and nothing else, and
 * keeps versions; private grants nothing anonymous and keeps versions.
 */
import type { S3DriverConfig } from '../storage/s3-config.ts';

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
  Principal: '*' | Record<string, string | string[]>;
  Action: string[];
  Resource: string[];
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

export type BucketRole = 'staging' | 'public' | 'private';

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
}

export const DEFAULT_BUCKET_SETTINGS: Omit<BucketSettings, 'origins'> = { stagingExpiryDays: 1, abortIncompleteDays: 1, transitions: [] };

const MAX_AGE = 3000;

export function bucketSpecs({ buckets }: Pick<S3DriverConfig, 'buckets'>, settings: BucketSettings): BucketSpec[] {
  const { origins } = settings;
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
        { id: 'upfront-abort-incomplete', prefix: '', abortIncompleteDays: settings.abortIncompleteDays },
      ],
      policy: null,
      versioning: false,
    },
    {
      role: 'public',
      name: buckets.public,
      cors: cors(['GET', 'HEAD'], []),
      lifecycle: finalLifecycle,
      policy: {
        Version: '2012-10-17',
        Statement: [{ Sid: 'UpfrontPublicRead', Effect: 'Allow', Principal: '*', Action: ['s3:GetObject'], Resource: [`arn:aws:s3:::${buckets.public}/*`] }],
      },
      versioning: true,
    },
    { role: 'private', name: buckets.private, cors: null, lifecycle: finalLifecycle, policy: null, versioning: true },
  ];
}
