/** RGW buckets with versioning on, for the versions tests (the test RGW's own buckets keep none). */
import type { S3Client } from '@aws-sdk/client-s3';
import { DEFAULT_BUCKET_SETTINGS, setupBuckets } from '../../packages/server/src/buckets/index.ts';
import { createS3Client } from '../../packages/server/src/storage/s3-driver.ts';
import { freshBuckets, removeBuckets } from './buckets.ts';
import { rgwAdminConfig } from './rgw-env.ts';

/**
 * Versioned RGW buckets of the suite's own, provisioned by `upfront setup`; removed (every version) after.
 * The API uses the buckets' owner: the API user's policy names the three configured buckets only (those
 * are not versioned: the memory store would keep every deleted file's bytes).
 */
export function versionedRgwBuckets(prefix: string) {
  const buckets = freshBuckets(prefix);
  let s3: S3Client | undefined;
  return {
    async provision(): Promise<Record<string, string>> {
      const config = { ...rgwAdminConfig(), buckets };
      s3 = createS3Client(config);
      await setupBuckets(config, { origins: ['http://localhost:*', 'http://127.0.0.1:*'], ...DEFAULT_BUCKET_SETTINGS });
      return {
        S3_BUCKET_STAGING: buckets.staging,
        S3_BUCKET_PUBLIC: buckets.public,
        S3_BUCKET_PRIVATE: buckets.private,
        S3_ACCESS_KEY_ID: config.accessKeyId,
        S3_SECRET_ACCESS_KEY: config.secretAccessKey,
      };
    },
    async remove(): Promise<void> {
      if (!s3) return;
      await removeBuckets(s3, Object.values(buckets));
      s3.destroy();
    },
  };
}
