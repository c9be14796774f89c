/**
 * Builds the demo app into apps/web/dist with Vite (React): index.html, its hashed assets under
 * assets/ (including the client's hashing worker, which Vite finds next to @upfront/client's module
 * and emits beside the bundle), and public/ (404.html, a website bucket's error document) as it is.
 * Paths are relative (`base: './'`), so the same build works at `/` from `upfront dev` and from a
 * website bucket. The workspace packages are bundled from their dist/, so `scripts/build.sh` builds
 * them first and then runs this; or import `buildWeb`.
 */
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import react from '@vitejs/plugin-react';
import { build } from 'vite';

const appDir = fileURLToPath(new URL('.', import.meta.url));
export const distDir = resolve(appDir, 'dist');

export async function buildWeb(): Promise<string> {
  await build({
    configFile: false,
    root: appDir,
    base: './',
    logLevel: 'warn',
    plugins: [react()],
    build: {
      outDir: distDir,
      emptyOutDir: true,
      sourcemap: true,
      target: 'es2022',
      // Hex hashes of 12: names `upfront site deploy` recognises as hashed (letters and digits), so it
      // caches them for a year; Vite's default base64 hashes may hold a "-" and would be revalidated.
      rolldownOptions: {
        output: {
          hashCharacters: 'hex',
          entryFileNames: 'assets/[name]-[hash:12].js',
          chunkFileNames: 'assets/[name]-[hash:12].js',
          assetFileNames: 'assets/[name]-[hash:12][extname]',
        },
      },
    },
  });
  return distDir;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  console.log(`web app built into ${await buildWeb()}`);
}
