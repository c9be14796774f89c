/**
 * One API server for the complete-upload benchmark, in its own process: s3 driver on the Ceph RGW
 * named by the S3_* environment (scripts/rgw/start.sh), SQLite in a temp dir, dev issuer. Prints its URL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@upfront/server';
import { serve } from '@upfront/server/node';

const dataDir = mkdtempSync(join(tmpdir(), 'upfront-bench-rgw-'));
const s3Env = Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('S3_')));
const config = loadConfig({
  mode: 'dev',
  file: new URL('../upfront.config.json', import.meta.url).pathname,
  env: { UPFRONT_DATA_DIR: dataDir, STORAGE_DRIVER: 's3', ...s3Env },
});
const server = await serve(config, { port: 0 });
process.stdout.write(`${server.url}\n`);
process.on('SIGTERM', () => {
  void server.close().then(() => {
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  });
});
