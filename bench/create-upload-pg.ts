/**
 * Uploads in bursts of 500 at once (as a page of many files, or many users, start them), on PostgreSQL
 * with pools of 10 and 50 connections, against the same server on SQLite measured in the same run:
 * - `create`: 500 concurrent create-upload requests alone (s3 driver: presigning only);
 * - `whole`: 500 concurrent whole uploads on the disk driver (create, PUT of a small PNG, complete),
 *   timing the create and the complete of each: creates then wait behind completes' transactions.
 * Reports median and p95 latencies and the burst's throughput; the server runs in its own process
 * pinned to core 1, the load on core 0.
 */
import { execFileSync } from 'node:child_process';
import { Agent, request } from 'node:http';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { makePng } from '../test/support/png.ts';
import { startBenchServer } from './start-server.ts';

const BURST = 500;
const ROUNDS = 3;
const postgresUrl = process.env.DATABASE_URL_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface BurstResult {
  medianMs: number;
  p95Ms: number;
  perSecond: number;
}

interface Sent {
  ms: number;
  status: number;
  body: string;
}

function send(agent: Agent, url: URL, method: string, headers: Record<string, string | number>, body: string | Buffer): Promise<Sent> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ ms: performance.now() - started, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function expect(sent: Sent, status: number, what: string): Sent {
  if (sent.status !== status) throw new Error(`${what} answered ${sent.status}: ${sent.body.slice(0, 200)}`);
  return sent;
}

const png = makePng({ width: 16, height: 16, minBytes: 10_000 });

/** One whole upload: create, PUT, complete; the create's and the complete's latencies. */
async function wholeUpload(agent: Agent, base: string, token: string): Promise<[number, number]> {
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const body = JSON.stringify({ route: 'image', filename: 'photo.png', contentType: 'image/png', size: png.length });
  const created = expect(await send(agent, new URL('/v1/uploads', base), 'POST', auth, body), 201, 'create-upload');
  const upload = JSON.parse(created.body) as { id: string; put: { url: string; headers: Record<string, string> } };
  expect(await send(agent, new URL(upload.put.url), 'PUT', upload.put.headers, png), 200, 'the PUT');
  const completed = expect(await send(agent, new URL(`/v1/uploads/${upload.id}/complete`, base), 'POST', auth, ''), 200, 'complete');
  return [created.ms, completed.ms];
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

/** The best of ROUNDS bursts (by median create latency); `whole` also times completes. */
async function burst(base: string, whole: boolean): Promise<{ create: BurstResult; complete?: BurstResult }> {
  const tokenRes = await fetch(new URL('/v1/dev/token', base), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user":"bench"}' });
  const { token } = (await tokenRes.json()) as { token: string };
  const createBody = JSON.stringify({ route: 'image', filename: 'photo.jpg', contentType: 'image/jpeg', size: 1_234_567 });
  const agent = new Agent({ keepAlive: true, maxSockets: BURST });
  const one = async (): Promise<[number, number]> =>
    whole
      ? wholeUpload(agent, base, token)
      : [expect(await send(agent, new URL('/v1/uploads', base), 'POST', { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, createBody), 201, 'create-upload').ms, 0];
  let best: { create: BurstResult; complete?: BurstResult } | undefined;
  try {
    await Promise.all(Array.from({ length: BURST }, one)); // warm-up: opens the connections
    for (let round = 0; round < ROUNDS; round++) {
      const started = performance.now();
      const timings = await Promise.all(Array.from({ length: BURST }, one));
      const perSecond = BURST / ((performance.now() - started) / 1000);
      const summary = (latencies: number[]): BurstResult => {
        const sorted = latencies.sort((a, b) => a - b);
        return { medianMs: percentile(sorted, 0.5), p95Ms: percentile(sorted, 0.95), perSecond };
      };
      const result = { create: summary(timings.map(([create]) => create)), ...(whole && { complete: summary(timings.map(([, complete]) => complete)) }) };
      if (!best || result.create.medianMs < best.create.medianMs) best = result;
    }
    return best!;
  } finally {
    agent.destroy();
  }
}

type Database = 'sqlite' | 'postgres10' | 'postgres50';
export type CreateUploadPgResults = Record<Database, { create: BurstResult; whole: { create: BurstResult; complete: BurstResult } }>;

export async function benchCreateUploadPg(): Promise<CreateUploadPgResults> {
  execFileSync('taskset', ['-cp', '0', String(process.pid)], { stdio: 'ignore' });
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  const schemas: string[] = [];
  const pgUrl = (name: string) => {
    const schema = `upfront_bench_${name}_${process.pid}`;
    schemas.push(schema);
    const url = new URL(postgresUrl);
    url.searchParams.set('schema', schema);
    return url.toString();
  };
  const results: Partial<Record<Database, Partial<CreateUploadPgResults[Database]>>> = {};
  try {
    const setups: [Database, string, Record<string, string>][] = [
      ['sqlite', 'upfront', {}],
      ['postgres10', 'upfront-pg', { DATABASE_POOL_SIZE: '10' }],
      ['postgres50', 'upfront-pg', { DATABASE_POOL_SIZE: '50' }],
    ];
    for (const whole of [false, true]) {
      for (const [name, mode, env] of setups) {
        Object.assign(process.env, env, { BENCH_STORAGE_DRIVER: whole ? 'disk' : 's3', BENCH_DATABASE_URL: pgUrl(`${name}_${whole ? 'w' : 'c'}`) });
        const server = await startBenchServer([mode]);
        try {
          const result = await burst(server.url, whole);
          results[name] = { ...results[name], ...(whole ? { whole: result as CreateUploadPgResults[Database]['whole'] } : { create: result.create }) };
        } finally {
          server.child.kill('SIGTERM');
        }
      }
    }
    return results as CreateUploadPgResults;
  } finally {
    for (const schema of schemas) await admin.query(`drop schema if exists ${schema} cascade`);
    await admin.end();
    execFileSync('taskset', ['-cp', '0-1023', String(process.pid)], { stdio: 'ignore' });
  }
}

export function formatBurst({ medianMs, p95Ms, perSecond }: BurstResult): string {
  return `median ${medianMs.toFixed(0)} ms, p95 ${p95Ms.toFixed(0)} ms, ${perSecond.toFixed(0)}/s`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchCreateUploadPg();
  for (const [name, result] of Object.entries(r)) {
    console.log(`${name}: creates alone ${formatBurst(result.create)}; whole uploads: create ${formatBurst(result.whole.create)}, complete ${formatBurst(result.whole.complete)}`);
  }
}
