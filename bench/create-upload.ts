/**
 * Create-upload requests per second through the real HTTP API (auth + validation + database +
 * presign), Upfront vs a reference server that differs only in presigning with the AWS SDK. Each
 * server runs in its own process; the load comes from this process over raw keep-alive connections.
 * The servers are measured in turn, three rounds, and the best round of each is kept (this machine is
 * shared and noisy; the best round is the one least disturbed).
 */
import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import { startBenchServer } from './start-server.ts';

const CONCURRENCY = 16;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);

/**
 * One keep-alive connection sending the same pre-built request again and again; the client must cost
 * far less than the server, or the benchmark measures the client (node:http costs ~100 µs a request).
 */
async function connectionLoop(url: URL, raw: Buffer, until: number, count: () => void): Promise<void> {
  const socket = connect(Number(url.port), url.hostname);
  socket.setNoDelay(true);
  await once(socket, 'connect');
  let buffered: Buffer = Buffer.alloc(0);
  try {
    while (performance.now() < until) {
      socket.write(raw);
      // Read one response: headers, then Content-Length bytes of body.
      for (;;) {
        const headerEnd = buffered.indexOf('\r\n\r\n');
        if (headerEnd >= 0) {
          const head = buffered.subarray(0, headerEnd).toString('latin1');
          const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
          if (buffered.length >= headerEnd + 4 + length) {
            if (!head.startsWith('HTTP/1.1 201')) throw new Error(`create-upload answered ${head.split('\r\n')[0]}`);
            buffered = buffered.subarray(headerEnd + 4 + length);
            break;
          }
        }
        const [chunk] = (await once(socket, 'data')) as [Buffer];
        buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      }
      count();
    }
  } finally {
    socket.destroy();
  }
}

async function tokenFor(url: URL): Promise<string> {
  const res = await fetch(new URL('/v1/dev/token', url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user":"bench"}' });
  return ((await res.json()) as { token: string }).token;
}

/** Requests per second over `seconds`, with CONCURRENCY requests in flight. */
async function load(base: string, seconds: number): Promise<number> {
  const url = new URL(base);
  const token = await tokenFor(url);
  const body = JSON.stringify({ route: 'image', filename: 'photo.jpg', contentType: 'image/jpeg', size: 1_234_567 });
  const raw = Buffer.from(
    `POST /v1/uploads HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${token}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  let done = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  await Promise.all(Array.from({ length: CONCURRENCY }, () => connectionLoop(url, raw, until, () => done++)));
  return done / ((performance.now() - started) / 1000);
}

export type CreateUploadResults = { upfront: number; upfrontNormal: number; reference: number; floor: number };

export async function benchCreateUpload(): Promise<CreateUploadResults> {
  execFileSync('taskset', ['-cp', '0', String(process.pid)], { stdio: 'ignore' });
  const servers = {
    upfront: await startBenchServer(['upfront']),
    upfrontNormal: await startBenchServer(['upfront-normal']),
    reference: await startBenchServer(['aws-sdk']),
    floor: await startBenchServer(['floor']),
  };
  const names = Object.keys(servers) as (keyof CreateUploadResults)[];
  try {
    for (const name of names) await load(servers[name].url, 1); // warm-up
    const best: CreateUploadResults = { upfront: 0, upfrontNormal: 0, reference: 0, floor: 0 };
    for (let round = 0; round < 3; round++) {
      for (const name of names) best[name] = Math.max(best[name], await load(servers[name].url, SECONDS));
    }
    return best;
  } finally {
    for (const { child } of Object.values(servers)) child.kill('SIGTERM');
    execFileSync('taskset', ['-cp', '0-1023', String(process.pid)], { stdio: 'ignore' });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchCreateUpload();
  console.log(
    `create-upload: upfront ${r.upfront.toFixed(0)}/s (synchronous=normal ${r.upfrontNormal.toFixed(0)}/s), ` +
      `reference (AWS SDK presigner) ${r.reference.toFixed(0)}/s, ratio ${(r.upfront / r.reference).toFixed(2)}x; no-work floor ${r.floor.toFixed(0)}/s`,
  );
}
