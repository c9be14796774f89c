/** Test buckets of their own on RGW: fresh names, and their removal with every object version. */
import { randomUUID } from 'node:crypto';
import { DeleteBucketCommand, DeleteObjectCommand, ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';

/** Staging, public and private bucket names no other test uses. */
export function freshBuckets(prefix: string): { staging: string; public: string; private: string } {
  const tag = `${prefix}-${randomUUID().slice(0, 8)}`;
  return { staging: `${tag}-staging`, public: `${tag}-public`, private: `${tag}-private` };
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
