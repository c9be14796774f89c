/**
 * The client as a browser app ships it: src/index.ts bundled with esbuild (minified ESM), at most
 * 5 KB gzipped, with no hash-wasm inside; hash-wasm lives in the separate hashing worker, which the
 * client loads only when an upload starts.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { build, type BuildResult } from 'esbuild';

const source = (path: string) => fileURLToPath(new URL(`../../packages/client/src/${path}`, import.meta.url));
const LIMIT = 5 * 1024;

async function bundle(entry: string, format: 'esm' | 'iife'): Promise<{ code: string; inputs: string[] }> {
  const result: BuildResult<{ write: false; metafile: true }> = await build({
    entryPoints: [source(entry)],
    bundle: true,
    minify: true,
    format,
    platform: 'browser',
    // The sources, as in development; the browser build of #platform (no "node" condition).
    conditions: ['upfront-source'],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return { code: result.outputFiles[0]!.text, inputs: Object.keys(result.metafile.inputs) };
}

const hashWasm = (code: string, inputs: string[]) => inputs.some((input) => input.includes('hash-wasm')) || /AGFzbQ|createMD5|createSHA256/.test(code);

describe('client bundle size', () => {
  it(`the main bundle is at most ${LIMIT} bytes gzipped`, async (t) => {
    const { code } = await bundle('index.ts', 'esm');
    const gzipped = gzipSync(code, { level: 9 }).length;
    t.diagnostic(`main bundle: ${code.length} bytes minified, ${gzipped} bytes gzipped`);
    assert.ok(gzipped <= LIMIT, `${gzipped} bytes gzipped`);
  });

  it('the main bundle has no hash-wasm and no Node code; it loads the worker by URL', async () => {
    const { code, inputs } = await bundle('index.ts', 'esm');
    assert.equal(hashWasm(code, inputs), false, 'hash-wasm is in the main bundle');
    assert.ok(!inputs.some((input) => /node-(hasher|stream|file)|(fetch|http)-transfer/.test(input)), `Node modules in the browser bundle: ${inputs.join(', ')}`);
    assert.doesNotMatch(code, /node:/);
    assert.match(code, /new URL\("\.\/hash-worker\.js",import\.meta\.url\)/);
  });

  it('the worker carries hash-wasm itself (so the check above can see it)', async (t) => {
    const { code, inputs } = await bundle('hash-worker.ts', 'iife');
    t.diagnostic(`worker: ${code.length} bytes minified, ${gzipSync(code, { level: 9 }).length} bytes gzipped`);
    assert.equal(hashWasm(code, inputs), true);
  });
});
