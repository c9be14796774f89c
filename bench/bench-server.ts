/**
 * One API server for a benchmark, in its own process: s3 driver, SQLite in a temp dir, dev issuer.
 * For create-upload, storage is never contacted (create-upload only presigns) and argv[2] picks the
 * server: `upfront` (hand-written SigV4), `upfront-normal` (the same with SQLite's synchronous=normal:
 * what durable commits cost), `aws-sdk` (the reference: the AWS SDK's presigner), or `floor`: the
 * same HTTP stack (Upfront's Node adapter, Hono) answering a canned create-upload reply after parsing
 * the body — what a server doing no work at all would reach. `rgw`: Upfront on the Ceph RGW named by
 * the S3_* environment (complete-rgw.ts, upload-large.ts); `rgw DIR` also serves DIR's files at /
 * (upload-browser.ts: its page, from the API's own origin, as the demo page is). `upfront-pg`: as
 * `upfront` on the PostgreSQL of BENCH_DATABASE_URL (create-upload-pg.ts). Prints its URL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@upfront/server';
import { requestListener, serve } from '@upfront/server/node';
import { Hono } from 'hono';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const mode = process.argv[2] ?? 'upfront';
if (mode === 'floor') await serveFloor();
const presigner = mode === 'aws-sdk' ? 'aws-sdk' : 'upfront';
const synchronous = mode === 'upfront-normal' ? '?synchronous=normal' : '';
const dataDir = mkdtempSync(join(tmpdir(), 'upfront-bench-'));
const config = loadConfig({
  mode: 'dev',
  file: new URL('./upfront.bench.json', import.meta.url).pathname,
  env: {
    UPFRONT_DATA_DIR: dataDir,
    // `upfront-pg`: PostgreSQL (BENCH_DATABASE_URL), pool size from DATABASE_POOL_SIZE.
    DATABASE_URL: mode === 'upfront-pg' ? process.env.BENCH_DATABASE_URL! : `sqlite:${join(dataDir, 'upfront.db')}${synchronous}`,
    ...(process.env.DATABASE_POOL_SIZE && { DATABASE_POOL_SIZE: process.env.DATABASE_POOL_SIZE }),
    STORAGE_DRIVER: process.env.BENCH_STORAGE_DRIVER ?? 's3',
    S3_ENDPOINT: 'http://127.0.0.1:7480',
    S3_REGION: 'us-east-1',
    S3_ACCESS_KEY_ID: 'AKIDBENCHMARK0000000',
    S3_SECRET_ACCESS_KEY: 'benchmark/secret/key/000000000000000000',
    S3_BUCKET_STAGING: 'staging',
    S3_BUCKET_PUBLIC: 'public',
    S3_BUCKET_PRIVATE: 'private',
    S3_FORCE_PATH_STYLE: 'true',
    ...(mode === 'rgw' && Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('S3_')))),
  },
});
// BENCH_STORAGE_DRIVER=disk: whole uploads through the disk driver (create-upload-pg.ts).
if (config.storage.driver === 's3') config.storage.presigner = presigner;
const webDir = mode === 'rgw' ? process.argv[3] : undefined;
const fallback = webDir ? (await import('../packages/cli/src/static-files.ts')).staticFiles(webDir) : undefined;
const server = await serve(config, { port: 0, ...(fallback && { fallback }) });
process.stdout.write(`${server.url}\n`);
process.on('SIGTERM', () => {
  void server.close().then(() => {
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  });
});

async function serveFloor(): Promise<never> {
  const app = new Hono();
  const reply = { id: crypto.randomUUID(), key: 'bench/20261121-x.jpg', strategy: 'put', put: { url: 'x'.repeat(420) } };
  app.post('/v1/dev/token', (c) => c.json({ token: 'floor' }));
  app.post('/v1/uploads', async (c) => c.json({ ...reply, request: await c.req.json() }, 201));
  const server = createServer(requestListener(app.fetch));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.stdout.write(`http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
  process.on('SIGTERM', () => process.exit(0));
  return new Promise<never>(() => {});
}
