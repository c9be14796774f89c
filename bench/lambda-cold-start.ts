/**
 * Lambda cold start: in a new node process, the import of the bundled handler plus its first invocation
 * with a create-upload request (API Gateway HTTP API event, payload 2.0). Upfront's bundle is what
 * `upfront lambda build` writes (S3 on RGW, PostgreSQL, JWTs checked against a JWKS fetched on the first
 * request; the schema migrated once before, as a deployed function finds it); the peer is the usual
 * tutorial function (lambda-peer.mjs: the AWS SDK's client and presigner, no auth, no database) bundled
 * by esbuild the same way; and the same function with Upfront's duties (lambda-peer-checked.mjs: the
 * JWT checked against the JWKS, one INSERT into PostgreSQL, then the presign), the floor of any function
 * doing this work; and those duties alone, without signing (lambda-floor.mjs). Each process runs pinned to core 1, this one to core 0; rounds alternate which
 * goes first; medians are reported. Both run lambda-cold-invoke.mjs, which times from before the import
 * to the first answer (node's own start-up, the same for both, is left out and reported apart).
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { unzipSync } from 'fflate';
import pg from 'pg';
import { startIdp } from '../test/support/idp.ts';
import { median } from './median.ts';

const ROUNDS = Number(process.env.BENCH_LAMBDA_ROUNDS ?? 9);
const postgresUrl = process.env.DATABASE_URL_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
const invoker = fileURLToPath(new URL('./lambda-cold-invoke.mjs', import.meta.url));
const peerSource = fileURLToPath(new URL('./lambda-peer.mjs', import.meta.url));
const checkedPeerSource = fileURLToPath(new URL('./lambda-peer-checked.mjs', import.meta.url));
const floorSource = fileURLToPath(new URL('./lambda-floor.mjs', import.meta.url));
// Run from source (--conditions=upfront-source), the CLI too; else the compiled one scripts/bench.sh builds.
const fromSource = process.execArgv.some((arg) => arg.includes('upfront-source'));
const cli = fileURLToPath(new URL(fromSource ? '../packages/cli/src/bin.ts' : '../packages/cli/dist/bin.js', import.meta.url));
// This process's loader, found from here: the build runs in a directory of its own.
const execArgv = process.execArgv.map((arg) => (arg === 'tsx' ? import.meta.resolve('tsx') : arg));

interface Cold {
  importMs: number;
  firstInvokeMs: number;
  coldMs: number;
  sinceSpawnMs: number;
}

export interface LambdaColdStartResults {
  upfront: Cold;
  peer: Cold;
  /** The peer with Upfront's duties (JWT, PostgreSQL, presign). */
  checkedPeer: Cold;
  /** The JWT and the INSERT alone: no function with Upfront's duties starts faster. */
  floor: Cold;
  upfrontBundleBytes: number;
  peerBundleBytes: number;
  rounds: number;
}

/** The same esbuild settings as `upfront lambda build` (packages/cli/src/lambda-bundle.ts). */
async function bundlePeer(source: string, outfile: string): Promise<void> {
  await build({
    entryPoints: [source],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    mainFields: ['module', 'main'],
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
    external: ['pg-native'],
    banner: { js: "import { createRequire as __upfrontRequire } from 'node:module'; const require = __upfrontRequire(import.meta.url);" },
  });
}

async function once_(bundle: string, eventFile: string, env: NodeJS.ProcessEnv): Promise<Cold> {
  const child = spawn('taskset', ['-c', '1', process.execPath, invoker, bundle, eventFile], { cwd: dirname(bundle), env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const exited = once(child, 'exit');
  const [message] = (await Promise.race([once(child, 'message'), exited.then(([code]) => Promise.reject(new Error(`${bundle} exited with ${String(code)} before answering`)))])) as [Cold & { statusCode: number; body: string }];
  await exited;
  if (message.statusCode !== 201) throw new Error(`${bundle} answered ${message.statusCode}: ${message.body}`);
  return message;
}

function medians(runs: Cold[]): Cold {
  return {
    importMs: median(runs.map((r) => r.importMs)),
    firstInvokeMs: median(runs.map((r) => r.firstInvokeMs)),
    coldMs: median(runs.map((r) => r.coldMs)),
    sinceSpawnMs: median(runs.map((r) => r.sinceSpawnMs)),
  };
}

export async function benchLambdaColdStart(): Promise<LambdaColdStartResults> {
  const dir = mkdtempSync(join(tmpdir(), 'upfront-lambda-bench-'));
  const idp = await startIdp();
  const schema = `upfront_lambda_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  execFileSync('taskset', ['-cp', '0', String(process.pid)], { stdio: 'ignore' });
  try {
    const database = new URL(postgresUrl);
    database.searchParams.set('schema', schema);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...idp.env,
      STORAGE_DRIVER: 's3',
      DATABASE_URL: database.href,
      DATABASE_POOL_SIZE: '2',
      NODE_ENV: 'production',
    };
    delete env.NODE_OPTIONS;
    execFileSync(process.execPath, [...execArgv, cli, 'lambda', 'build', '--out', join(dir, 'out')], { cwd: dir, env, stdio: 'ignore' });
    const upfrontDir = join(dir, 'upfront');
    for (const [name, bytes] of Object.entries(unzipSync(readFileSync(join(dir, 'out', 'upfront-lambda.zip'))))) {
      mkdirSync(dirname(join(upfrontDir, name)), { recursive: true });
      writeFileSync(join(upfrontDir, name), bytes);
    }
    const upfront = join(upfrontDir, 'index.mjs');
    const peer = join(dir, 'peer', 'index.mjs');
    await bundlePeer(peerSource, peer);
    const checkedPeer = join(dir, 'checked-peer', 'index.mjs');
    await bundlePeer(checkedPeerSource, checkedPeer);
    const floor = join(dir, 'floor', 'index.mjs');
    await bundlePeer(floorSource, floor);
    await admin.query('create table if not exists lambda_peer_uploads (key text primary key, user_id text not null, content_type text not null, size bigint not null, created_at timestamptz not null default now())');
    const peerEnv = { ...env, AWS_REGION: env.S3_REGION, AWS_ACCESS_KEY_ID: env.S3_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: env.S3_SECRET_ACCESS_KEY, BUCKET: env.S3_BUCKET_STAGING };

    const token = await idp.sign({ sub: 'bench-user' }, { expiresIn: 3600 });
    const event = JSON.parse(readFileSync(fileURLToPath(new URL('../test/lambda/fixtures/apigw-v2.json', import.meta.url)), 'utf8')) as { headers: Record<string, string>; body: string };
    event.headers.authorization = `Bearer ${token}`;
    event.body = JSON.stringify({ route: 'image', filename: 'photo.png', contentType: 'image/png', size: 12345 });
    const eventFile = join(dir, 'event.json');
    writeFileSync(eventFile, JSON.stringify(event));

    await once_(upfront, eventFile, env); // migrates the schema, as a deployed function's first start did; warms the file cache
    const checkedEnv = { ...peerEnv, PEER_DATABASE_URL: postgresUrl };
    await once_(peer, eventFile, peerEnv);
    await once_(checkedPeer, eventFile, checkedEnv);
    await once_(floor, eventFile, checkedEnv);
    const functions = {
      upfront: () => once_(upfront, eventFile, env),
      peer: () => once_(peer, eventFile, peerEnv),
      checkedPeer: () => once_(checkedPeer, eventFile, checkedEnv),
      floor: () => once_(floor, eventFile, checkedEnv),
    };
    const runs = { upfront: [] as Cold[], peer: [] as Cold[], checkedPeer: [] as Cold[], floor: [] as Cold[] };
    const names = Object.keys(functions) as (keyof typeof functions)[];
    for (let round = 0; round < ROUNDS; round++) {
      // Each goes first in turn.
      for (let at = 0; at < names.length; at++) {
        const which = names[(round + at) % names.length]!;
        runs[which].push(await functions[which]());
      }
    }
    return {
      upfront: medians(runs.upfront),
      peer: medians(runs.peer),
      checkedPeer: medians(runs.checkedPeer),
      floor: medians(runs.floor),
      upfrontBundleBytes: readFileSync(upfront).byteLength,
      peerBundleBytes: readFileSync(peer).byteLength,
      rounds: ROUNDS,
    };
  } finally {
    execFileSync('taskset', ['-cp', '0-1023', String(process.pid)], { stdio: 'ignore' });
    await admin.query(`drop schema if exists ${schema} cascade`).catch(() => undefined);
    await admin.query('drop table if exists lambda_peer_uploads').catch(() => undefined);
    await admin.end();
    await idp.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchLambdaColdStart();
  const row = (c: Cold) => `import ${c.importMs.toFixed(0)} ms + first invoke ${c.firstInvokeMs.toFixed(0)} ms = ${c.coldMs.toFixed(0)} ms (since spawn ${c.sinceSpawnMs.toFixed(0)} ms)`;
  console.log(`lambda cold start (median of ${r.rounds}):\n  upfront ${row(r.upfront)}, bundle ${(r.upfrontBundleBytes / 1024).toFixed(0)} KB\n  peer    ${row(r.peer)}, bundle ${(r.peerBundleBytes / 1024).toFixed(0)} KB\n  checked ${row(r.checkedPeer)}\n  floor   ${row(r.floor)}\n  ratio ${(r.upfront.coldMs / r.peer.coldMs).toFixed(2)}x`);
}
