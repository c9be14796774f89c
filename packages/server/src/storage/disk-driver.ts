/**
 * The `disk` driver: objects are plain files under `<dataDir>/objects/<bucket>/<key>`, each with a JSON
 * sidecar at the same relative path under `<dataDir>/meta/`. Uploads reach it through its own HTTP
 * endpoint (disk-endpoint.ts) with the same SigV4-signed requests S3 takes, so the rest of Upfront
 * cannot tell it from a real object store.
 *
 * Every write goes to `<dataDir>/tmp` first and is renamed into place, so a reader never sees half an
 * object and a refused upload leaves nothing behind. The object and its sidecar are renamed one after
 * the other; a reader racing an overwrite may see the previous sidecar for an instant, which is why the
 * size always comes from the file itself and a sidecar of another size is not trusted for the ETag.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { ObjectChangedError } from './errors.ts';
import { createPresigner } from './presigner.ts';
import { objectUrl, type Credentials } from './sigv4.ts';
import type {
  Bucket,
  CopyOptions,
  ObjectHead,
  ObjectRef,
  PresignedPost,
  PresignedPut,
  PresignGetInput,
  PresignPostInput,
  PresignPutInput,
  ReadOptions,
  StorageDriver,
} from './types.ts';

/** ETag of an empty object: MD5 of no bytes. */
const EMPTY_ETAG = '"d41d8cd98f00b204e9800998ecf8427e"';

export interface DiskDriverConfig {
  /** Objects under `<dataDir>/objects/<bucket>/<key>`, metadata beside them under `<dataDir>/meta/`. */
  dataDir: string;
  /** Public URL of the endpoint, e.g. `http://localhost:3000/storage`; objects are `<baseUrl>/<bucket>/<key>`. */
  baseUrl: string;
  /** Signing secret: the driver's one credential, with access key id `upfront-disk`. */
  secret: string;
  /** SigV4 region; default `local`. */
  region?: string;
}

/** What the endpoint stores with an object and serves back as headers. */
export interface ObjectMetadata {
  contentType: string;
  cacheControl?: string;
  contentDisposition?: string;
}

export interface StoredObject extends ObjectMetadata {
  size: number;
  /** Quoted MD5 of the bytes, as S3 gives it; absent when the sidecar is missing or stale. */
  etag?: string;
  lastModified: Date;
}

/** An object opened for reading: `body` streams (part of) it and closes the file; `close` if unused. */
export interface OpenedObject {
  object: StoredObject;
  body(range?: { start: number; end: number }): ReadableStream<Uint8Array>;
  close(): Promise<void>;
}

/** Bounds checked while the bytes stream in; the object is only put in place if all hold. */
export interface WriteLimits {
  minSize: number;
  maxSize: number;
  /** Base64 MD5 the bytes must have (from Content-MD5). */
  contentMd5?: string;
  /** Quoted hex MD5 (ETag) the bytes must have, else ObjectChangedError: a conditional copy. */
  etag?: string;
}

export type ByteSource = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

export type DiskErrorCode =
  | 'InvalidKey'
  | 'KeyTooLong'
  | 'KeyConflict'
  | 'NoSuchKey'
  | 'EntityTooLarge'
  | 'EntityTooSmall'
  | 'BadDigest';

export class DiskStorageError extends Error {
  constructor(
    readonly code: DiskErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DiskStorageError';
  }
}

export interface DiskDriver extends StorageDriver {
  readonly kind: 'disk';
  // The disk driver always signs synchronously.
  presignPut(input: PresignPutInput): PresignedPut;
  presignPost(input: PresignPostInput): PresignedPost;
  presignGet(bucket: Bucket, key: string, input: PresignGetInput): string;
  /** Endpoint URL the driver signs for. */
  readonly baseUrl: string;
  readonly region: string;
  /** Signing credentials by access key id, for verifying requests. */
  lookupCredentials(accessKeyId: string): Credentials | undefined;
  /** Streams `body` into place atomically, or throws DiskStorageError (nothing written) if a limit fails. */
  writeObject(bucket: Bucket, key: string, body: ByteSource, metadata: ObjectMetadata, limits: WriteLimits): Promise<StoredObject>;
  /** Opens an object for reading, or null if it does not exist. */
  openObject(bucket: Bucket, key: string): Promise<OpenedObject | null>;
}

export const DISK_ACCESS_KEY_ID = 'upfront-disk';
const BUCKETS: readonly Bucket[] = ['staging', 'public', 'private'];
const MAX_KEY_BYTES = 1024;
// Most file systems cap one path component at 255 bytes.
const MAX_SEGMENT_BYTES = 255;
const READ_CHUNK = 64 * 1024;
// Temp files older than this belong to writes that died with the process.
const STALE_TEMP_MS = 24 * 60 * 60 * 1000;

export function isBucket(name: string): name is Bucket {
  return (BUCKETS as readonly string[]).includes(name);
}

/**
 * Why `key` cannot name a file here, or undefined if it can. Keys arrive from the network, so anything
 * that could leave the bucket's directory or confuse the file system is refused outright.
 */
export function keyProblem(key: string): { code: 'InvalidKey' | 'KeyTooLong'; message: string } | undefined {
  if (key === '') return { code: 'InvalidKey', message: 'The object key is empty.' };
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) {
    return { code: 'KeyTooLong', message: `The object key is longer than ${MAX_KEY_BYTES} bytes.` };
  }
  // Control characters (NUL included) and backslashes (a separator on Windows) have no place in a key.
  if (/[\u0000-\u001f\u007f\\]/.test(key)) {
    return { code: 'InvalidKey', message: 'The object key contains a control character or a backslash.' };
  }
  for (const segment of key.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') {
      return { code: 'InvalidKey', message: 'The object key has an empty, "." or ".." path segment (or starts or ends with "/").' };
    }
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) {
      return { code: 'KeyTooLong', message: `A path segment of the object key is longer than ${MAX_SEGMENT_BYTES} bytes.` };
    }
  }
  return undefined;
}

interface Sidecar extends ObjectMetadata {
  size: number;
  etag: string;
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

// The path is a file where a directory is needed or the other way round: `a` and `a/b` cannot both exist.
const CONFLICT_CODES = new Set(['ENOTDIR', 'EISDIR', 'EEXIST', 'ENOTEMPTY']);
// Codes meaning "no object here" when opening or deleting.
const MISSING_CODES = new Set(['ENOENT', 'ENOTDIR', 'EISDIR']);

async function writeAll(handle: FileHandle, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < chunk.byteLength) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.byteLength - offset);
    offset += bytesWritten;
  }
}

async function unlinkQuietly(file: string): Promise<void> {
  await unlink(file).catch(() => undefined);
}

export function createDiskDriver(config: DiskDriverConfig): DiskDriver {
  const region = config.region ?? 'local';
  const baseUrl = config.baseUrl.replace(/\/+$/, '');
  const credentials: Credentials = { accessKeyId: DISK_ACCESS_KEY_ID, secretAccessKey: config.secret };
  const presigner = createPresigner({ endpoint: baseUrl, forcePathStyle: true, credentials, region, bucketName: (bucket) => bucket });
  const root = path.resolve(config.dataDir);
  const tmpDir = path.join(root, 'tmp');

  /** `<root>/<tree>/<bucket>/<key>`, after checking the key and, to be sure, that the path stays inside. */
  function filePath(tree: 'objects' | 'meta', bucket: Bucket, key: string): string {
    if (!isBucket(bucket)) throw new DiskStorageError('InvalidKey', `There is no bucket ${JSON.stringify(bucket)}.`);
    const problem = keyProblem(key);
    if (problem) throw new DiskStorageError(problem.code, problem.message);
    const bucketDir = path.join(root, tree, bucket);
    const file = path.resolve(bucketDir, key);
    if (!file.startsWith(bucketDir + path.sep)) throw new DiskStorageError('InvalidKey', 'The object key leaves its bucket.');
    return file;
  }

  /** A fresh temp file name, on the same file system as the objects so that rename is atomic. */
  async function tempPath(): Promise<string> {
    await mkdir(tmpDir, { recursive: true });
    return path.join(tmpDir, randomUUID());
  }

  /** Renames a finished temp file to `target`, creating its directories (again, if a delete pruned them). */
  async function place(temp: string, target: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await mkdir(path.dirname(target), { recursive: true });
        await rename(temp, target);
        return;
      } catch (error) {
        const code = errorCode(error);
        if (code === 'ENOENT' && attempt < 3) continue;
        if (code && CONFLICT_CODES.has(code)) {
          throw new DiskStorageError('KeyConflict', 'The object key collides with another key: one names a "directory" of the other.');
        }
        if (code === 'ENAMETOOLONG') throw new DiskStorageError('KeyTooLong', 'The object key is too long for the file system.');
        throw error;
      }
    }
  }

  /** Removes the key's now-empty directories, up to the bucket's own. */
  async function prune(tree: 'objects' | 'meta', bucket: Bucket, file: string): Promise<void> {
    const bucketDir = path.join(root, tree, bucket);
    for (let dir = path.dirname(file); dir.startsWith(bucketDir + path.sep); dir = path.dirname(dir)) {
      try {
        await rmdir(dir);
      } catch {
        return; // not empty (or already gone): the directories above are needed too
      }
    }
  }

  async function readSidecar(bucket: Bucket, key: string): Promise<Sidecar | undefined> {
    try {
      return JSON.parse(await readFile(filePath('meta', bucket, key), 'utf8')) as Sidecar;
    } catch (error) {
      if (error instanceof SyntaxError || MISSING_CODES.has(errorCode(error) ?? '')) return undefined;
      throw error;
    }
  }

  async function writeObject(
    bucket: Bucket,
    key: string,
    body: ByteSource,
    metadata: ObjectMetadata,
    limits: WriteLimits,
  ): Promise<StoredObject> {
    const target = filePath('objects', bucket, key);
    const metaTarget = filePath('meta', bucket, key);
    const temp = await tempPath();
    const metaTemp = `${temp}.json`;
    const handle = await open(temp, 'wx');
    let closed = false;
    try {
      const md5 = createHash('md5');
      let size = 0;
      for await (const chunk of chunksOf(body)) {
        size += chunk.byteLength;
        if (size > limits.maxSize) {
          throw new DiskStorageError('EntityTooLarge', `The body is larger than the allowed ${limits.maxSize} bytes.`);
        }
        md5.update(chunk);
        await writeAll(handle, chunk);
      }
      if (size < limits.minSize) {
        throw new DiskStorageError('EntityTooSmall', `The body has ${size} bytes, fewer than the required ${limits.minSize}.`);
      }
      const digest = md5.digest();
      if (limits.contentMd5 !== undefined && digest.toString('base64') !== limits.contentMd5) {
        throw new DiskStorageError('BadDigest', 'The Content-MD5 you specified did not match what we received.');
      }
      if (limits.etag !== undefined && `"${digest.toString('hex')}"` !== limits.etag) {
        throw new ObjectChangedError(`the source of ${bucket}/${key} changed`);
      }
      await handle.datasync(); // the rename must never publish bytes that a crash could still lose
      await handle.close();
      closed = true;

      const sidecar: Sidecar = {
        contentType: metadata.contentType,
        ...(metadata.cacheControl !== undefined && { cacheControl: metadata.cacheControl }),
        ...(metadata.contentDisposition !== undefined && { contentDisposition: metadata.contentDisposition }),
        size,
        etag: `"${digest.toString('hex')}"`,
      };
      await writeFile(metaTemp, JSON.stringify(sidecar), { flag: 'wx' });
      await place(temp, target);
      await place(metaTemp, metaTarget);
      const { mtime } = await stat(target).catch(() => ({ mtime: new Date() }));
      return { ...sidecar, lastModified: mtime };
    } catch (error) {
      if (!closed) await handle.close().catch(() => undefined);
      await unlinkQuietly(temp);
      await unlinkQuietly(metaTemp);
      throw error;
    }
  }

  async function openObject(bucket: Bucket, key: string): Promise<OpenedObject | null> {
    const file = filePath('objects', bucket, key);
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (error) {
      const code = errorCode(error);
      if (code && (MISSING_CODES.has(code) || code === 'ENAMETOOLONG')) return null;
      throw error;
    }
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) {
        await handle.close();
        return null; // a "directory" of longer keys, not an object
      }
      const sidecar = await readSidecar(bucket, key);
      const object: StoredObject = {
        contentType: sidecar?.contentType ?? 'application/octet-stream',
        ...(sidecar?.cacheControl !== undefined && { cacheControl: sidecar.cacheControl }),
        ...(sidecar?.contentDisposition !== undefined && { contentDisposition: sidecar.contentDisposition }),
        size: stats.size,
        ...(sidecar?.size === stats.size && { etag: sidecar.etag }),
        lastModified: stats.mtime,
      };
      return { object, body: (range) => fileStream(handle, range ?? { start: 0, end: stats.size - 1 }), close: () => handle.close() };
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
  }

  async function removeStaleTempFiles(): Promise<void> {
    const names = await readdir(tmpDir).catch(() => [] as string[]);
    for (const name of names) {
      const file = path.join(tmpDir, name);
      const stats = await stat(file).catch(() => undefined);
      if (stats && Date.now() - stats.mtimeMs > STALE_TEMP_MS) await unlinkQuietly(file);
    }
  }
  void removeStaleTempFiles().catch(() => undefined);

  return {
    kind: 'disk',
    baseUrl,
    region,
    lookupCredentials: (accessKeyId) => (accessKeyId === DISK_ACCESS_KEY_ID ? credentials : undefined),
    writeObject,
    openObject,

    // Keys are checked like the endpoint checks them, so nothing is signed that could not be stored.
    presignPut(input: PresignPutInput): PresignedPut {
      filePath('objects', 'staging', input.key);
      return presigner.presignPut(input);
    },
    presignPost(input: PresignPostInput): PresignedPost {
      filePath('objects', 'staging', input.key);
      return presigner.presignPost(input);
    },
    presignGet(bucket: Bucket, key: string, input: PresignGetInput): string {
      filePath('objects', bucket, key);
      return presigner.presignGet(bucket, key, input);
    },

    publicUrl(key: string): string {
      return objectUrl(baseUrl, 'public', key, true);
    },

    async head(bucket: Bucket, key: string): Promise<ObjectHead | null> {
      const opened = await openObject(bucket, key);
      if (!opened) return null;
      await opened.close();
      const { size, contentType, etag } = opened.object;
      return { size, contentType, ...(etag !== undefined && { etag }) };
    },

    async readStart(bucket: Bucket, key: string, length: number, { ifMatch }: ReadOptions = {}): Promise<Uint8Array> {
      const opened = await openObject(bucket, key);
      if (!opened) throw new DiskStorageError('NoSuchKey', `There is no object ${bucket}/${key}.`);
      const { size } = opened.object;
      if (size === 0) {
        await opened.close();
        if (ifMatch !== undefined && ifMatch !== EMPTY_ETAG) throw new ObjectChangedError(`${bucket}/${key} changed`);
        return new Uint8Array(0);
      }
      // With ifMatch, hash the whole open file: its ETag is the MD5 of exactly the bytes read here,
      // whatever a concurrent write does to the sidecar.
      const end = ifMatch === undefined ? Math.min(length, size) - 1 : size - 1;
      const md5 = createHash('md5');
      const chunks: Uint8Array[] = [];
      let kept = 0;
      for await (const chunk of chunksOf(opened.body({ start: 0, end }))) {
        if (ifMatch !== undefined) md5.update(chunk);
        if (kept < length) {
          chunks.push(chunk.subarray(0, length - kept));
          kept += Math.min(chunk.byteLength, length - kept);
        }
      }
      if (ifMatch !== undefined && `"${md5.digest('hex')}"` !== ifMatch) throw new ObjectChangedError(`${bucket}/${key} changed`);
      return new Uint8Array(Buffer.concat(chunks));
    },

    async copy(from: ObjectRef, to: ObjectRef, options: CopyOptions): Promise<void> {
      const source = await openObject(from.bucket, from.key);
      if (!source) throw new DiskStorageError('NoSuchKey', `There is no object ${from.bucket}/${from.key} to copy.`);
      const { size } = source.object;
      const body = size > 0 ? source.body({ start: 0, end: size - 1 }) : emptyAfter(source.close());
      const { ifMatch, ...metadata } = options;
      await writeObject(to.bucket, to.key, body, metadata, { minSize: size, maxSize: size, ...(ifMatch !== undefined && { etag: ifMatch }) });
    },

    async delete(bucket: Bucket, key: string): Promise<void> {
      for (const tree of ['objects', 'meta'] as const) {
        const file = filePath(tree, bucket, key);
        try {
          await unlink(file);
        } catch (error) {
          const code = errorCode(error);
          if (!(code && MISSING_CODES.has(code))) throw error;
        }
        await prune(tree, bucket, file);
      }
    },
  };
}

/** Streams bytes `start..end` (inclusive) of an open file in bounded chunks, closing it at the end. */
function fileStream(handle: FileHandle, range: { start: number; end: number }): ReadableStream<Uint8Array> {
  let position = range.start;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const wanted = Math.min(READ_CHUNK, range.end + 1 - position);
      if (wanted <= 0) {
        await handle.close();
        controller.close();
        return;
      }
      const buffer = new Uint8Array(wanted);
      const { bytesRead } = await handle.read(buffer, 0, wanted, position);
      if (bytesRead === 0) {
        await handle.close();
        controller.error(new Error('The file became shorter while it was read.'));
        return;
      }
      position += bytesRead;
      controller.enqueue(bytesRead === wanted ? buffer : buffer.subarray(0, bytesRead));
    },
    async cancel() {
      await handle.close();
    },
  });
}

/** Chunks of a web stream or any async iterable; a stream left early is cancelled (closing its source). */
async function* chunksOf(source: ByteSource): AsyncGenerator<Uint8Array> {
  if (!(source instanceof ReadableStream)) {
    yield* source;
    return;
  }
  const reader = source.getReader();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        return;
      }
      yield value;
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

async function* emptyAfter(done: Promise<void>): AsyncGenerator<Uint8Array> {
  await done;
}
