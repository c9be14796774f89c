/**
 * A 256 MiB file (BENCH_BROWSER_BYTES, default 2**28: 32 of the archive route's 8 MiB parts; keep it
 * above the route's 64 MiB multipart threshold, or the client sends one PUT) into Ceph RGW from real
 * headless Chromium, same RGW, same page, same file, alternating: through @upfront/client
 * (create, parts signed by the API and sent straight to storage with their MD5s signed in, the file's
 * SHA-256 computed in the hash-wasm Web Worker on the way, complete: assemble, verify, promote) against
 * one plain presigned PUT of the whole file with fetch, straight into the staging bucket (signed here
 * with the AWS SDK's presigner; nothing verified). MB/s (10^6 bytes) of each, median of
 * BENCH_BROWSER_RUNS (default 3), and the ratio.
 *
 * The file is picked in the page's file input, as a user would pick it: a File on disk. (A Blob made
 * in the page does not do at this size: Chromium copies the bytes of every slice of an in-memory Blob,
 * the client slices all parts up front, and past ~512 MB of blob memory the reads fail with
 * NotReadableError; a File's slices are references to the file.) Playwright hands a local browser the
 * path, so the bytes never pass through it.
 *
 * The API server runs in its own process on core 1 and serves the bench page too (same origin, as the
 * demo page is served; RGW's CORS on staging admits it). Chromium and RGW are left to the scheduler.
 */
import type { ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { s3ConfigFromEnv } from '../packages/server/src/storage/s3-config.ts';
import { createS3Client } from '../packages/server/src/storage/s3-driver.ts';
import { launchBrowser, recordPageTrouble } from '../test/support/browser.ts';
import { writeZipLike } from '../test/support/zip.ts';
import { collectGarbage } from './rgw-gc.ts';
import { startBenchServer } from './start-server.ts';
import type { BrowserBench } from './upload-browser-page.ts';
import { median } from './median.ts';

const SIZE = Number(process.env.BENCH_BROWSER_BYTES ?? 2 ** 28);
const RUNS = Number(process.env.BENCH_BROWSER_RUNS ?? 3);
// Generous: a run slower than 2 MB/s is broken, not slow; a broken run then fails instead of hanging.
const TIMEOUT_MS = 60_000 + SIZE / 2_000;

export interface BrowserUploadResult {
  upfrontMBps: number;
  putMBps: number;
  ratio: number;
  runs: number;
  bytes: number;
}

/**
 * The bench page in `dir`: the page script bundled with the compiled client (dist, as an app would
 * get it from npm: scripts/build.sh builds it), and the client's hashing worker next to it, where the
 * client looks for it.
 */
async function buildPage(dir: string): Promise<void> {
  await mkdir(dir);
  await build({
    entryPoints: [fileURLToPath(new URL('./upload-browser-page.ts', import.meta.url))],
    outfile: join(dir, 'page.js'),
    bundle: true,
    format: 'esm',
    target: 'es2022',
    logLevel: 'warning',
  });
  await copyFile(fileURLToPath(new URL('../packages/client/dist/hash-worker.js', import.meta.url)), join(dir, 'hash-worker.js'));
  await writeFile(join(dir, 'index.html'), '<!doctype html>\n<meta charset="utf-8">\n<title>Upfront browser upload bench</title>\n<input type="file" id="file">\n<script type="module" src="page.js"></script>\n');
}

const benchOf = (page: Page) => page.evaluateHandle(() => (window as unknown as { bench: BrowserBench }).bench);

export async function benchBrowserUpload(): Promise<BrowserUploadResult> {
  const config = s3ConfigFromEnv(process.env);
  const s3 = createS3Client(config);
  const dir = await mkdtemp(join(tmpdir(), 'upfront-bench-browser-'));
  const web = join(dir, 'web');
  const path = join(dir, 'large.zip');
  let api: { url: string; child: ChildProcess } | undefined;
  let browser: Browser | undefined;
  let trouble: string[] = [];
  try {
    await buildPage(web);
    await writeZipLike(path, SIZE, { random: true });
    api = await startBenchServer(['rgw', web]);
    browser = await launchBrowser();
    const page = await browser.newPage();
    trouble = recordPageTrouble(page);
    const token = ((await (await fetch(`${api.url}/v1/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"user":"bench"}',
    })).json()) as { token: string }).token;
    await page.goto(`${api.url}/`);
    await page.waitForFunction(() => 'bench' in window);
    await page.setInputFiles('#file', path);
    const bench = await benchOf(page);

    const upfrontRun = async () => {
      const { seconds, key } = await bench.evaluate((b, [token, timeout]) => b.upfront(token, timeout), [token, TIMEOUT_MS] as const);
      await s3.send(new DeleteObjectCommand({ Bucket: config.buckets.public, Key: key }));
      return SIZE / 1e6 / seconds;
    };
    const putRun = async () => {
      const key = `bench/${crypto.randomUUID()}.zip`;
      // Content-Type signed, as a plain presigned upload would sign it (the page sends the same).
      const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: config.buckets.staging, Key: key, ContentType: 'application/zip' }), { expiresIn: 3600 });
      const { seconds } = await bench.evaluate((b, [url, timeout]) => b.plainPut(url, timeout), [url, TIMEOUT_MS] as const);
      // The peer did the whole job: every byte is in storage (Upfront's complete checks its own).
      const { ContentLength } = await s3.send(new HeadObjectCommand({ Bucket: config.buckets.staging, Key: key }));
      if (ContentLength !== SIZE) throw new Error(`the presigned PUT stored ${ContentLength} bytes, not ${SIZE}`);
      await s3.send(new DeleteObjectCommand({ Bucket: config.buckets.staging, Key: key }));
      return SIZE / 1e6 / seconds;
    };

    const upfront: number[] = [];
    const put: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      for (const which of run % 2 === 0 ? ['upfront', 'put'] : ['put', 'upfront']) {
        if (which === 'upfront') upfront.push(await upfrontRun());
        else put.push(await putRun());
        collectGarbage(config.endpoint);
      }
    }
    const upfrontMBps = median(upfront);
    const putMBps = median(put);
    return { upfrontMBps, putMBps, ratio: upfrontMBps / putMBps, runs: RUNS, bytes: SIZE };
  } catch (error) {
    // The page's side of a failure (console errors, failed requests) is what explains it.
    throw new Error(`${error instanceof Error ? error.message : String(error)}\nbrowser log:\n${trouble.join('\n') || '(empty)'}`, { cause: error });
  } finally {
    await browser?.close();
    api?.child.kill('SIGTERM');
    s3.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchBrowserUpload();
  console.log(
    `${(r.bytes / 1024 ** 2).toFixed(0)} MiB into RGW from headless Chromium (median of ${r.runs}): upfront client ${r.upfrontMBps.toFixed(0)} MB/s, ` +
      `one presigned PUT ${r.putMBps.toFixed(0)} MB/s, ratio ${r.ratio.toFixed(2)}x`,
  );
}
