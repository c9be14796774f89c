/**
 * Builds the demo page into apps/web/dist: src/main.ts bundled (with @upfront/client) into app.js,
 * plus index.html, 404.html (a website bucket's error document) and styles.css copied as they are,
 * and the client's hashing worker (built by `scripts/build.sh`) next to app.js, where the client looks
 * for it. `scripts/build.sh` runs it; or import `buildWeb`.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const appDir = fileURLToPath(new URL('.', import.meta.url));
export const distDir = resolve(appDir, 'dist');

export async function buildWeb(): Promise<string> {
  await mkdir(distDir, { recursive: true });
  await build({
    entryPoints: [resolve(appDir, 'src/main.ts')],
    outfile: resolve(distDir, 'app.js'),
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    logLevel: 'warning',
  });
  for (const asset of ['index.html', '404.html', 'styles.css']) await copyFile(resolve(appDir, asset), resolve(distDir, asset));
  await copyFile(resolve(appDir, '../../packages/client/dist/hash-worker.js'), resolve(distDir, 'hash-worker.js'));
  return distDir;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  console.log(`web app built into ${await buildWeb()}`);
}
