/** Test buckets of their own on RGW: fresh names, settings broken on purpose, and removal with every object version. */
import { randomUUID } from 'node:crypto';
import {
  DeleteBucketCommand,
  DeleteBucketCorsCommand,
  DeleteBucketLifecycleCommand,
  DeleteBucketPolicyCommand,
  DeleteBucketWebsiteCommand,
  DeleteObjectCommand,
  ListObjectVersionsCommand,
  PutBucketAclCommand,
  PutBucketCorsCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { FolderRule } from '../../packages/server/src/buckets/folders.ts';

/** Staging, public, private and site bucket names no other test uses (the site is made only when configured). */
export function freshBuckets(prefix: string): { staging: string; public: string; private: string; site: string } {
  const tag = `${prefix}-${randomUUID().slice(0, 8)}`;
  return { staging: `${tag}-staging`, public: `${tag}-public`, private: `${tag}-private`, site: `${tag}-site` };
}

/** Deletes the buckets and all they hold (versions and delete markers too); missing ones are skipped. */
export async function removeBuckets(s3: S3Client, buckets: string[]): Promise<void> {
  for (const bucket of buckets) {
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket })).catch(() => undefined);
    for (const version of [...(versions?.Versions ?? []), ...(versions?.DeleteMarkers ?? [])]) {
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: version.Key, VersionId: version.VersionId }));
    }
    await s3.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
  }
}

/** A bucket's website URL on the test RGW, whose s3website endpoint answers `<bucket>.s3-website.localhost` (scripts/rgw/start.sh). */
export const siteUrlOf = ({ endpoint }: { endpoint: string }, bucket: string): string => `http://${bucket}.s3-website.localhost:${new URL(endpoint).port}/`;

/** The browser origin the bucket tests configure. */
export const ORIGIN = 'http://app.example.test';

type Buckets = ReturnType<typeof freshBuckets>;

/**
 * Settings broken one at a time, the way people break them by hand: `setting` is what `upfront setup`
 * plans to put back (`role setting`); `doctor` names what doctor reports failing.
 */
export const breakages: { what: string; setting: string; doctor: string[]; damage: (s3: S3Client, buckets: Buckets) => Promise<unknown> }[] = [
  {
    what: 'staging without CORS',
    setting: 'staging cors',
    doctor: ['staging cors', `cors ${ORIGIN}`, 'cors ETag'],
    damage: (s3, buckets) => s3.send(new DeleteBucketCorsCommand({ Bucket: buckets.staging })),
  },
  {
    what: 'staging CORS that hides the ETag',
    setting: 'staging cors',
    doctor: ['staging cors', 'cors ETag'],
    damage: (s3, buckets) =>
      s3.send(
        new PutBucketCorsCommand({
          Bucket: buckets.staging,
          CORSConfiguration: { CORSRules: [{ AllowedOrigins: [ORIGIN], AllowedMethods: ['PUT', 'POST', 'GET', 'HEAD', 'DELETE'], AllowedHeaders: ['content-type', 'content-md5'] }] },
        }),
      ),
  },
  {
    what: 'staging without lifecycle rules',
    setting: 'staging lifecycle',
    doctor: ['staging lifecycle'],
    damage: (s3, buckets) => s3.send(new DeleteBucketLifecycleCommand({ Bucket: buckets.staging })),
  },
  {
    what: 'public versioning suspended',
    setting: 'public versioning',
    doctor: ['public versioning'],
    damage: (s3, buckets) => s3.send(new PutBucketVersioningCommand({ Bucket: buckets.public, VersioningConfiguration: { Status: 'Suspended' } })),
  },
  {
    what: 'public without its read policy',
    setting: 'public policy',
    doctor: ['public policy', 'anonymous public'],
    damage: (s3, buckets) => s3.send(new DeleteBucketPolicyCommand({ Bucket: buckets.public })),
  },
  {
    what: 'staging readable by anyone (a policy)',
    setting: 'staging policy',
    doctor: ['staging policy', 'anonymous staging'],
    damage: (s3, buckets) =>
      s3.send(
        new PutBucketPolicyCommand({
          Bucket: buckets.staging,
          Policy: JSON.stringify({
            Version: '2012-10-17',
            Statement: [{ Sid: 'Oops', Effect: 'Allow', Principal: '*', Action: ['s3:GetObject'], Resource: [`arn:aws:s3:::${buckets.staging}/*`] }],
          }),
        }),
      ),
  },
  {
    what: 'private listable by anyone (a public-read ACL)',
    setting: 'private acl',
    doctor: ['private acl', 'anonymous list private'],
    damage: (s3, buckets) => s3.send(new PutBucketAclCommand({ Bucket: buckets.private, ACL: 'public-read' })),
  },
  {
    what: 'public without its folder rules (a plain read policy in their place)',
    setting: 'public policy',
    doctor: ['public policy'],
    damage: (s3, buckets) => s3.send(new PutBucketPolicyCommand({ Bucket: buckets.public, Policy: anyoneReads(buckets.public) })),
  },
];

/** The folder rules the bucket tests configure, so that `breakages` can remove them. */
export const FOLDERS: FolderRule[] = [
  { bucket: 'public', prefix: 'uploads/', access: 'write-only' },
  { bucket: 'public', prefix: 'page/', access: 'read-only' },
];

/** The public bucket's policy without a CDN: anyone may read. */
const anyoneReads = (bucket: string) =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'UpfrontPublicRead', Effect: 'Allow', Principal: '*', Action: ['s3:GetObject'], Resource: [`arn:aws:s3:::${bucket}/*`] }] });

/**
 * Like `breakages`, for a setup that also has a website bucket and a CDN in front of public (only the
 * CDN may read public files; doctor checks the site's index page and reads a probe through the CDN).
 */
export const siteAndCdnBreakages: typeof breakages = [
  {
    what: 'the site bucket no longer a website',
    setting: 'site website',
    doctor: ['site website', 'website'],
    damage: (s3, buckets) => s3.send(new DeleteBucketWebsiteCommand({ Bucket: buckets.site })),
  },
  {
    what: 'the site unreadable (its policy removed)',
    setting: 'site policy',
    doctor: ['site policy', 'website'],
    damage: (s3, buckets) => s3.send(new DeleteBucketPolicyCommand({ Bucket: buckets.site })),
  },
  {
    what: 'public readable by anyone around the CDN (a plain anonymous-read policy in place of the CDN\'s)',
    setting: 'public policy',
    doctor: ['public policy', 'anonymous public'],
    damage: (s3, buckets) => s3.send(new PutBucketPolicyCommand({ Bucket: buckets.public, Policy: anyoneReads(buckets.public) })),
  },
  {
    what: 'public unreadable by the CDN (its policy removed)',
    setting: 'public policy',
    doctor: ['public policy', 'cdn'],
    damage: (s3, buckets) => s3.send(new DeleteBucketPolicyCommand({ Bucket: buckets.public })),
  },
];
