/**
 * Builds packages/client/dist/upfront-uploader.js: <upfront-uploader> with the client, the queue and the
 * hashing worker inside (one minified IIFE for a plain script tag). `scripts/build.sh` runs it; or
 * import `buildUploader` (the browser test builds into a directory of its own).
 */
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type BuildOptions } from 'esbuild';

const clientDir = fileURLToPath(new URL('../packages/client/', import.meta.url));
export const uploaderFile = resolve(clientDir, 'dist/upfront-uploader.js');

export async function buildUploader(outfile = uploaderFile): Promise<string> {
  // From the sources (the upfront-source condition), as the client's own build does.
  const common: BuildOptions = { bundle: true, minify: true, format: 'iife', target: 'es2022', platform: 'browser', conditions: ['upfront-source'], logLevel: 'warning' };
  const worker = await build({ ...common, entryPoints: [resolve(clientDir, 'src/hash-worker.ts')], write: false });
  await build({
    ...common,
    entryPoints: [resolve(clientDir, 'src/uploader-standalone.ts')],
    outfile,
    define: {
      UPFRONT_HASH_WORKER_SOURCE: JSON.stringify(worker.outputFiles![0]!.text),
      // The element always names the worker's URL, so the client's default next to import.meta.url is never used.
      'import.meta.url': 'undefined',
    },
  });
  return outfile;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  console.log(`<upfront-uploader> built into ${await buildUploader()}`);
}
