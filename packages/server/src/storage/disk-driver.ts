/**
 * The `disk` driver: objects are plain files under `<dataDir>/objects/<bucket>/<key>`, each with a JSON
 * sidecar at the same relative path under `<dataDir>/meta/`. Uploads reach it through its own HTTP
 * endpoint (disk-endpoint.ts) with the same SigV4-signed requests S3 takes, so the rest of Upfront
 * cannot tell it from a real object store.
 *
 * Every write goes to `<dataDir>/tmp` first and is renamed into place, so a reader never sees half an
 * object and a refused upload leaves nothing behind. A placed file is never written again: an overwrite
 * is a new file renamed over the old one. So a sidecar records the identity of the file it was written
 * for (inode, mtime in ns, size), and its metadata and ETag count only for a file of that identity; a
 * sidecar that describes another file (one racing an overwrite, one left by a crash) does not count,
 * and where an ETag must be exact the file is hashed instead.
 *
 * The sidecar is placed before its object, so an object never stands without its own sidecar: a crash
 * in between leaves a sidecar of a file that never arrived, which counts for nothing (an overwrite so
 * interrupted leaves the previous object without its metadata, hashed when its ETag is needed).
 *
 * A copy is a hard link to the same file (immutable, so sharing is safe): constant time at any size.
 * Where the file system cannot link, the bytes are copied.
 *
 * The public and private buckets keep versions, as `upfront setup` provisions them on S3: every copy into
 * them also links its file under `<dataDir>/versions/<bucket>/<sha256 of the key>/<versionId>` (with its
 * sidecar, `<versionId>.json`), so the object in `objects/` is always one of its key's versions, and a
 * copy over it keeps the one before. Version ids are time-ordered (hex milliseconds, a counter, random
 * bits); an object placed before versions were kept is kept as version "null" when first replaced, as S3
 * keeps one written before versioning was turned on. Deleting the current object keeps its versions (S3's
 * delete marker); deleting a version by id removes it, and if it was current, the newest left is current.
 *
 * Multipart uploads (parts streamed to where they belong, completed without copying) are disk-multipart.ts.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { copyFile, link, mkdir, open, readdir, readFile, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { KeyedMutex } from './keyed-mutex.ts';
import { createMultipartUploads, MAX_PART_NUMBER, type PartExpectation } from './disk-multipart.ts';
import { listDiskMultipartUploads, listDiskObjects } from './disk-listing.ts';
import { ObjectChangedError, ObjectMissingError } from './errors.ts';
import { createPresigner } from './presigner.ts';
import { objectUrl, type Credentials } from './sigv4.ts';
import {
  NULL_VERSION,
  type Bucket,
  type CopyOptions,
  type CopyResult,
  type ObjectHead,
  type ObjectRead,
  type ObjectRef,
  type ObjectVersion,
  type PutOptions,
  type PresignedPost,
  type PresignedPut,
  type PresignGetInput,
  type PresignPartInput,
  type PresignPostInput,
  type PresignPutInput,
  type ObjectStart,
  type StorageDriver,
  type StoredPart,
} from './types.ts';

export interface DiskDriverConfig {
  /** Objects under `<dataDir>/objects/<bucket>/<key>`, metadata beside them under `<dataDir>/meta/`. */
  dataDir: string;
  /** Public URL of the endpoint, e.g. `http://localhost:3000/storage`; objects are `<baseUrl>/<bucket>/<key>`. */
  baseUrl: string;
  /** Signing secret: the driver's one credential, with access key id `upfront-disk`. */
  secret: string;
  /** SigV4 region; default `local`. */
  region?: string;
  /**
   * Bytes every part of a multipart upload but the last must have at least; default 5 MiB, S3's. Lower
   * only in tests, to keep their parts small.
   */
  minPartSize?: number;
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
  presignPart(input: PresignPartInput): PresignedPut;
  /** Endpoint URL the driver signs for. */
  readonly baseUrl: string;
  readonly region: string;
  /** Signing credentials by access key id, for verifying requests. */
  lookupCredentials(accessKeyId: string): Credentials | undefined;
  /** Streams `body` into place atomically, or throws DiskStorageError (nothing written) if a limit fails. */
  writeObject(bucket: Bucket, key: string, body: ByteSource, metadata: ObjectMetadata, limits: WriteLimits): Promise<StoredObject>;
  /** Opens an object (or one of its versions) for reading, or null if it does not exist. */
  openObject(bucket: Bucket, key: string, versionId?: string): Promise<OpenedObject | null>;
  /**
   * Streams one part of a multipart upload into place (the endpoint's part PUT), replacing the part
   * held; or throws PartUploadError, holding no version of that part then.
   */
  writePart(key: string, uploadId: string, partNumber: number, body: AsyncIterable<Uint8Array>, expected: PartExpectation): Promise<StoredPart>;
}

export const DISK_ACCESS_KEY_ID = 'upfront-disk';
/**
 * Per object, in this process: the steps that make a version current (its sidecar, then its file) and
 * deletes never interleave; two restores at once would otherwise leave one's sidecar beside the other's
 * file, which then describes no version.
 */
const placements = new KeyedMutex();
const BUCKETS: readonly Bucket[] = ['staging', 'public', 'private'];
const MAX_KEY_BYTES = 1024;
// Most file systems cap one path component at 255 bytes.
const MAX_SEGMENT_BYTES = 255;
const READ_CHUNK = 64 * 1024;
const HASH_CHUNK = 1024 * 1024;
const S3_MIN_PART_SIZE = 5 * 1024 * 1024;
// Temp files older than this belong to writes that died with the process.
const STALE_TEMP_MS = 24 * 60 * 60 * 1000;
/** The ids this driver gives versions (see newVersionId), and S3's "null"; anything else names no version. */
const VERSION_ID = /^(?:[0-9a-f]{24}|null)$/;

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
  /** fileIdentity() of the file it was written for; absent in sidecars of older versions. */
  file?: string;
  /** In a versioned bucket: which version the file is (absent: placed before versions were kept). */
  versionId?: string;
  /** Epoch ms when the version was written (a linked file keeps the mtime of the bytes it shares). */
  written?: number;
}

/**
 * Which file this is: inode, mtime in nanoseconds and size. Placed files are never written again, so a
 * file with the identity a sidecar recorded holds the bytes of the sidecar's ETag. Linking and renaming
 * keep all three (unlike ctime).
 */
function fileIdentity(stats: BigIntStats): string {
  return `${stats.ino}:${stats.mtimeNs}:${stats.size}`;
}

/** The sidecar's ETag if it was written for exactly this file. */
function trustedEtag(sidecar: Sidecar | undefined, stats: BigIntStats): string | undefined {
  return sidecar?.file === fileIdentity(stats) ? sidecar.etag : undefined;
}

/** Whether the sidecar's metadata belongs to this file (for an older version's sidecar: its size matches). */
function describes(sidecar: Sidecar | undefined, stats: BigIntStats): sidecar is Sidecar {
  if (!sidecar) return false;
  return sidecar.file !== undefined ? sidecar.file === fileIdentity(stats) : sidecar.size === Number(stats.size);
}

function sidecarFor(metadata: ObjectMetadata, etag: string, stats: BigIntStats): Sidecar {
  return {
    contentType: metadata.contentType,
    ...(metadata.cacheControl !== undefined && { cacheControl: metadata.cacheControl }),
    ...(metadata.contentDisposition !== undefined && { contentDisposition: metadata.contentDisposition }),
    size: Number(stats.size),
    etag,
    file: fileIdentity(stats),
  };
}

function storedObject(metadata: ObjectMetadata | undefined, stats: BigIntStats, etag: string | undefined): StoredObject {
  return {
    contentType: metadata?.contentType ?? 'application/octet-stream',
    ...(metadata?.cacheControl !== undefined && { cacheControl: metadata.cacheControl }),
    ...(metadata?.contentDisposition !== undefined && { contentDisposition: metadata.contentDisposition }),
    size: Number(stats.size),
    ...(etag !== undefined && { etag }),
    lastModified: stats.mtime,
  };
}

/** An object's file, open, with the sidecar found beside it (which may describe another file). */
interface ObjectFile {
  handle: FileHandle;
  stats: BigIntStats;
  size: number;
  sidecar: Sidecar | undefined;
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

// The path is a file where a directory is needed or the other way round: `a` and `a/b` cannot both exist.
const CONFLICT_CODES = new Set(['ENOTDIR', 'EISDIR', 'EEXIST', 'ENOTEMPTY']);
// Codes meaning "no object here" when opening or deleting.
const MISSING_CODES = new Set(['ENOENT', 'ENOTDIR', 'EISDIR']);
// Codes of a hard link the file system cannot make (another file system, no links at all, too many);
// EPERM is also what Linux says for a directory, which the byte copy then finds missing.
const CANNOT_LINK_CODES = new Set(['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

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

function missingSource(from: ObjectRef): ObjectMissingError {
  const version = from.versionId !== undefined ? ` version ${from.versionId}` : '';
  return new ObjectMissingError(`There is no object ${from.bucket}/${from.key}${version} to copy.`);
}

/** The version an object's file is: the one its sidecar names, if that sidecar was written for it. */
function versionOf(sidecar: Sidecar | undefined, stats: BigIntStats): string {
  return describes(sidecar, stats) ? (sidecar.versionId ?? NULL_VERSION) : NULL_VERSION;
}

/** The first `length` bytes of an open file (fewer if it is shorter). */
async function readPrefix(handle: FileHandle, length: number): Promise<Uint8Array> {
  const bytes = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(bytes, filled, length - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return bytes.subarray(0, filled);
}

/** S3's ETag of a whole open file: its quoted hex MD5. */
async function md5Etag(handle: FileHandle): Promise<string> {
  const md5 = createHash('md5');
  const buffer = new Uint8Array(HASH_CHUNK);
  for (let position = 0; ; ) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, position);
    if (bytesRead === 0) return `"${md5.digest('hex')}"`;
    md5.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
}

async function md5EtagOf(file: string): Promise<string> {
  const handle = await open(file, 'r');
  try {
    return await md5Etag(handle);
  } finally {
    await handle.close();
  }
}

export function createDiskDriver(config: DiskDriverConfig): DiskDriver {
  const region = config.region ?? 'local';
  const baseUrl = config.baseUrl.replace(/\/+$/, '');
  const credentials: Credentials = { accessKeyId: DISK_ACCESS_KEY_ID, secretAccessKey: config.secret };
  const presigner = createPresigner({ endpoint: baseUrl, forcePathStyle: true, credentials, region, bucketName: (bucket) => bucket, signsMaxSize: true });
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

  /** Buckets that keep versions: the final ones, as `upfront setup` provisions them on S3. */
  const versioned = (bucket: Bucket): boolean => bucket !== 'staging';

  /** A key's versions directory: named by a hash of the key, so it never collides with another key's. */
  function versionsDir(bucket: Bucket, key: string): string {
    filePath('objects', bucket, key); // the key passes the same checks as the object's own path
    return path.join(root, 'versions', bucket, createHash('sha256').update(key).digest('hex'));
  }

  /** Where a version's file and sidecar are; undefined for an id this driver never gives. */
  function versionPaths(bucket: Bucket, key: string, versionId: string): { file: string; sidecar: string } | undefined {
    if (!VERSION_ID.test(versionId)) return undefined;
    const dir = versionsDir(bucket, key);
    return { file: path.join(dir, versionId), sidecar: path.join(dir, `${versionId}.json`) };
  }

  let lastMillis = 0;
  let counter = 0;
  /** Sorts by creation (within this process): hex epoch ms, a counter within the millisecond, random bits. */
  function newVersionId(): string {
    const now = Date.now();
    counter = now === lastMillis ? counter + 1 : 0;
    lastMillis = now;
    return `${now.toString(16).padStart(12, '0')}${(counter & 0xffff).toString(16).padStart(4, '0')}${randomBytes(4).toString('hex')}`;
  }

  function readSidecar(bucket: Bucket, key: string): Promise<Sidecar | undefined> {
    return readSidecarAt(filePath('meta', bucket, key));
  }

  async function readSidecarAt(file: string): Promise<Sidecar | undefined> {
    try {
      return JSON.parse(await readFile(file, 'utf8')) as Sidecar;
    } catch (error) {
      if (error instanceof SyntaxError || MISSING_CODES.has(errorCode(error) ?? '')) return undefined;
      throw error;
    }
  }

  /** Writes the sidecar to a temp file, durably, and renames it to `target`. */
  async function placeSidecar(sidecar: Sidecar, target: string): Promise<void> {
    const temp = `${await tempPath()}.json`;
    try {
      const handle = await open(temp, 'wx');
      try {
        await handle.writeFile(JSON.stringify(sidecar));
        await handle.datasync(); // a crash must not leave an empty sidecar in place of this one
      } finally {
        await handle.close();
      }
      await place(temp, target);
    } catch (error) {
      await unlinkQuietly(temp);
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
      const etag = `"${digest.toString('hex')}"`;
      if (limits.etag !== undefined && etag !== limits.etag) {
        throw new ObjectChangedError(`the source of ${bucket}/${key} changed`);
      }
      await handle.datasync(); // the rename must never publish bytes that a crash could still lose
      const stats = await handle.stat({ bigint: true }); // after the last write: the identity the placed file keeps
      await handle.close();
      closed = true;

      const sidecar = sidecarFor(metadata, etag, stats);
      await placeSidecar(sidecar, metaTarget);
      await place(temp, target);
      return storedObject(sidecar, stats, etag);
    } catch (error) {
      if (!closed) await handle.close().catch(() => undefined);
      await unlinkQuietly(temp);
      throw error;
    }
  }

  function openFile(bucket: Bucket, key: string): Promise<ObjectFile | null> {
    return openPath(filePath('objects', bucket, key), () => readSidecar(bucket, key));
  }

  /** A version of the object: the current file if it is that version, else the one kept under versions/. */
  async function openVersion(bucket: Bucket, key: string, versionId: string): Promise<ObjectFile | null> {
    const current = await openFile(bucket, key);
    if (current && versionOf(current.sidecar, current.stats) === versionId) return current;
    await current?.handle.close();
    const kept = versionPaths(bucket, key, versionId);
    return kept ? openPath(kept.file, () => readSidecarAt(kept.sidecar)) : null;
  }

  async function openPath(file: string, sidecar: () => Promise<Sidecar | undefined>): Promise<ObjectFile | null> {
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (error) {
      const code = errorCode(error);
      if (code && (MISSING_CODES.has(code) || code === 'ENAMETOOLONG')) return null;
      throw error;
    }
    try {
      const stats = await handle.stat({ bigint: true });
      if (!stats.isFile()) {
        await handle.close();
        return null; // a "directory" of longer keys, not an object
      }
      return { handle, stats, size: Number(stats.size), sidecar: await sidecar() };
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
  }

  /** The ETag of exactly the open file's bytes: the sidecar's if it was written for this file, else hashed. */
  async function etagOf(file: ObjectFile): Promise<string> {
    return trustedEtag(file.sidecar, file.stats) ?? (await md5Etag(file.handle));
  }

  async function headOf(file: ObjectFile): Promise<ObjectHead> {
    const contentType = describes(file.sidecar, file.stats) ? file.sidecar.contentType : 'application/octet-stream';
    return { size: file.size, contentType, etag: await etagOf(file) };
  }

  async function openObject(bucket: Bucket, key: string, versionId?: string): Promise<OpenedObject | null> {
    const file = versionId === undefined ? await openFile(bucket, key) : await openVersion(bucket, key, versionId);
    if (!file) return null;
    const { handle, stats, sidecar } = file;
    // Served ETags are cache validators: an older version's sidecar of the right size keeps its own.
    const object = describes(sidecar, stats) ? storedObject(sidecar, stats, sidecar.etag) : storedObject(undefined, stats, undefined);
    return { object, body: (range) => fileStream(handle, range ?? { start: 0, end: file.size - 1 }), close: () => handle.close() };
  }

  /**
   * A second name for `file` at `pinned` (in tmp): whatever happens to the source's key from then on, this
   * file is the one checked and placed. Where the file system cannot link, a copy of the bytes.
   */
  async function pin(file: string, pinned: string, from: ObjectRef): Promise<void> {
    try {
      await link(file, pinned);
    } catch (error) {
      const code = errorCode(error) ?? '';
      if (MISSING_CODES.has(code) || code === 'ENAMETOOLONG') throw missingSource(from);
      if (!CANNOT_LINK_CODES.has(code)) throw error;
      await copyFile(file, pinned).catch((copyError: unknown) => {
        throw MISSING_CODES.has(errorCode(copyError) ?? '') ? missingSource(from) : copyError;
      });
    }
  }

  /** The file a copy reads (the current object, or a version of it) and the sidecar that may describe it. */
  async function sourceOf(from: ObjectRef): Promise<{ file: string; sidecar: () => Promise<Sidecar | undefined> }> {
    const current = { file: filePath('objects', from.bucket, from.key), sidecar: () => readSidecar(from.bucket, from.key) };
    if (from.versionId === undefined) return current;
    const kept = versionPaths(from.bucket, from.key, from.versionId);
    if (!kept) throw missingSource(from);
    // Version "null" of an object placed before versions were kept is the current file until it is replaced.
    if (from.versionId === NULL_VERSION && !(await exists(kept.file))) return current;
    return { file: kept.file, sidecar: () => readSidecarAt(kept.sidecar) };
  }

  /**
   * Before a copy replaces an object placed before versions were kept, its file is kept as version
   * "null". (A copy racing this one may already have replaced it: then that copy's version is kept too.)
   */
  async function keepUnversioned(bucket: Bucket, key: string): Promise<void> {
    const current = await openFile(bucket, key);
    if (!current) return;
    try {
      if (describes(current.sidecar, current.stats) && current.sidecar.versionId !== undefined) return;
      const kept = versionPaths(bucket, key, NULL_VERSION)!;
      if (await exists(kept.file)) return;
      const metadata = describes(current.sidecar, current.stats) ? current.sidecar : { contentType: 'application/octet-stream' };
      const sidecar = { ...sidecarFor(metadata, await etagOf(current), current.stats), versionId: NULL_VERSION, written: Number(current.stats.mtimeMs / 1_000_000n) };
      await placeSidecar(sidecar, kept.sidecar);
      await linkOrCopy(filePath('objects', bucket, key), kept.file);
    } finally {
      await current.handle.close();
    }
  }

  async function linkOrCopy(file: string, target: string): Promise<void> {
    await mkdir(path.dirname(target), { recursive: true });
    try {
      await link(file, target);
    } catch (error) {
      if (!CANNOT_LINK_CODES.has(errorCode(error) ?? '')) throw error;
      await copyFile(file, target);
    }
  }

  async function listVersions(bucket: Bucket, key: string): Promise<ObjectVersion[]> {
    const current = await openFile(bucket, key);
    let currentId: string | undefined;
    const versions: ObjectVersion[] = [];
    if (current) {
      try {
        currentId = versionOf(current.sidecar, current.stats);
        // An object placed before versions were kept (or in staging): its one version is "null".
        if (currentId === NULL_VERSION) {
          versions.push({ versionId: NULL_VERSION, size: current.size, etag: await etagOf(current), lastModified: current.stats.mtime, isLatest: true });
        }
      } finally {
        await current.handle.close();
      }
    }
    if (!versioned(bucket)) return versions;
    for (const name of await readdir(versionsDir(bucket, key)).catch(() => [] as string[])) {
      const versionId = name.endsWith('.json') ? name.slice(0, -'.json'.length) : '';
      const kept = versionPaths(bucket, key, versionId);
      if (!kept || (versionId === NULL_VERSION && currentId === NULL_VERSION)) continue;
      const [sidecar, stats] = await Promise.all([readSidecarAt(kept.sidecar), stat(kept.file, { bigint: true }).catch(() => undefined)]);
      // A sidecar whose file never arrived (a crash in between) is no version.
      if (!sidecar || !stats) continue;
      versions.push({
        versionId,
        size: Number(stats.size),
        ...(trustedEtag(sidecar, stats) !== undefined && { etag: sidecar.etag }),
        lastModified: new Date(sidecar.written ?? Number(stats.mtimeMs / 1_000_000n)),
        isLatest: versionId === currentId,
      });
    }
    return versions.sort((a, b) => b.lastModified.getTime() - a.lastModified.getTime() || (a.versionId < b.versionId ? 1 : -1));
  }

  /** Removes a kept version; if it was the current one, the newest left becomes current (or none is). */
  async function deleteVersion(bucket: Bucket, key: string, versionId: string): Promise<void> {
    const kept = versionPaths(bucket, key, versionId);
    if (!kept) return;
    const wasCurrent = (await listVersions(bucket, key)).some((version) => version.isLatest && version.versionId === versionId);
    await unlinkQuietly(kept.file);
    await unlinkQuietly(kept.sidecar);
    await rmdir(path.dirname(kept.file)).catch(() => undefined); // only when it was the last one
    if (!wasCurrent) return;
    const next = (await listVersions(bucket, key)).find((version) => version.versionId !== versionId);
    if (!next) return deleteCurrent(bucket, key);
    const nextPaths = versionPaths(bucket, key, next.versionId)!;
    const sidecar = await readSidecarAt(nextPaths.sidecar);
    const pinned = await tempPath();
    try {
      await pin(nextPaths.file, pinned, { bucket, key, versionId: next.versionId });
      if (sidecar) await placeSidecar(sidecar, filePath('meta', bucket, key));
      await place(pinned, filePath('objects', bucket, key));
    } finally {
      await unlinkQuietly(pinned);
    }
  }

  async function deleteCurrent(bucket: Bucket, key: string): Promise<void> {
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
  }

  async function removeStaleTempFiles(): Promise<void> {
    const names = await readdir(tmpDir).catch(() => [] as string[]);
    for (const name of names) {
      const file = path.join(tmpDir, name);
      const stats = await stat(file).catch(() => undefined);
      // ctime, not mtime: a copy's link keeps the mtime of the (maybe old) file it pins, its ctime is when it was made.
      // Directories too: a removed multipart upload is renamed here before it is deleted.
      if (stats && Date.now() - stats.ctimeMs > STALE_TEMP_MS) await rm(file, { recursive: true, force: true }).catch(() => undefined);
    }
  }
  void removeStaleTempFiles().catch(() => undefined);

  const multipart = createMultipartUploads(root, config.minPartSize ?? S3_MIN_PART_SIZE, {
    tempPath,
    async placeStaged(file, key, contentType, etag) {
      const stats = await stat(file, { bigint: true });
      await placeSidecar(sidecarFor({ contentType }, etag, stats), filePath('meta', 'staging', key));
      await place(file, filePath('objects', 'staging', key));
    },
  });

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
    presignPart(input: PresignPartInput): PresignedPut {
      filePath('objects', 'staging', input.key);
      if (!Number.isInteger(input.partNumber) || input.partNumber < 1 || input.partNumber > MAX_PART_NUMBER) {
        throw new RangeError(`partNumber must be an integer from 1 to ${MAX_PART_NUMBER}, got ${input.partNumber}`);
      }
      return presigner.presignPart(input);
    },

    publicUrl(key: string): string {
      return objectUrl(baseUrl, 'public', key, true);
    },

    async head(bucket: Bucket, key: string): Promise<ObjectHead | null> {
      const file = await openFile(bucket, key);
      if (!file) return null;
      try {
        return await headOf(file);
      } finally {
        await file.handle.close();
      }
    },

    async readStart(bucket: Bucket, key: string, length: number): Promise<ObjectStart | null> {
      const file = await openFile(bucket, key);
      if (!file) return null;
      try {
        // The open descriptor holds one file: the head and the bytes are of the same version.
        return { head: await headOf(file), bytes: await readPrefix(file.handle, Math.min(length, file.size)) };
      } finally {
        await file.handle.close();
      }
    },

    async read(bucket: Bucket, key: string, options: { ifMatch?: string } = {}): Promise<ObjectRead | null> {
      const file = await openFile(bucket, key);
      if (!file) return null;
      try {
        // The open descriptor holds one file: the head and the bytes are of the same version.
        const head = await headOf(file);
        if (options.ifMatch !== undefined && head.etag !== options.ifMatch) throw new ObjectChangedError(`${bucket}/${key} changed`);
        return { head, body: fileStream(file.handle, { start: 0, end: file.size - 1 }) };
      } catch (error) {
        await file.handle.close();
        throw error;
      }
    },

    async put(bucket: Bucket, key: string, body: ReadableStream<Uint8Array>, options: PutOptions): Promise<CopyResult> {
      // Streamed into a staged object of its own, then copied (a link) like any promotion, versions and all.
      const scratch = `.put/${randomUUID()}`;
      const written = await writeObject('staging', scratch, body, { contentType: options.contentType }, { minSize: options.size, maxSize: options.size });
      try {
        const copied = await this.copy({ bucket: 'staging', key: scratch }, { bucket, key }, options);
        return { ...copied, ...(written.etag !== undefined && { etag: written.etag }) };
      } finally {
        await deleteCurrent('staging', scratch);
      }
    },

    async copy(from: ObjectRef, to: ObjectRef, options: CopyOptions): Promise<CopyResult> {
      const { ifMatch, ...metadata } = options;
      const source = await sourceOf(from);
      const target = filePath('objects', to.bucket, to.key);
      const metaTarget = filePath('meta', to.bucket, to.key);
      const pinned = await tempPath();
      try {
        await pin(source.file, pinned, from);
        const stats = await stat(pinned, { bigint: true });
        const etag = trustedEtag(await source.sidecar(), stats) ?? (await md5EtagOf(pinned));
        if (ifMatch !== undefined && etag !== ifMatch) throw new ObjectChangedError(`${from.bucket}/${from.key} changed`);
        if (!versioned(to.bucket)) {
          await placeSidecar(sidecarFor(metadata, etag, stats), metaTarget);
          await place(pinned, target);
          return { versionId: NULL_VERSION };
        }
        return await placements.run(target, async () => {
          await keepUnversioned(to.bucket, to.key);
          const versionId = newVersionId();
          const kept = versionPaths(to.bucket, to.key, versionId)!;
          const sidecar: Sidecar = { ...sidecarFor(metadata, etag, stats), versionId, written: Date.now() };
          // Kept first, then current: a crash in between leaves a version that is not current, as a copy never made.
          await placeSidecar(sidecar, kept.sidecar);
          await linkOrCopy(pinned, kept.file);
          await placeSidecar(sidecar, metaTarget);
          await place(pinned, target);
          return { versionId };
        });
      } finally {
        // Already gone after the rename, unless the target was this very file (then rename does nothing).
        await unlinkQuietly(pinned);
      }
    },

    async createMultipart(key: string, contentType: string): Promise<string> {
      filePath('objects', 'staging', key);
      return multipart.create(key, contentType);
    },
    async writePart(key: string, uploadId: string, partNumber: number, body: AsyncIterable<Uint8Array>, expected: PartExpectation): Promise<StoredPart> {
      filePath('objects', 'staging', key);
      return multipart.writePart(key, uploadId, partNumber, body, expected);
    },
    async listParts(key: string, uploadId: string): Promise<StoredPart[] | null> {
      filePath('objects', 'staging', key);
      return multipart.list(key, uploadId);
    },
    async completeMultipart(key: string, uploadId: string, parts: { partNumber: number; etag: string }[]): Promise<void> {
      filePath('objects', 'staging', key);
      return multipart.complete(key, uploadId, parts);
    },
    async abortMultipart(key: string, uploadId: string): Promise<void> {
      filePath('objects', 'staging', key);
      return multipart.abort(key, uploadId);
    },

    list(bucket: Bucket, options: { prefix?: string; after?: string } = {}) {
      if (!isBucket(bucket)) throw new DiskStorageError('InvalidKey', `There is no bucket ${JSON.stringify(bucket)}.`);
      return listDiskObjects(root, bucket, options);
    },
    listMultipartUploads: (prefix?: string) => listDiskMultipartUploads(root, prefix),

    delete(bucket: Bucket, key: string, versionId?: string): Promise<void> {
      return placements.run(filePath('objects', bucket, key), () => (versionId === undefined ? deleteCurrent(bucket, key) : deleteVersion(bucket, key, versionId)));
    },

    listVersions,
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

async function exists(file: string): Promise<boolean> {
  return stat(file).then(() => true, () => false);
}
