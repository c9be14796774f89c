/**
 * Completing a 1 GiB upload against a 1 KB one on the disk driver, through the real HTTP API (dev
 * issuer, SQLite, an in-process Upfront server): promotion links the staged file instead of copying
 * its bytes, and the ETag checks trust the sidecar written for that very file, so both sizes should
 * complete in the same time. Each run sends a 1 GiB upload (streamed from a sparse file on disk: a ZIP
 * header, then zeros) and a 1 KB one, waits SETTLE_MS, then completes both in turn, alternating which
 * goes first; only `POST /v1/uploads/:id/complete` is timed. Medians, ratio large / small.
 *
 * Right after a 1 GiB write this machine's disk answers every fsync slower for a while (measured: four
 * fsyncs of an unrelated 1-byte file take ~2.3x as long), and complete makes two (the promoted copy's
 * sidecar, SQLite's commit). Completing both sizes at the same moment after the same writes gives
 * both the same disk to work with, so the ratio shows what the file's size costs, not the upload's
 * aftermath.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, statfs, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '@upfront/server';
import { serve } from '@upfront/server/node';
import { median } from './median.ts';

const LARGE = 1024 ** 3;
const SMALL = 1024;
/** Timed completes of each size. */
const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const SETTLE_MS = 1000;
// At most: the source file (where files cannot be sparse), the staged upload and its promoted copy
// (where the promoted object cannot be a link to the staged one).
const DISK_NEEDED = 3 * LARGE;

export type CompleteDiskResult = { smallMs: number; largeMs: number; ratio: number; runs: number };

/** A file of `size` bytes that file-type recognises as application/zip: a local file header, then zeros. */
async function writeZipLike(file: string, size: number): Promise<void> {
  const header = Buffer.alloc(35);
  header.writeUInt32LE(0x04034b50, 0); // local file header signature "PK\3\4"
  header.writeUInt16LE(20, 4); // version needed to extract
  header.writeUInt16LE(5, 26); // file name length
  header.write('a.bin', 30);
  await writeFile(file, header);
  const handle = await open(file, 'r+');
  await handle.truncate(size); // sparse: the padding takes no disk space here
  await handle.close();
}

/** PUT the file to a presigned URL, streamed from disk. */
async function putFile(url: string, headers: Record<string, string>, file: string, size: number): Promise<void> {
  const req = request(url, { method: 'PUT', headers: { ...headers, 'content-length': String(size) } });
  const answered = new Promise<number>((resolve, reject) => {
    req.on('response', (res) => res.resume().on('end', () => resolve(res.statusCode ?? 0)));
    req.on('error', reject);
  });
  await pipeline(createReadStream(file), req);
  const status = await answered;
  if (status !== 200) throw new Error(`storage answered the PUT with ${status}`);
}


export async function benchCompleteDisk(): Promise<CompleteDiskResult> {
  const workDir = await mkdtemp(join(tmpdir(), 'upfront-bench-complete-'));
  try {
    const { bavail, bsize } = await statfs(workDir);
    if (bavail * bsize < DISK_NEEDED) throw new Error(`complete-disk needs ${(DISK_NEEDED / 1024 ** 3).toFixed(1)} GiB free in ${tmpdir()}`);
    const configFile = join(workDir, 'upfront.config.json');
    const route = { types: ['application/zip'], maxSize: '2GB', keyTemplate: '{user}/{uuid}.{ext}', visibility: 'public', expiresIn: 600, strategy: 'put' };
    await writeFile(configFile, JSON.stringify({ routes: { archive: route } }));
    // The server runs in this process: its request log lines (info) would mix with the bench's report.
    const config = loadConfig({ mode: 'dev', file: configFile, env: { UPFRONT_DATA_DIR: join(workDir, 'data'), STORAGE_DRIVER: 'disk', LOG_LEVEL: 'warn' } });
    const server = await serve(config, { port: 0 });
    try {
      return await measure(server.url, workDir);
    } finally {
      await server.close();
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

async function measure(baseUrl: string, workDir: string): Promise<CompleteDiskResult> {
  const smallFile = join(workDir, 'small.zip');
  const largeFile = join(workDir, 'large.zip');
  await writeZipLike(smallFile, SMALL);
  await writeZipLike(largeFile, LARGE);
  const api = async (path: string, init: { method: string; token?: string; json?: unknown }): Promise<Response> => {
    const response = await fetch(baseUrl + path, {
      method: init.method,
      headers: { ...(init.token && { authorization: `Bearer ${init.token}` }), ...(init.json !== undefined && { 'content-type': 'application/json' }) },
      ...(init.json !== undefined && { body: JSON.stringify(init.json) }),
    });
    if (!response.ok) throw new Error(`${init.method} ${path}: ${response.status} ${await response.text()}`);
    return response;
  };
  const { token } = (await (await api('/v1/dev/token', { method: 'POST', json: { user: 'bench' } })).json()) as { token: string };

  /** Creates an upload of `file` (`size` bytes) and sends it; returns its id. */
  async function send(file: string, size: number): Promise<string> {
    const created = (await (await api('/v1/uploads', {
      method: 'POST', token, json: { route: 'archive', filename: 'bench.zip', contentType: 'application/zip', size },
    })).json()) as { id: string; put: { url: string; headers: Record<string, string> } };
    await putFile(created.put.url, created.put.headers, file, size);
    return created.id;
  }

  /** Completes one sent upload: returns the complete's milliseconds. */
  async function complete(id: string): Promise<number> {
    const started = performance.now();
    const response = await api(`/v1/uploads/${id}/complete`, { method: 'POST', token });
    const promoted = (await response.json()) as { id: string };
    const elapsed = performance.now() - started;
    await api(`/v1/files/${promoted.id}`, { method: 'DELETE', token }); // frees the 1 GiB before the next upload
    return elapsed;
  }

  await complete(await send(smallFile, SMALL)); // warm-up: lazy imports (file-type), prepared statements
  const small: number[] = [];
  const large: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    // Both sizes are sent, then completed in turn (which first alternates): each complete meets the disk
    // in the same state, so what differs is only the size of the file.
    const largeId = await send(largeFile, LARGE);
    const smallId = await send(smallFile, SMALL);
    await sleep(SETTLE_MS);
    if (run % 2 === 0) {
      large.push(await complete(largeId));
      small.push(await complete(smallId));
    } else {
      small.push(await complete(smallId));
      large.push(await complete(largeId));
    }
  }
  const smallMs = median(small);
  const largeMs = median(large);
  return { smallMs, largeMs, ratio: largeMs / smallMs, runs: RUNS };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchCompleteDisk();
  console.log(
    `complete on the disk driver: 1 KB ${r.smallMs.toFixed(2)} ms, 1 GiB ${r.largeMs.toFixed(2)} ms (medians of ${r.runs} runs each); ratio ${r.ratio.toFixed(2)} (target <= 1.5)`,
  );
}
