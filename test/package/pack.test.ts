/**
 * The packages as a user gets them: `npm pack` the compiled @upfront/server, @upfront/client,
 * @upfront/cli, @upfront/react and @upfront/uppy, install the tarballs into a new project in a temp directory outside the repository,
 * and there: mount the server from a plain Node script (no TypeScript loader) and upload a file
 * through it with the installed client, bundle the client for a browser, and run `npx upfront --help`.
 * Needs `npm run build` first (npm test does it); installing compiles better-sqlite3 (~1 min).
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { makePng } from '../support/png.ts';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../../', import.meta.url));
const packages = ['server', 'client', 'cli', 'react', 'uppy'];

let dir: string;
let project: string;

before(async () => {
  for (const name of packages) {
    if (!existsSync(join(repo, 'packages', name, 'dist'))) {
      throw new Error(`packages/${name}/dist is missing: run "npm run build" first (npm test does).`);
    }
  }
  dir = await mkdtemp(join(tmpdir(), 'upfront-pack-'));
  assert.ok(!dir.startsWith(repo), 'the project lives outside the repository');
  await run('npm', ['pack', '--silent', ...packages.flatMap((name) => ['--workspace', `packages/${name}`]), '--pack-destination', dir], { cwd: repo });
  const tarballs = (await readdir(dir)).filter((name) => name.endsWith('.tgz')).map((name) => join(dir, name));
  assert.equal(tarballs.length, packages.length, `a tarball per package: ${tarballs.join(', ')}`);
  project = join(dir, 'app');
  await mkdir(project);
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'an-app', private: true, type: 'module' }));
  // --prefer-offline: the dependencies come from npm's cache, which the repository's `npm ci` filled.
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs], {
    cwd: project,
    maxBuffer: 16 * 1024 * 1024,
  });
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the packed packages, installed in a new project', () => {
  it('ship compiled JavaScript, declarations and source maps, and no tests', async () => {
    for (const name of packages) {
      const installed = join(project, 'node_modules', '@upfront', name);
      const manifest = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8')) as { exports?: Record<string, string | { default: string; types?: string }> };
      for (const target of Object.values(manifest.exports ?? {})) {
        // Files shipped as they are (a stylesheet, the one-script-tag uploader) have no declarations.
        const file = typeof target === 'string' ? target : target.default;
        assert.match(file, /^\.\/dist\/.*\.(js|css)$/);
        assert.ok(existsSync(join(installed, file)), `${name}: ${file}`);
        if (typeof target === 'string' || target.types === undefined) continue;
        assert.ok(existsSync(join(installed, target.types)), `${name}: ${target.types}`);
        assert.ok(existsSync(join(installed, `${target.default}.map`)), `${name}: source map`);
      }
      assert.equal(existsSync(join(installed, 'test')), false);
    }
  });

  it('a plain Node script mounts the server; an upload through the installed client lands', async () => {
    const png = makePng({ width: 8, height: 8, minBytes: 3000 });
    await writeFile(join(project, 'picture.png'), png);
    await writeFile(
      join(project, 'server.js'),
      `import { loadConfig } from '@upfront/server';
import { serve } from '@upfront/server/node';

const config = loadConfig({ mode: 'dev', env: { UPFRONT_DATA_DIR: './data' } });
const server = await serve(config, { port: 0 });
console.log(server.url);
process.on('SIGTERM', () => server.close().then(() => process.exit(0)));
`,
    );
    await writeFile(
      join(project, 'upload.js'),
      `import { createClient } from '@upfront/client';
import { fileFromPath } from '@upfront/client/node';

const endpoint = process.argv[2];
const { token } = await (await fetch(endpoint + '/v1/dev/token', {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'alice' }),
})).json();
const upfront = createClient({ endpoint, token });
const file = await upfront.upload(await fileFromPath('picture.png', { type: 'image/png' }), { route: 'image' });
console.log(JSON.stringify(file));
`,
    );
    // Plain `node`: the installed packages must run without any loader.
    const server = spawn(process.execPath, ['server.js'], { cwd: project, stdio: ['ignore', 'pipe', 'inherit'], env: cleanEnv() });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        server.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
        server.once('exit', (code) => reject(new Error(`server.js exited with ${code}`)));
      });
      const { stdout } = await run(process.execPath, ['upload.js', url], { cwd: project, env: cleanEnv() });
      const file = JSON.parse(stdout) as { contentType: string; size: number; url: string; visibility: string };
      assert.equal(file.contentType, 'image/png');
      assert.equal(file.size, png.length);
      assert.equal(file.visibility, 'public');
      const served = await fetch(file.url);
      assert.equal(served.status, 200);
      assert.deepEqual(Buffer.from(await served.arrayBuffer()), png);
    } finally {
      server.kill('SIGTERM');
    }
  });

  it('the client bundles for a browser', async () => {
    await writeFile(
      join(project, 'browser.js'),
      `import { createClient, UpfrontError } from '@upfront/client';
window.upfront = createClient({ endpoint: location.origin, token: 'x' });
window.UpfrontError = UpfrontError;
`,
    );
    const result = await build({
      absWorkingDir: project,
      entryPoints: ['browser.js'],
      bundle: true,
      platform: 'browser', // fails on any Node built-in
      format: 'esm',
      minify: true,
      write: false,
      logLevel: 'silent',
    });
    const bundle = result.outputFiles[0]!.text;
    assert.ok(bundle.length > 1000 && bundle.length < 30_000, `bundle of ${bundle.length} bytes`);
    assert.doesNotMatch(bundle, /node:|require\(/);
  });

  it('@upfront/react, the queue, <upfront-uploader> and @upfront/uppy bundle for a browser with their peers', async () => {
    await writeFile(
      join(project, 'react-app.jsx'),
      `import { createClient } from '@upfront/client';
import { defineUploader } from '@upfront/client/uploader';
import { UpfrontProvider, UploadDropzone } from '@upfront/react';
import '@upfront/react/styles.css';
import Uppy from '@uppy/core';
import { Upfront } from '@upfront/uppy';
defineUploader();
new Uppy().use(Upfront, { endpoint: location.origin, token: 'x', route: 'image' });
window.app = <UpfrontProvider client={createClient({ endpoint: location.origin, token: 'x' })}><UploadDropzone route="image" /></UpfrontProvider>;
`,
    );
    const result = await build({
      absWorkingDir: project,
      entryPoints: ['react-app.jsx'],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      jsx: 'automatic',
      outdir: 'out',
      write: false,
      logLevel: 'silent',
    });
    const code = result.outputFiles.find((file) => file.path.endsWith('.js'))!.text;
    assert.match(code, /upfront-dropzone/);
    assert.match(code, /upfront-uploader/);
    assert.ok(result.outputFiles.some((file) => file.path.endsWith('.css')), 'the stylesheet is bundled');
  });

  it('npx upfront --help runs the installed CLI', async () => {
    const { stdout } = await run('npx', ['--no-install', 'upfront', '--help'], { cwd: project, env: cleanEnv() });
    assert.match(stdout, /^Usage: upfront <command>/);
    assert.match(stdout, /serve/);
  });
});

/** The environment without this repository's test settings (S3_*, AUTH_*, NODE_OPTIONS with a loader). */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(S3_|AUTH_|UPFRONT_|DATABASE_URL|NODE_OPTIONS$|STORAGE_DRIVER$|CORS_ORIGINS$)/.test(name)),
  );
}
