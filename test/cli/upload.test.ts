/**
 * `upfront upload` as a user runs it: a real CLI process against a real API (disk driver), several
 * files at once, single-request and multipart; --json; exit codes; and Ctrl-C in the middle of a large
 * file, after which the same command resumes the same upload and finishes it byte-identical.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { makePng } from '../support/png.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { writeZipLike } from '../support/zip.ts';

const cli = fileURLToPath(new URL('../../packages/cli/src/bin.ts', import.meta.url));
const MiB = 1024 * 1024;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI from source (the tests' own loader); `interruptWhen` sends SIGINT once it says so. */
function runCli(args: string[], env: Record<string, string> = {}, interruptWhen?: () => Promise<boolean>): Promise<Run> {
  const child = spawn(process.execPath, ['--conditions=upfront-source', '--import', 'tsx', cli, ...args], {
    cwd: fileURLToPath(new URL('../../', import.meta.url)),
    env: { ...process.env, UPFRONT_API: '', UPFRONT_TOKEN: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<Run>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  if (interruptWhen) {
    void (async () => {
      while (child.exitCode === null) {
        if (await interruptWhen()) {
          child.kill('SIGINT');
          return;
        }
        await sleep(20);
      }
    })();
  }
  return exited;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

describe('upfront upload', () => {
  let server: TestServer;
  let dir: string;
  let token: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'upfront-cli-'));
    server = await startTestServer({
      driver: 'disk',
      routes: {
        image: { types: ['image/png'], maxSize: '2GB', visibility: 'public', multipartThreshold: '6MB', partSize: '5MB' },
        archive: { types: ['application/zip'], maxSize: '2GB', visibility: 'public', multipartThreshold: '6MB', partSize: '8MB' },
        backup: { types: ['application/gzip', 'application/x-tar'], maxSize: '1GB', visibility: 'public' },
      },
    });
    token = await server.token('cli-user');
  });
  after(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const api = () => ({ UPFRONT_API: server.url, UPFRONT_TOKEN: token });

  it('uploads several files at once, single and multipart, byte-identical; --json reports each', async () => {
    const small = join(dir, 'small.png');
    const large = join(dir, 'large.png');
    await writeFile(small, makePng({ minBytes: 200_000 }));
    await writeFile(large, makePng({ minBytes: 13 * MiB }));
    const run = await runCli(['upload', small, large, '--route', 'image', '--json'], api());
    assert.equal(run.code, 0, run.stderr);
    const { files } = JSON.parse(run.stdout) as { files: { path: string; status: string; file: { url: string; sha256: string } }[] };
    assert.deepEqual(files.map((f) => [f.path, f.status]), [[small, 'uploaded'], [large, 'uploaded']]);
    for (const result of files) {
      const served = createHash('sha256').update(new Uint8Array(await (await fetch(result.file.url)).arrayBuffer())).digest('hex');
      assert.equal(served, await sha256File(result.path));
      assert.equal(result.file.sha256, served, 'the client sent the SHA-256 it computed');
    }
  });

  it('prints a line per file without a terminal, says why a file failed, and exits 1', async () => {
    const good = join(dir, 'good.png');
    const bad = join(dir, 'bad.png');
    await writeFile(good, makePng({ minBytes: 24_000_000 })); // 5 parts
    await writeFile(bad, Buffer.from('<!doctype html><script>alert(1)</script>'.padEnd(5000)));
    const run = await runCli(['upload', good, bad, '--route', 'image'], api());
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stdout, new RegExp(`${good}: uploaded http://`));
    // A line per tenth passed, in order, never 100 % (the "uploaded" line says that).
    const tenths = [...run.stdout.matchAll(new RegExp(`${good}: (\\d+) % \\(`, 'g'))].map((match) => Number(match[1]));
    assert.ok(tenths.length >= 2, run.stdout);
    assert.deepEqual(tenths, [...tenths].sort((a, b) => a - b));
    assert.ok(tenths.every((tenth) => tenth % 10 === 0 && tenth > 0 && tenth < 100), run.stdout);
    assert.match(run.stdout, new RegExp(`${bad}: failed: .+\\(content_type_mismatch\\)`));
    assert.match(run.stdout, /1 uploaded, 1 failed/);
  });

  it('declares the type from the extension: a .tar.gz and a .tar go up as gzip and tar, keys ending .gz and .tar', async () => {
    const tar = Buffer.alloc(1024);
    tar.write('a.txt', 0);
    tar.write('ustar\u000000', 257); // the POSIX tar magic file-type looks for
    const tarPath = join(dir, 'backup.tar');
    const gzPath = join(dir, 'backup.tar.gz');
    await writeFile(tarPath, tar);
    await writeFile(gzPath, gzipSync(tar));
    const run = await runCli(['upload', tarPath, gzPath, '--route', 'backup', '--json'], api());
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const { files } = JSON.parse(run.stdout) as { files: { file: { contentType: string; key: string } }[] };
    assert.deepEqual(
      files.map(({ file }) => [file.contentType, file.key.split('.').at(-1)]),
      [
        ['application/x-tar', 'tar'],
        ['application/gzip', 'gz'],
      ],
    );
  });

  it('usage errors exit 2 with a sentence', async () => {
    const file = join(dir, 'any.png');
    await writeFile(file, makePng({ minBytes: 1000 }));
    const cases: [string[], RegExp][] = [
      [['upload', file], /--route is required/],
      [['upload', '--route', 'image'], /name the files to upload/],
      [['upload', join(dir, 'missing.png'), '--route', 'image'], /no such file/],
      [['upload', dir, '--route', 'image'], /not a file/],
      [['upload', file, '--route', 'image', '--concurrency', '0'], /--concurrency is a whole number/],
      [['upload', file, '--route', 'image', '--bogus'], /Unknown option/],
      [['frobnicate'], /unknown command "frobnicate"/],
    ];
    for (const [args, message] of cases) {
      const run = await runCli(args, api());
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stdout}${run.stderr}`);
      assert.match(run.stderr, message);
    }
    const noToken = await runCli(['upload', file, '--route', 'image'], { UPFRONT_API: server.url });
    assert.equal(noToken.code, 2);
    assert.match(noToken.stderr, /give a bearer token/);
  });

  it('Ctrl-C stops a large upload; the same command resumes the same upload and finishes it', async () => {
    const big = join(dir, 'big.zip');
    await writeZipLike(big, 400 * MiB);
    const database = new Database(join(server.dataDir, 'upfront.db'), { readonly: true });
    const uploads = () =>
      database.prepare("select id, state from uploads where user_id = 'cli-user' and route = 'archive'").all() as { id: string; state: string }[];
    try {
      // Interrupt once storage holds a few of the 50 parts.
      const interrupted = await runCli(['upload', big, '--route', 'archive'], api(), async () => {
        const [upload] = uploads();
        if (!upload) return false;
        const stored = await server.upfront.services.store.getUpload(upload.id);
        const parts = stored?.multipart && (await server.upfront.services.storage.listParts(stored.key, stored.multipart.uploadId));
        return (parts?.length ?? 0) >= 3;
      });
      assert.equal(interrupted.code, 130, interrupted.stdout + interrupted.stderr);
      assert.match(interrupted.stdout, /paused; run the same command again to resume/);
      const [paused] = uploads();
      assert.equal(paused?.state, 'pending', 'the upload stays on the server');

      const resumed = await runCli(['upload', big, '--route', 'archive', '--json'], api());
      assert.equal(resumed.code, 0, resumed.stderr);
      const [done] = uploads();
      assert.equal(uploads().length, 1, 'no second upload of the same file');
      assert.equal(done?.id, paused.id);
      assert.equal(done.state, 'ready');
      const { files } = JSON.parse(resumed.stdout) as { files: { file: { sha256: string; url: string } }[] };
      assert.equal(files[0]!.file.sha256, await sha256File(big));
    } finally {
      database.close();
    }
  });
});
