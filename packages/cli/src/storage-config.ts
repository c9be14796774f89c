/**
 * The configuration `upfront setup` and `upfront doctor` work from: the same upfront.config.json and
 * environment as `upfront serve`, S3 storage only, and the admin credential when one is set.
 */
import type { UpfrontConfig } from '@upfront/server';
import { eventsSettings, type BucketSettings } from '@upfront/server/buckets';
import { loadCommandConfig } from './load-config.ts';
import { UsageError } from './usage.ts';

type S3Storage = Extract<UpfrontConfig['storage'], { driver: 's3' }>;

export interface StorageCommandConfig {
  config: UpfrontConfig;
  storage: S3Storage;
  settings: BucketSettings;
  /** S3_ADMIN_ACCESS_KEY_ID and S3_ADMIN_SECRET_ACCESS_KEY, when both are set. */
  admin?: { accessKeyId: string; secretAccessKey: string };
}

/** The buckets' settings the configuration gives (bucketSpecs' input). */
export function bucketSettings(config: UpfrontConfig): BucketSettings {
  return { origins: config.corsOrigins, ...config.buckets, routes: [...config.routes.values()], ...(config.events && { events: eventsSettings(config.events) }) };
}

export function loadStorageConfig(command: string): StorageCommandConfig {
  // The mode only decides how users sign in, which these commands do not need.
  const config = loadCommandConfig({ mode: 'dev' });
  if (config.storage.driver !== 's3') {
    throw new UsageError(`${command} works on S3-compatible storage: set STORAGE_DRIVER=s3 and the S3_* variables (the disk driver needs no setup)`);
  }
  const [accessKeyId, secretAccessKey] = [process.env.S3_ADMIN_ACCESS_KEY_ID, process.env.S3_ADMIN_SECRET_ACCESS_KEY];
  if (Boolean(accessKeyId) !== Boolean(secretAccessKey)) throw new UsageError('set both S3_ADMIN_ACCESS_KEY_ID and S3_ADMIN_SECRET_ACCESS_KEY, or neither');
  return {
    config,
    storage: config.storage,
    settings: bucketSettings(config),
    ...(accessKeyId && secretAccessKey && { admin: { accessKeyId, secretAccessKey } }),
  };
}
