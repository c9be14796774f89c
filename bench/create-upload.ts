/**
 * Create-upload requests per second through the real HTTP API (auth + validation + database +
 * presign), Upfront vs a reference server that differs only in presigning with the AWS SDK. Each
 * server runs in its own process; the load comes from this process over keep-alive connections.
 * The two are measured alternately, twice each, and the best round of each is kept.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { once } from 'node:events';
import { fileURLToPath, pathToFileURL } from 'node:url';

const CONCURRENCY = 16;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);

async function startServer(presigner: 'upfront' | 'aws-sdk'): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./bench-server.ts', import.meta.url)), presigner], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  return { url: chunk.toString().trim(), child };
}

function post(agent: Agent, url: URL, path: string, body: string, token?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...(token && { authorization: `Bearer ${token}` }) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function tokenFor(url: URL): Promise<string> {
  const res = await fetch(new URL('/v1/dev/token', url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user":"bench"}' });
  return ((await res.json()) as { token: string }).token;
}

/** Requests per second over `seconds`, with CONCURRENCY requests in flight. */
async function load(base: string, seconds: number): Promise<number> {
  const url = new URL(base);
  const token = await tokenFor(url);
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const body = JSON.stringify({ route: 'image', filename: 'photo.jpg', contentType: 'image/jpeg', size: 1_234_567 });
  let done = 0;
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        const status = await post(agent, url, '/v1/uploads', body, token);
        if (status !== 201) throw new Error(`create-upload answered ${status}`);
        done++;
      }
    }),
  );
  agent.destroy();
  return done / ((performance.now() - started) / 1000);
}

export async function benchCreateUpload(): Promise<{ upfront: number; reference: number }> {
  const upfront = await startServer('upfront');
  const reference = await startServer('aws-sdk');
  try {
    await load(upfront.url, 1); // warm-up
    await load(reference.url, 1);
    const best = { upfront: 0, reference: 0 };
    for (let round = 0; round < 2; round++) {
      best.upfront = Math.max(best.upfront, await load(upfront.url, SECONDS));
      best.reference = Math.max(best.reference, await load(reference.url, SECONDS));
    }
    return best;
  } finally {
    upfront.child.kill('SIGTERM');
    reference.child.kill('SIGTERM');
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchCreateUpload();
  console.log(`create-upload: upfront ${r.upfront.toFixed(0)}/s, reference (AWS SDK presigner) ${r.reference.toFixed(0)}/s, ratio ${(r.upfront / r.reference).toFixed(2)}x`);
}
