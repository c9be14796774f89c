/**
 * Completing a 10 MB PNG upload on Ceph RGW: Upfront's `POST /v1/uploads/:id/complete` through the
 * real HTTP API (head, ranged GET for type sniffing, SQLite state changes, copy, file record, delete,
 * answer) against the bare storage calls any promotion needs (HEAD + CopyObject + DeleteObject) made
 * directly with an S3 client configured exactly like the driver's. The Upfront server runs in its own
 * process (bench/bench-server.ts rgw); both are measured in alternation, only the complete (respectively
 * the three calls) is timed, and medians are reported.
 *
 * Needs a running RGW: the S3_* environment of scripts/rgw/start.sh, and RGW_DIR (default
 * /tmp/upfront-rgw) for its garbage collection between batches: deleted data stays in the 2 GiB
 * memstore OSD until then.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { CopyObjectCommand, DeleteObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { s3ConfigFromEnv } from '../packages/server/src/storage/s3-config.ts';
import { createS3Client, createS3Driver } from '../packages/server/src/storage/s3-driver.ts';
import { makePng } from '../test/support/png.ts';
import { collectGarbage } from './rgw-gc.ts';
import { startBenchServer } from './start-server.ts';
import { median } from './median.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const WARM_UP = 3;
/** Rounds between two RGW garbage collections (each round stages and promotes 20 MB). */
const GC_EVERY = 10;
const FILE_BYTES = 10_000_000;

export type CompleteRgwResult = { upfrontMs: number; bareMs: number; ratio: number; runs: number };

/** taskset (util-linux) and two cores or more: then the server and this process get a core each. */
function canPin(): boolean {
  try {
    return availableParallelism() >= 2 && execFileSync('taskset', ['-V']).length > 0;
  } catch {
    return false;
  }
}

/** Sets the CPU affinity of every thread of `pid`; returns the list it had (`0,1`, `0-3`). */
function setAffinity(pid: number, cpus: string): string {
  const current = execFileSync('taskset', ['-c', '-p', String(pid)], { encoding: 'utf8' }).split(':').at(-1)!.trim();
  execFileSync('taskset', ['-a', '-c', '-p', cpus, String(pid)], { stdio: 'ignore' });
  return current;
}



export async function benchCompleteRgw(): Promise<CompleteRgwResult> {
  const config = s3ConfigFromEnv(process.env);
  const client = createS3Client(config);
  const driver = createS3Driver(config);
  const png = new Uint8Array(makePng({ width: 512, height: 512, minBytes: FILE_BYTES }));
  const pin = canPin();
  const server = await startBenchServer(['rgw'], { pin });
  const ownAffinity = pin ? setAffinity(process.pid, '0') : undefined;

  const api = (path: string, init: RequestInit = {}): Promise<Response> => fetch(server.url + path, init);
  let authorization = ''; // Bearer <dev token>, fetched first thing below

  /** Stages the PNG with a signed PUT (not timed). */
  async function put(url: string, headers: Record<string, string> | undefined): Promise<void> {
    const response = await fetch(url, { method: 'PUT', headers, body: png });
    if (response.status !== 200) throw new Error(`staging PUT answered ${response.status}: ${await response.text()}`);
  }
  async function removePublic(key: string): Promise<void> {
    await client.send(new DeleteObjectCommand({ Bucket: config.buckets.public, Key: key }));
  }

  async function upfrontRun(): Promise<number> {
    const created = await api('/v1/uploads', {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ route: 'image', filename: 'photo.png', contentType: 'image/png', size: png.length }),
    });
    if (created.status !== 201) throw new Error(`create-upload answered ${created.status}: ${await created.text()}`);
    const upload = (await created.json()) as { id: string; key: string; put: { url: string; headers?: Record<string, string> } };
    await put(upload.put.url, upload.put.headers);

    const started = performance.now();
    const completed = await api(`/v1/uploads/${upload.id}/complete`, { method: 'POST', headers: { authorization } });
    const body = await completed.text();
    const elapsed = performance.now() - started;
    if (completed.status !== 200) throw new Error(`complete answered ${completed.status}: ${body}`);
    await removePublic(upload.key);
    return elapsed;
  }

  async function bareRun(): Promise<number> {
    const key = `bench/${randomUUID()}.png`;
    const signed = await driver.presignPut({ key, contentType: 'image/png', contentLength: png.length, expiresIn: 600 });
    await put(signed.url, signed.headers);

    const started = performance.now();
    const head = await client.send(new HeadObjectCommand({ Bucket: config.buckets.staging, Key: key }));
    await client.send(
      new CopyObjectCommand({
        Bucket: config.buckets.public,
        Key: key,
        CopySource: `${config.buckets.staging}/${key}`,
        MetadataDirective: 'REPLACE',
        ContentType: 'image/png',
        CacheControl: 'public, max-age=31536000, immutable',
        ...(head.ETag !== undefined && { CopySourceIfMatch: head.ETag }),
      }),
    );
    await client.send(new DeleteObjectCommand({ Bucket: config.buckets.staging, Key: key }));
    const elapsed = performance.now() - started;
    await removePublic(key);
    return elapsed;
  }

  try {
    const tokenResponse = await api('/v1/dev/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user":"bench"}' });
    authorization = `Bearer ${((await tokenResponse.json()) as { token: string }).token}`;
    collectGarbage(config.endpoint);
    for (let i = 0; i < WARM_UP; i++) {
      await upfrontRun();
      await bareRun();
    }
    const upfront: number[] = [];
    const bare: number[] = [];
    for (let round = 0; round < RUNS; round++) {
      if (round % GC_EVERY === 0) collectGarbage(config.endpoint);
      // Alternate who goes first, so neither always runs right after the other's traffic.
      if (round % 2 === 0) {
        upfront.push(await upfrontRun());
        bare.push(await bareRun());
      } else {
        bare.push(await bareRun());
        upfront.push(await upfrontRun());
      }
    }
    collectGarbage(config.endpoint);
    const upfrontMs = median(upfront);
    const bareMs = median(bare);
    return { upfrontMs, bareMs, ratio: upfrontMs / bareMs, runs: RUNS };
  } finally {
    server.child.kill('SIGTERM');
    client.destroy();
    if (ownAffinity !== undefined) setAffinity(process.pid, ownAffinity);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchCompleteRgw();
  console.log(
    `complete (10 MB PNG, RGW): upfront ${r.upfrontMs.toFixed(1)} ms, bare HEAD+COPY+DELETE ${r.bareMs.toFixed(1)} ms, ` +
      `ratio ${r.ratio.toFixed(2)} (target <= 1.1); medians of ${r.runs} runs each`,
  );
}
