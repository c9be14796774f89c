/**
 * The Lambda function's code: @upfront/server/lambda's handler bundled by esbuild into one ES module,
 * with only what the configuration uses. Left out: the disk driver and SQLite (Lambda has no disk that
 * lasts; better-sqlite3 is native code built for this machine), the AWS SDK's presigners (the s3 driver
 * signs by itself; they serve a benchmark's reference setting only), and sharp unless a route runs the
 * image processor: then sharp stays a package of its own, shipped with its Linux x64 binaries.
 */
import { dirname, join, relative, resolve } from 'node:path';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import type { UpfrontConfig } from '@upfront/server';
import { UsageError } from './usage.ts';

export interface LambdaBundle {
  /** index.mjs, exporting `handler`, and the chunks it imports when it needs them (chunks/), by their path in the zip. */
  code: Record<string, Uint8Array>;
  /** Files for the zip's node_modules (sharp's packages), by their path in the zip. */
  packages: Record<string, Uint8Array>;
}

const here = dirname(fileURLToPath(import.meta.url));
/** Run from its TypeScript sources (the repository's tests), the CLI bundles the server's sources too. */
const fromSource = import.meta.url.endsWith('.ts');

const usesImageProcessor = (config: UpfrontConfig): boolean => [...config.routes.values()].some((route) => route.processors?.includes('image'));

export async function bundleLambda(config: UpfrontConfig): Promise<LambdaBundle> {
  const sharp = usesImageProcessor(config);
  // Nothing is written there (write: false): the output files' paths are relative to it.
  const outdir = resolve('lambda');
  const leftOut: [RegExp, string][] = [
    [/(^|\/)disk-(driver|endpoint|lifecycle)\.[jt]s$/, 'the disk driver (Lambda stores files in S3)'],
    [/^better-sqlite3$/, 'SQLite (Lambda keeps its metadata in PostgreSQL)'],
    [/^@aws-sdk\/(s3-request-presigner|s3-presigned-post)$/, 'the AWS SDK presigners (Upfront signs by itself)'],
    ...(sharp ? [] : [[/^sharp$/, 'sharp (no route runs the image processor)'] as [RegExp, string]]),
  ];
  const result = await build({
    stdin: { contents: "export { handler } from '@upfront/server/lambda';", resolveDir: here, loader: 'js', sourcefile: 'lambda-entry.js' },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    // What the server imports dynamically (the AWS SDK with the s3 driver's storage calls, the sweeper,
    // webhook delivery, image processing) goes into chunks of its own, read only when first used: in one
    // file, a cold start would parse it all.
    splitting: true,
    outdir,
    entryNames: 'index',
    chunkNames: 'chunks/[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    // Dependencies' ES module builds where they have one: esbuild can leave out and split those, not CommonJS.
    mainFields: ['module', 'main'],
    ...(fromSource && { conditions: ['upfront-source'] }),
    minify: true,
    legalComments: 'none',
    write: false,
    logLevel: 'silent',
    // CommonJS dependencies bundled into an ES module still call require() for node's own modules.
    banner: { js: "import { createRequire as __upfrontRequire } from 'node:module'; const require = __upfrontRequire(import.meta.url);" },
    // pg's native binding is optional and not installed; sharp, when used, ships as a package.
    external: ['pg-native', ...(sharp ? ['sharp'] : [])],
    plugins: [leaveOut(leftOut)],
  });
  const code = Object.fromEntries(result.outputFiles.map((file) => [relative(outdir, file.path), file.contents]));
  return { code, packages: sharp ? sharpPackages() : {} };
}

/** Modules replaced by one that throws when loaded: only paths the configuration never takes import them. */
function leaveOut(modules: [RegExp, string][]): Plugin {
  return {
    name: 'upfront-leave-out',
    setup(builder) {
      builder.onResolve({ filter: /.*/ }, ({ path }) => {
        const match = modules.find(([pattern]) => pattern.test(path));
        return match ? { path, namespace: 'upfront-left-out', pluginData: match[1] } : undefined;
      });
      builder.onLoad({ filter: /.*/, namespace: 'upfront-left-out' }, ({ path, pluginData }) => ({
        contents: `throw new Error(${JSON.stringify(`${path} is not in this Lambda bundle: \`upfront lambda build\` leaves out ${pluginData as string}.`)});`,
        loader: 'js',
      }));
    },
  };
}

/** sharp and the packages it loads on Linux x64 (glibc, as Lambda's), from the CLI's node_modules. */
function sharpPackages(): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  const seen = new Set<string>();
  const add = (name: string, from: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const manifest = packageManifest(name, from);
    if (manifest === undefined) {
      throw new UsageError(
        `a route runs the image processor, so the function needs sharp's ${name}, which is not installed here; ` +
          'install it for Lambda first: npm install --os=linux --cpu=x64 --libc=glibc sharp',
      );
    }
    const dir = dirname(manifest);
    for (const file of filesUnder(dir)) files[`node_modules/${name}/${relative(dir, file)}`] = readFileSync(file);
    const { dependencies = {}, optionalDependencies = {} } = JSON.parse(readFileSync(manifest, 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
    for (const dependency of Object.keys(dependencies)) add(dependency, dir);
    // Of sharp's binaries, Lambda's platform only.
    for (const dependency of Object.keys(optionalDependencies)) if (/^@img\/sharp-(libvips-)?linux-x64$/.test(dependency)) add(dependency, dir);
  };
  add('sharp', here);
  return files;
}

/** Where node would find the package from `dir` (its package.json; `exports` may not list that file). */
function packageManifest(name: string, dir: string): string | undefined {
  for (let at = dir; ; at = dirname(at)) {
    const manifest = join(at, 'node_modules', name, 'package.json');
    if (existsSync(manifest)) return manifest;
    if (dirname(at) === at) return undefined;
  }
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile());
}
