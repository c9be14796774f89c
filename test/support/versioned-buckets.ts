/** RGW buckets with versioning on, for the versions tests (the test RGW's own buckets keep none). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { S3Client } from '@aws-sdk/client-s3';
import { DEFAULT_KEY_TEMPLATE } from '../../packages/server/src/config.ts';
import { DEFAULT_BUCKET_SETTINGS, setupBuckets } from '../../packages/server/src/buckets/index.ts';
import { createS3Client } from '../../packages/server/src/storage/s3-driver.ts';
import { freshBuckets, removeBuckets } from './buckets.ts';
import { rgwAdminConfig, rgwApiUser } from './rgw-env.ts';

type Routes = Record<string, { visibility?: unknown; keyTemplate?: unknown }>;

/** The routes of the repository's upfront.config.json, which test servers use unless given others. */
const repositoryRoutes = (): Routes =>
  (JSON.parse(readFileSync(fileURLToPath(new URL('../../upfront.config.json', import.meta.url)), 'utf8')) as { routes: Routes }).routes;

/**
 * Versioned RGW buckets of the suite's own, provisioned by `upfront setup`; removed (every version) after.
 * The API keeps its restricted credential: the API user's own policy names the three configured buckets
 * only (those are not versioned: the memory store would keep every deleted file's bytes), so setup grants
 * it these buckets' share of the runtime policy in their bucket policies (`apiPrincipal`), for `routes`.
 */
export function versionedRgwBuckets(prefix: string, routes: Routes = repositoryRoutes()) {
  const buckets = freshBuckets(prefix);
  let s3: S3Client | undefined;
  return {
    async provision(): Promise<Record<string, string>> {
      const config = { ...rgwAdminConfig(), buckets };
      s3 = createS3Client(config);
      await setupBuckets(config, {
        origins: ['http://localhost:*', 'http://127.0.0.1:*'],
        ...DEFAULT_BUCKET_SETTINGS,
        apiPrincipal: rgwApiUser().principal,
        routes: Object.entries(routes).map(([name, route]) => ({
          name,
          visibility: route.visibility === 'public' ? 'public' : 'private',
          keyTemplate: typeof route.keyTemplate === 'string' ? route.keyTemplate : DEFAULT_KEY_TEMPLATE,
        })),
      });
      return { S3_BUCKET_STAGING: buckets.staging, S3_BUCKET_PUBLIC: buckets.public, S3_BUCKET_PRIVATE: buckets.private };
    },
    async remove(): Promise<void> {
      if (!s3) return;
      await removeBuckets(s3, Object.values(buckets));
      s3.destroy();
    },
  };
}
