/**
 * Cold start: from spawning the process to its first successful create-upload, and the memory it
 * then idles at. Upfront (the compiled CLI, `upfront serve`: disk storage, SQLite in a fresh data
 * dir, so the first start migrates it) against the smallest signing server with the usual libraries
 * (signing-server.mjs: Hono + jose + the AWS SDK presigner, no database). Both check the token
 * against the same JWKS, fetched on the first request. Each server runs pinned to core 1, this
 * process (the client) to core 0; rounds alternate which server goes first; medians are reported.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { median } from './median.ts';

const ROUNDS = Number(process.env.BENCH_COLD_ROUNDS ?? 7);
const IDLE_MS = 1500;
const cli = fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url));
const peer = fileURLToPath(new URL('./signing-server.mjs', import.meta.url));

export interface ColdStartResults {
  upfrontMs: number;
  peerMs: number;
  upfrontRssMb: number;
  peerRssMb: number;
  rounds: number;
}

interface Idp {
  env: Record<string, string>;
  token: string;
  close(): void;
}

async function startIdp(): Promise<Idp> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k', alg: 'ES256', use: 'sig' }] });
  const server = createServer((_, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(jwks));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const env = { AUTH_JWKS_URL: `${base}/jwks.json`, AUTH_ISSUER: `${base}/`, AUTH_AUDIENCE: 'bench' };
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: 'k' })
    .setSubject('bench-user')
    .setIssuer(env.AUTH_ISSUER)
    .setAudience(env.AUTH_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(privateKey);
  return { env, token, close: () => server.close() };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

/** Spawns one server, then asks for a create-upload every 2 ms until one answers 201. */
async function once(which: 'upfront' | 'peer', idp: Idp): Promise<{ ms: number; rssMb: number }> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'upfront-cold-'));
  const args = which === 'upfront' ? [cli, 'serve', '--port', String(port), '--host', '127.0.0.1'] : [peer];
  const body = JSON.stringify({ route: 'image', filename: 'photo.png', contentType: 'image/png', size: 12345 });
  const started = performance.now();
  const child: ChildProcess = spawn('taskset', ['-c', '1', process.execPath, ...args], {
    cwd: dataDir, // no upfront.config.json here: the built-in routes
    env: { ...process.env, ...idp.env, PORT: String(port), UPFRONT_DATA_DIR: dataDir, NODE_ENV: 'production' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${which} exited with ${child.exitCode} before answering`);
      const answered = await fetch(`http://127.0.0.1:${port}/v1/uploads`, {
        method: 'POST',
        headers: { authorization: `Bearer ${idp.token}`, 'content-type': 'application/json' },
        body,
      }).catch(() => undefined);
      if (answered?.status === 201) break;
      // Upfront listens first (so it knows its URL) and answers 503 until it is built.
      if (answered && answered.status !== 503) throw new Error(`${which} answered ${answered.status}: ${await answered.text()}`);
      await sleep(2);
    }
    const ms = performance.now() - started;
    await sleep(IDLE_MS);
    return { ms, rssMb: rssMb(child.pid!) };
  } finally {
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function benchColdStart(): Promise<ColdStartResults> {
  execFileSync('taskset', ['-cp', '0', String(process.pid)], { stdio: 'ignore' });
  const idp = await startIdp();
  const runs = { upfront: [] as { ms: number; rssMb: number }[], peer: [] as { ms: number; rssMb: number }[] };
  try {
    await once('upfront', idp); // warm the file cache for both
    await once('peer', idp);
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? (['upfront', 'peer'] as const) : (['peer', 'upfront'] as const);
      for (const which of order) runs[which].push(await once(which, idp));
    }
  } finally {
    idp.close();
    execFileSync('taskset', ['-cp', '0-1023', String(process.pid)], { stdio: 'ignore' });
  }
  return {
    upfrontMs: median(runs.upfront.map((r) => r.ms)),
    peerMs: median(runs.peer.map((r) => r.ms)),
    upfrontRssMb: median(runs.upfront.map((r) => r.rssMb)),
    peerRssMb: median(runs.peer.map((r) => r.rssMb)),
    rounds: ROUNDS,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchColdStart();
  console.log(
    `cold start (median of ${r.rounds}): upfront ${r.upfrontMs.toFixed(0)} ms, peer ${r.peerMs.toFixed(0)} ms, ratio ${(r.upfrontMs / r.peerMs).toFixed(2)}x; ` +
      `idle RSS upfront ${r.upfrontRssMb.toFixed(0)} MB, peer ${r.peerRssMb.toFixed(0)} MB, ratio ${(r.upfrontRssMb / r.peerRssMb).toFixed(2)}x`,
  );
}
