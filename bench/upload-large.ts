/**
 * 1 GiB into Ceph RGW, same RGW, same run, alternating: through @upfront/client in Node, the file
 * opened with its `fileFromPath` (create, parts signed by the API and sent straight to storage with
 * their MD5s signed in, the file's SHA-256 computed on the way, complete: assemble, verify, promote) against @aws-sdk/lib-storage's `Upload`
 * with its defaults (5 MiB parts, 4 at a time, straight into the bucket, nothing verified). MB/s of
 * each, and the ratio; also the client with its checksums off, which shows what integrity costs. And
 * what each uploaded GiB costs the API: CPU seconds of its process and the bytes that pass through it
 * (counted by a TCP proxy in front of it), per byte uploaded.
 *
 * The API server runs in its own process on core 1. The uploaders (this process) and RGW are left to
 * the scheduler: the client hashes in a worker thread, and pinning it to one core would measure a
 * client that cannot hash and send at once (BENCH_PIN_CLIENT=1 pins it to core 0 anyway).
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createClient } from '@upfront/client';
import { fileFromPath } from '@upfront/client/node';
import { s3ConfigFromEnv } from '../packages/server/src/storage/s3-config.ts';
import { createS3Client } from '../packages/server/src/storage/s3-driver.ts';
import { startTcpProxy } from '../test/support/tcp-proxy.ts';
import { writeZipLike } from '../test/support/zip.ts';
import { collectGarbage } from './rgw-gc.ts';
import { startBenchServer } from './start-server.ts';
import { median } from './median.ts';

const SIZE = Number(process.env.BENCH_LARGE_BYTES ?? 1024 ** 3);
const RUNS = Number(process.env.BENCH_LARGE_RUNS ?? 3);

export interface LargeUploadResult {
  upfrontMBps: number;
  /** The client with `checksums: false`: no MD5s, no SHA-256. */
  uncheckedMBps: number;
  sdkMBps: number;
  ratio: number;
  /** The API process's CPU seconds per uploaded GiB. */
  apiCpuSecondsPerGiB: number;
  /** Bytes through the API (both ways) per byte uploaded. */
  apiBytesPerByte: number;
  runs: number;
  bytes: number;
}

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of stat, 12 and 13 after the command name.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export async function benchLargeUpload(): Promise<LargeUploadResult> {
  const config = s3ConfigFromEnv(process.env);
  const s3 = createS3Client(config);
  const dir = await mkdtemp(join(tmpdir(), 'upfront-bench-large-'));
  const path = join(dir, 'large.zip');
  await writeZipLike(path, SIZE);
  const api = await startBenchServer(['rgw']);
  const proxy = await startTcpProxy(Number(new URL(api.url).port));
  if (process.env.BENCH_PIN_CLIENT) execFileSync('taskset', ['-a', '-cp', '0', String(process.pid)], { stdio: 'ignore' });
  try {
    const token = ((await (await fetch(`${proxy.url}/v1/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"user":"bench"}',
    })).json()) as { token: string }).token;
    const client = createClient({ endpoint: proxy.url, token });

    const upfrontRun = async (checksums = true) => {
      const [cpu, bytes] = [cpuSeconds(api.child.pid!), proxy.bytesUp + proxy.bytesDown];
      const started = performance.now();
      const file = await client.upload(await fileFromPath(path, { type: 'application/zip' }), { route: 'archive', checksums });
      const seconds = (performance.now() - started) / 1000;
      const cost = { cpu: cpuSeconds(api.child.pid!) - cpu, bytes: proxy.bytesUp + proxy.bytesDown - bytes };
      await s3.send(new DeleteObjectCommand({ Bucket: config.buckets.public, Key: file.key }));
      return { mbps: SIZE / 1e6 / seconds, ...cost };
    };
    const sdkRun = async () => {
      const key = `bench/${crypto.randomUUID()}.zip`;
      const started = performance.now();
      await new Upload({ client: s3, params: { Bucket: config.buckets.staging, Key: key, Body: createReadStream(path), ContentType: 'application/zip' } }).done();
      const seconds = (performance.now() - started) / 1000;
      await s3.send(new DeleteObjectCommand({ Bucket: config.buckets.staging, Key: key }));
      return SIZE / 1e6 / seconds;
    };

    const upfront: { mbps: number; cpu: number; bytes: number }[] = [];
    const unchecked: number[] = [];
    const sdk: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const order = ['upfront', 'sdk', 'unchecked'];
      for (const which of run % 2 === 0 ? order : order.toReversed()) {
        if (which === 'upfront') upfront.push(await upfrontRun());
        else if (which === 'unchecked') unchecked.push((await upfrontRun(false)).mbps);
        else sdk.push(await sdkRun());
        collectGarbage(config.endpoint);
      }
    }
    const upfrontMBps = median(upfront.map((r) => r.mbps));
    const sdkMBps = median(sdk);
    return {
      upfrontMBps,
      uncheckedMBps: median(unchecked),
      sdkMBps,
      ratio: upfrontMBps / sdkMBps,
      apiCpuSecondsPerGiB: median(upfront.map((r) => r.cpu)) * (1024 ** 3 / SIZE),
      apiBytesPerByte: median(upfront.map((r) => r.bytes)) / SIZE,
      runs: RUNS,
      bytes: SIZE,
    };
  } finally {
    if (process.env.BENCH_PIN_CLIENT) execFileSync('taskset', ['-a', '-cp', '0-1023', String(process.pid)], { stdio: 'ignore' });
    await proxy.close();
    api.child.kill('SIGTERM');
    s3.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchLargeUpload();
  console.log(
    `${(r.bytes / 1024 ** 3).toFixed(2)} GiB into RGW (median of ${r.runs}): upfront client ${r.upfrontMBps.toFixed(0)} MB/s, ` +
      `lib-storage ${r.sdkMBps.toFixed(0)} MB/s, upfront without checksums ${r.uncheckedMBps.toFixed(0)} MB/s, ratio ${r.ratio.toFixed(2)}x (target >= 1.2); ` +
      `API per GiB: ${r.apiCpuSecondsPerGiB.toFixed(2)} CPU s, ${r.apiBytesPerByte.toFixed(6)} bytes per byte (target <= 0.001)`,
  );
}
