/**
 * upfront upload <files…> --route <name>: uploads files through an Upfront API with @upfront/client
 * (straight to storage, in parts for large files, checksummed, retried), with progress bars on a
 * terminal, a line per event otherwise, or one JSON document with --json. Ctrl-C stops sending and
 * leaves the uploads on the server as they are; running the same command again resumes them (the
 * client finds each unfinished upload by the file's fingerprint and sends only the missing parts).
 */
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import { createClient, UpfrontError, type UploadedFile, type UploadTask } from '@upfront/client';
import { fileFromPath } from '@upfront/client/node';
import { createReporter, type Reporter } from './upload-report.ts';
import { UsageError } from './usage.ts';

/** Types by extension (as file-type names them), for the declared Content-Type; the server checks the bytes whatever is declared. */
const TYPES = new Map(
  Object.entries({
    '.png': 'image/png',
    '.jpg': 'image/jpeg',
    '.jpeg': 'image/jpeg',
    '.gif': 'image/gif',
    '.webp': 'image/webp',
    '.avif': 'image/avif',
    '.heic': 'image/heic',
    '.pdf': 'application/pdf',
    '.zip': 'application/zip',
    '.tar': 'application/x-tar',
    '.gz': 'application/gzip',
    '.tgz': 'application/gzip',
    '.bz2': 'application/x-bzip2',
    '.xz': 'application/x-xz',
    '.zst': 'application/zstd',
    '.7z': 'application/x-7z-compressed',
    '.mov': 'video/quicktime',
    '.mkv': 'video/matroska',
    '.mp4': 'video/mp4',
    '.webm': 'video/webm',
    '.mp3': 'audio/mpeg',
    '.ogg': 'audio/ogg',
    '.wav': 'audio/wav',
    '.flac': 'audio/flac',
  }),
);

export interface FileResult {
  path: string;
  size: number;
  status: 'uploaded' | 'failed' | 'paused';
  file?: UploadedFile;
  error?: { code: string; detail: string };
}

/** Exit code: 0 all uploaded, 1 some failed, 130 paused by Ctrl-C (usage errors throw UsageError: 2). */
export async function runUpload(args: string[]): Promise<number> {
  const { values, positionals: paths } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      route: { type: 'string' },
      api: { type: 'string' },
      token: { type: 'string' },
      'dev-user': { type: 'string' },
      type: { type: 'string' },
      concurrency: { type: 'string' },
      'part-concurrency': { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  if (!values.route) throw new UsageError('--route is required: the name of one of the server\'s routes (see GET /v1/routes)');
  if (paths.length === 0) throw new UsageError('name the files to upload: upfront upload <files…> --route <name>');
  const concurrency = count(values.concurrency, 2, '--concurrency');
  const partConcurrency = count(values['part-concurrency'], 4, '--part-concurrency');
  const api = (values.api ?? process.env.UPFRONT_API ?? 'http://localhost:3000').replace(/\/+$/, '');
  if (!URL.canParse(api)) throw new UsageError(`--api must be a URL (got ${JSON.stringify(api)})`);
  const sizes = await Promise.all(paths.map(fileSize));
  const token = values.token ?? process.env.UPFRONT_TOKEN ?? (values['dev-user'] ? await devToken(api, values['dev-user']) : undefined);
  if (!token) throw new UsageError('give a bearer token with --token or UPFRONT_TOKEN (or --dev-user <name> with a dev server)');

  const client = createClient({ endpoint: api, token, partConcurrency });
  const reporter = createReporter(values.json ? 'json' : process.stdout.isTTY ? 'bars' : 'lines', paths, sizes);
  // Ctrl-C: stop sending at once, leave every upload on the server for the next run to resume.
  const interrupt = new AbortController();
  const onSigint = () => interrupt.abort();
  process.once('SIGINT', onSigint);
  try {
    const results = await inPool(paths.length, concurrency, (index) =>
      uploadOne(client, paths[index]!, sizes[index]!, values.route!, values.type, interrupt.signal, reporter, index),
    );
    reporter.finish(results);
    if (results.some((result) => result.status === 'paused')) return 130;
    return results.every((result) => result.status === 'uploaded') ? 0 : 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

async function uploadOne(
  client: ReturnType<typeof createClient>,
  path: string,
  size: number,
  route: string,
  type: string | undefined,
  signal: AbortSignal,
  reporter: Reporter,
  index: number,
): Promise<FileResult> {
  if (signal.aborted) return { path, size, status: 'paused' };
  const contentType = type ?? TYPES.get(extname(path).toLowerCase()) ?? 'application/octet-stream';
  reporter.started(index);
  let task: UploadTask | undefined;
  try {
    // Read by path, a MiB at a time, with its real size (Node's fs.openAsBlob misreports 4 GiB and more).
    task = client.upload(await fileFromPath(path, { type: contentType }), {
      route,
      signal,
      onProgress: ({ loaded }) => reporter.progress(index, loaded),
    });
    const file = await task;
    reporter.done(index, file);
    return { path, size, status: 'uploaded', file };
  } catch (error) {
    if (signal.aborted) {
      reporter.paused(index);
      return { path, size, status: 'paused' };
    }
    const failure = error instanceof UpfrontError ? { code: error.code, detail: error.detail } : { code: 'error', detail: String(error) };
    reporter.failed(index, failure);
    return { path, size, status: 'failed', error: failure };
  }
}

/** Runs `work(0…n-1)` with at most `limit` at once; results in index order. */
async function inPool<T>(n: number, limit: number, work: (index: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(n);
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < n; index = next++) results[index] = await work(index);
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
  return results;
}

async function fileSize(path: string): Promise<number> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new UsageError(`${path}: no such file`);
  if (!info.isFile()) throw new UsageError(`${path}: not a file`);
  if (info.size === 0) throw new UsageError(`${path}: the file is empty`);
  return info.size;
}

function count(value: string | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError(`${what} is a whole number from 1 to 64 (got ${JSON.stringify(value)})`);
  return n;
}

/** A token from a dev server's dev sign-in (POST /v1/dev/token). */
async function devToken(api: string, user: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(`${api}/v1/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user }) });
  } catch {
    throw new UsageError(`cannot reach the API at ${api} for a dev token; is it running? (set --api or UPFRONT_API)`);
  }
  const body = (await response.json().catch(() => ({}))) as { token?: string; detail?: string };
  if (!response.ok || !body.token) {
    throw new UsageError(`--dev-user: the API gave no dev token (${response.status}${body.detail ? `: ${body.detail}` : ''}); use --token instead`);
  }
  return body.token;
}
