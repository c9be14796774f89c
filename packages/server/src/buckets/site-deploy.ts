/**
 * `upfront site deploy`: uploads a built front end into the website bucket, each file with its
 * Content-Type and a Cache-Control chosen by its name. A name that carries a content hash
 * (app.3f9a1c2e.js, index-B7xq2k9Z.js) never gets other bytes, so browsers and CDNs keep it a year;
 * any other file (index.html, a worker loaded by a fixed name) is revalidated on each use. Pages go
 * last, so a new page never names an asset not uploaded yet; then the files the previous deploy
 * uploaded and this one did not are removed (a manifest in the bucket lists them; nothing else is
 * touched). Dotfiles are never uploaded.
 */
import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { S3DriverConfig } from '../storage/s3-config.ts';
import { createS3Client } from '../storage/s3-driver.ts';
import type { SiteConfig } from './website.ts';

export interface DeployOptions {
  /** The Upfront API's URL, written into each page's `<meta name="upfront-api">`, for a site on another origin. */
  api?: string;
  /** The OpenID Connect provider pages sign in with, written into `<meta name="upfront-oidc-issuer">` and `upfront-oidc-client-id`. */
  oidc?: { issuer: string; clientId: string };
  /** Credentials allowed to write the site bucket; default the API's own. */
  admin?: { accessKeyId: string; secretAccessKey: string };
}

export interface DeployedFile {
  key: string;
  contentType: string;
  cacheControl: string;
  size: number;
}

export interface DeployResult {
  bucket: string;
  url: string;
  files: DeployedFile[];
  /** What the previous deploy uploaded and this one removed. */
  removed: string[];
  warnings: string[];
}

/** The bucket is missing, or storage refused a write. */
export class DeployError extends Error {
  override name = 'DeployError';
}

export const IMMUTABLE = 'public, max-age=31536000, immutable';
export const REVALIDATE = 'no-cache';
const MANIFEST = '.upfront-site.json';
const CONCURRENCY = 4;

const TEXT = '; charset=utf-8';
const TYPES: Record<string, string> = {
  '.html': `text/html${TEXT}`,
  '.htm': `text/html${TEXT}`,
  '.css': `text/css${TEXT}`,
  '.js': `text/javascript${TEXT}`,
  '.mjs': `text/javascript${TEXT}`,
  '.json': `application/json${TEXT}`,
  '.map': `application/json${TEXT}`,
  '.webmanifest': `application/manifest+json${TEXT}`,
  '.txt': `text/plain${TEXT}`,
  '.xml': `application/xml${TEXT}`,
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.pdf': 'application/pdf',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
};

export const contentTypeOf = (name: string): string => TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream';

/**
 * Whether a file's name carries a content hash: a `.` or `-` separated part of 8 or more letters and
 * digits with both in it, just before the extension (bundlers' `[name]-[hash]`, `[name].[contenthash]`).
 * A plain word (settings.js) is no hash; a hash without digits is missed, which only costs revalidation.
 */
export function isHashed(name: string): boolean {
  const part = /[.-]([A-Za-z0-9_]{8,})\.[A-Za-z0-9]+$/.exec(name.split('/').at(-1)!)?.[1];
  return part !== undefined && /\d/.test(part) && /[A-Za-z]/.test(part);
}

export const cacheControlOf = (key: string): string => (isHashed(key) ? IMMUTABLE : REVALIDATE);

export async function deploySite(config: S3DriverConfig, site: SiteConfig, dir: string, options: DeployOptions = {}): Promise<DeployResult> {
  const paths = await filesIn(dir);
  const keys = paths.map((path) => relative(dir, path).split(sep).join('/'));
  const warnings: string[] = [];
  for (const [what, name] of [['indexDocument', site.indexDocument], ['errorDocument', site.errorDocument]] as const) {
    if (!keys.includes(name)) warnings.push(`${dir} has no ${name} (the site's ${what}): ${what === 'indexDocument' ? 'its address shows an error' : 'missing pages show the store\'s own error'}.`);
  }
  const s3 = createS3Client(options.admin ? { ...config, ...options.admin, sessionToken: undefined } : config);
  try {
    const previous = await readManifest(s3, site.bucket);
    const fills = Object.entries({ 'upfront-api': options.api, 'upfront-oidc-issuer': options.oidc?.issuer, 'upfront-oidc-client-id': options.oidc?.clientId })
      .filter((fill): fill is [string, string] => fill[1] !== undefined);
    const filled = new Set<string>();
    const files = await Promise.all(
      paths.map(async (path, index) => {
        const key = keys[index]!;
        let body = await readFile(path);
        if (/\.html?$/i.test(key)) {
          for (const [name, value] of fills) {
            const page = fillMeta(body.toString('utf8'), name, value);
            if (page === undefined) continue;
            body = Buffer.from(page);
            filled.add(name);
          }
        }
        return { key, body, contentType: contentTypeOf(key), cacheControl: cacheControlOf(key) };
      }),
    );
    if (options.api !== undefined && !filled.has('upfront-api')) warnings.push(`no page has <meta name="upfront-api" content="">: --api ${options.api} was written nowhere, so pages must find the API themselves.`);
    if (options.oidc && !filled.has('upfront-oidc-issuer')) warnings.push('no page has <meta name="upfront-oidc-issuer" content="">: the OpenID Connect provider was written nowhere.');
    // Assets first, pages last: a page may only appear once what it loads is there.
    const isPage = (key: string) => /\.html?$/i.test(key);
    for (const batch of [files.filter((file) => !isPage(file.key)), files.filter((file) => isPage(file.key))]) {
      for (let i = 0; i < batch.length; i += CONCURRENCY) {
        await Promise.all(
          batch.slice(i, i + CONCURRENCY).map((file) =>
            attempt(site.bucket, `upload ${file.key}`, () =>
              s3.send(new PutObjectCommand({ Bucket: site.bucket, Key: file.key, Body: file.body, ContentType: file.contentType, CacheControl: file.cacheControl })),
            ),
          ),
        );
      }
    }
    const removed = previous.filter((key) => !keys.includes(key));
    for (const key of removed) await attempt(site.bucket, `remove ${key}`, () => s3.send(new DeleteObjectCommand({ Bucket: site.bucket, Key: key })));
    const manifest = new PutObjectCommand({ Bucket: site.bucket, Key: MANIFEST, Body: JSON.stringify({ files: keys }), ContentType: 'application/json', CacheControl: 'no-store' });
    await attempt(site.bucket, 'write the deploy manifest', () => s3.send(manifest));
    return {
      bucket: site.bucket,
      url: site.url,
      files: files.map(({ key, body, contentType, cacheControl }) => ({ key, contentType, cacheControl, size: body.length })),
      removed,
      warnings,
    };
  } finally {
    s3.destroy();
  }
}

/** The page with its `<meta name="…">` (upfront-api, upfront-oidc-…) set to `value`; undefined when it has none. */
function fillMeta(page: string, name: string, value: string): string | undefined {
  const meta = new RegExp(`<meta\\s+name="${name}"\\s+content="[^"]*"\\s*\\/?>`, 'i');
  if (!meta.test(page)) return undefined;
  const escaped = value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  // A function, so a "$" in the value is not read as a replacement pattern.
  return page.replace(meta, () => `<meta name="${name}" content="${escaped}">`);
}

/** Every file under `dir`, sorted, without dotfiles and what dot-directories hold. */
async function filesIn(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    throw new DeployError(`cannot read ${dir}: ${error.code ?? error.message}`);
  });
  const paths = entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
  const visible = paths.filter((path) => !relative(dir, path).split(sep).some((part) => part.startsWith('.'))).sort();
  if (visible.length === 0) throw new DeployError(`${dir} has no files to deploy`);
  return visible;
}

async function readManifest(s3: S3Client, bucket: string): Promise<string[]> {
  try {
    const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: MANIFEST }));
    const { files } = JSON.parse(await answer.Body!.transformToString()) as { files?: unknown };
    return Array.isArray(files) ? files.filter((key): key is string => typeof key === 'string') : [];
  } catch (error) {
    const { name } = error as { name?: string };
    if (name === 'NoSuchKey') return [];
    if (name === 'NoSuchBucket') throw new DeployError(`the site bucket ${bucket} does not exist: run \`upfront setup\` first`);
    throw new DeployError(`${bucket}: could not read the last deploy's manifest: ${name}: ${(error as Error).message}`, { cause: error });
  }
}

async function attempt(bucket: string, what: string, run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (error) {
    const { name } = error as { name?: string };
    const hint = name === 'AccessDenied' ? ': the credential may not write it; give an admin one (S3_ADMIN_ACCESS_KEY_ID, S3_ADMIN_SECRET_ACCESS_KEY)' : '';
    throw new DeployError(`${bucket}: could not ${what}: ${name}${hint}`, { cause: error });
  }
}
