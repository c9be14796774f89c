/**
 * One API server for the create-upload benchmark, in its own process: s3 driver (storage is never
 * contacted: create-upload only presigns), SQLite in a temp dir, dev issuer. argv[2] picks the
 * presigner: `upfront` (hand-written SigV4) or `aws-sdk` (the reference). Prints its URL.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@upfront/server';
import { serve } from '@upfront/server/node';

const presigner = process.argv[2] === 'aws-sdk' ? 'aws-sdk' : 'upfront';
const config = loadConfig({
  mode: 'dev',
  file: new URL('../upfront.config.json', import.meta.url).pathname,
  env: {
    UPFRONT_DATA_DIR: mkdtempSync(join(tmpdir(), 'upfront-bench-')),
    STORAGE_DRIVER: 's3',
    S3_ENDPOINT: 'http://127.0.0.1:7480',
    S3_REGION: 'us-east-1',
    S3_ACCESS_KEY_ID: 'AKIDBENCHMARK0000000',
    S3_SECRET_ACCESS_KEY: 'benchmark/secret/key/000000000000000000',
    S3_BUCKET_STAGING: 'staging',
    S3_BUCKET_PUBLIC: 'public',
    S3_BUCKET_PRIVATE: 'private',
    S3_FORCE_PATH_STYLE: 'true',
  },
});
if (config.storage.driver !== 's3') throw new Error('bench server expects the s3 driver');
config.storage.presigner = presigner;
const server = await serve(config, { port: 0 });
process.stdout.write(`${server.url}\n`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
