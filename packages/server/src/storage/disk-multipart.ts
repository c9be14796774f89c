/**
 * Multipart uploads of the disk driver, built so that completing one costs the same for 10 MB as for 5 TiB.
 *
 * Where the bytes go. An upload is the directory `<dataDir>/multipart/<uploadId>/`: `upload.json` (key,
 * Content-Type, created), `parts.log` (which parts are held: one JSON record per line, appended and synced;
 * the last record of a part number counts) and the data files the parts were written into. Upfront's API cuts a file into parts of one size P, the last
 * one shorter, so part N is streamed straight to where it belongs in the finished object: offset (N-1)·P
 * of the data file `data-<P>`. Complete then copies nothing: it cuts that file to the object's length and
 * renames it into place as the staged object, the very inode the part PUTs wrote.
 *
 * Finding P. The driver is not told P, and a part PUT knows only its own length. Every part but the last
 * is P long, so the longest part seen so far (the upload's `stride`) is P as soon as any part but the
 * last has arrived; a part goes to `data-<stride>`. Only a last part that arrives before every other part
 * lands elsewhere (`data-<its length>`): complete copies that one part into its slot. Uploads that do not
 * fit one stride (parts of several sizes or gaps in the numbers, allowed by S3 and never sent by Upfront),
 * or a part beyond 5 TiB (kept in a file of its own), are completed by a streamed concatenation instead:
 * correct, at the cost of a copy.
 *
 * One writer per part. Part slots never overlap, so parts of different numbers are written concurrently.
 * A new PUT of part N cuts off one still running (409 OperationAborted) and waits until it stopped
 * writing: the latest PUT of a part wins. Before its slot is written, "part N is not held" is logged and
 * synced; the bytes are streamed in, counted, hashed and synced; only then is "part N is held: size, MD5,
 * file, offset" logged and synced. So a held part always has whole bytes: a PUT that fails (short body,
 * bad MD5, cut connection) leaves no version of that part, never half of one (S3 would keep the previous
 * version; the client sends the part again either way). Each record starts on a new line, so one torn by
 * a crash is a line of its own, skipped, and the part's previous record counts.
 *
 * Complete, under the upload's lock: check the listed parts against the log (InvalidPartsError, nothing
 * touched), stop writers still running, fill the slots of parts not yet in place (none, normally), log the
 * parts left out whose bytes lie past the object's end as no longer held, cut the file to length, sync
 * it, record it as `assembling` in upload.json (synced), place the sidecar, rename the file into place
 * (the commit), remove the directory. Beyond reading the log, its cost depends on neither the bytes nor
 * the number of parts. An upload whose `assembling` file is gone was completed: it no longer exists. A
 * crash before the rename leaves the upload, still completable (every part held still has its bytes);
 * after it, the finished object and a leftover directory that counts as no upload (swept).
 *
 * The locks and writers are this process's: one process serves multipart uploads of a data directory.
 * Uploads idle for 7 days are removed (S3's "abort incomplete multipart uploads" lifecycle rule), by a
 * sweep at start-up and then at most hourly when uploads are created.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { KeyedMutex } from './keyed-mutex.ts';
import { InvalidPartsError, ObjectMissingError } from './errors.ts';
import type { StoredPart } from './types.ts';

/** S3's limits. */
export const MAX_PART_NUMBER = 10_000;
export const MAX_PART_SIZE = 5 * 1024 ** 3;
const MAX_OBJECT_SIZE = 5 * 1024 ** 4;
/** Uploads without a completed part for this long are removed. */
const MAX_IDLE_MS = 7 * 24 * 60 * 60 * 1000;
const SWEEP_EVERY_MS = 60 * 60 * 1000;
const COPY_CHUNK = 1024 * 1024;
// 24 random bytes in base64url: 32 characters, safe as a file name and in a URL.
const UPLOAD_ID = /^[A-Za-z0-9_-]{32}$/;

/** Why a part PUT was refused, by S3's code. */
export type PartErrorCode = 'NoSuchUpload' | 'IncompleteBody' | 'BadDigest' | 'OperationAborted';

export class PartUploadError extends Error {
  constructor(
    readonly code: PartErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PartUploadError';
  }
}

/** What a part PUT must be: its signed length and, when sent, its Content-MD5 (base64). */
export interface PartExpectation {
  size: number;
  contentMd5?: string;
}

/** What the object store does for the multipart uploads: temp names and placing a finished object. */
export interface ObjectPlacement {
  /** A fresh temp file name on the objects' file system. */
  tempPath(): Promise<string>;
  /** Places a finished, synced file as the staged object `key`, with its sidecar. */
  placeStaged(file: string, key: string, contentType: string, etag: string): Promise<void>;
}

export interface MultipartUploads {
  create(key: string, contentType: string): Promise<string>;
  writePart(key: string, uploadId: string, partNumber: number, body: AsyncIterable<Uint8Array>, expected: PartExpectation): Promise<StoredPart>;
  list(key: string, uploadId: string): Promise<StoredPart[] | null>;
  complete(key: string, uploadId: string, parts: { partNumber: number; etag: string }[]): Promise<void>;
  abort(key: string, uploadId: string): Promise<void>;
}

interface UploadManifest {
  key: string;
  contentType: string;
  /** ISO time of createMultipart. */
  created: string;
  /** The longest part seen so far: parts go to `data-<stride>`. */
  stride?: number;
  /** The file complete is placing as the object; once it is gone, the upload was completed. */
  assembling?: string;
}

/** A part held: `size` bytes at `offset` of `file` (in the upload's directory), with their MD5 (hex). */
interface HeldPart {
  size: number;
  md5: string;
  file: string;
  offset: number;
}

/** A line of parts.log: part `part` is now held as `held`, or is not held (null). */
interface PartRecord {
  part: number;
  held: HeldPart | null;
}

interface ListedPart extends HeldPart {
  partNumber: number;
}

/** A part PUT in progress: stopped when a newer PUT of the part, a complete or an abort takes over. */
interface PartWriter {
  readonly stop: AbortController;
  /** Settles once the writer no longer touches its data file. */
  readonly stopped: Promise<void>;
}

// Per upload directory, shared by every driver of this process.
const locks = new KeyedMutex();
const writers = new Map<string, Map<number, PartWriter>>();

export function createMultipartUploads(root: string, minPartSize: number, objects: ObjectPlacement): MultipartUploads {
  const uploadsDir = path.join(root, 'multipart');
  let nextSweep = 0;

  /** The upload's directory, or undefined for an id this driver never gives out. */
  function uploadDir(uploadId: string): string | undefined {
    return UPLOAD_ID.test(uploadId) ? path.join(uploadsDir, uploadId) : undefined;
  }

  async function create(key: string, contentType: string): Promise<string> {
    sweepIfDue();
    const uploadId = randomBytes(24).toString('base64url');
    const dir = path.join(uploadsDir, uploadId);
    await mkdir(dir, { recursive: true });
    const manifest: UploadManifest = { key, contentType, created: new Date().toISOString() };
    await writeJson(manifestPath(dir), manifest);
    return uploadId;
  }

  async function writePart(
    key: string,
    uploadId: string,
    partNumber: number,
    body: AsyncIterable<Uint8Array>,
    expected: PartExpectation,
  ): Promise<StoredPart> {
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PART_NUMBER) throw new RangeError(`no part number ${partNumber}`);
    const dir = uploadDir(uploadId);
    if (!dir) throw noSuchUpload();
    let release!: () => void;
    const writer: PartWriter = { stop: new AbortController(), stopped: new Promise((resolve) => (release = resolve)) };

    const slot = await locks.run(dir, async () => {
      const manifest = await liveManifest(dir, key);
      if (!manifest) throw noSuchUpload();
      await stopWriters(dir, [partNumber], new PartUploadError('OperationAborted', `A newer upload of part ${partNumber} replaced this one.`));
      const chosen = slotFor(manifest, partNumber, expected.size);
      if (chosen.stride !== manifest.stride) await writeJson(manifestPath(dir), { ...manifest, stride: chosen.stride });
      // The slot may hold the part's current bytes: it must be known as not held, for good, before it is rewritten.
      await logParts(dir, [{ part: partNumber, held: null }]);
      writersOf(dir).set(partNumber, writer);
      return chosen;
    });

    let md5: Buffer;
    try {
      md5 = await streamInto(path.join(dir, slot.file), slot.offset, body, expected, writer.stop.signal);
    } catch (error) {
      forgetWriter(dir, partNumber, writer);
      throw writer.stop.signal.aborted ? writer.stop.signal.reason : error;
    } finally {
      release();
    }

    return locks.run(dir, async () => {
      forgetWriter(dir, partNumber, writer);
      if (writer.stop.signal.aborted) throw writer.stop.signal.reason;
      const held: HeldPart = { size: expected.size, md5: md5.toString('hex'), file: slot.file, offset: slot.offset };
      await logParts(dir, [{ part: partNumber, held }]);
      return { partNumber, size: held.size, etag: `"${held.md5}"` };
    });
  }

  async function list(key: string, uploadId: string): Promise<StoredPart[] | null> {
    const dir = uploadDir(uploadId);
    if (!dir) return null;
    // Under the lock: a complete running meanwhile is seen before or after, never half done.
    const held = await locks.run(dir, async () => ((await liveManifest(dir, key)) ? heldParts(dir) : null));
    if (!held) return null;
    return [...held]
      .sort(([a], [b]) => a - b)
      .map(([partNumber, { size, md5 }]) => ({ partNumber, size, etag: `"${md5}"` }));
  }

  async function complete(key: string, uploadId: string, listed: { partNumber: number; etag: string }[]): Promise<void> {
    const dir = uploadDir(uploadId);
    const missing = () => new ObjectMissingError(`There is no multipart upload ${uploadId} of ${key}.`);
    if (!dir) throw missing();
    await locks.run(dir, async () => {
      const manifest = await liveManifest(dir, key);
      if (!manifest) throw missing();
      const held = await heldParts(dir);
      const parts = checkListed(listed, held, minPartSize);
      // Writers still running can only be of parts left out (a listed part is held): they end.
      await stopWriters(dir, 'all', noSuchUpload());
      const file = fitsOneStride(parts) ? await assembleInPlace(dir, parts, held) : await concatenate(dir, parts);
      await writeJson(manifestPath(dir), { ...manifest, assembling: file });
      await syncDirectory(dir);
      await objects.placeStaged(path.join(dir, file), key, manifest.contentType, compositeEtag(parts));
      // Placed: the upload no longer exists, whatever happens to its leftovers (the sweep removes them).
      await removeUpload(dir).catch(() => undefined);
    });
  }

  async function abort(key: string, uploadId: string): Promise<void> {
    const dir = uploadDir(uploadId);
    if (!dir) return;
    await locks.run(dir, async () => {
      if (!(await liveManifest(dir, key))) return;
      await stopWriters(dir, 'all', noSuchUpload());
      await removeUpload(dir);
    });
  }

  /**
   * Builds the object in the data file whose slots fit it (`data-<size of part 1>`): parts already in
   * their slot stay; any other listed part is copied into its slot. Writing there overwrites nothing held:
   * a slot of that file belongs to its part number only, and that part is held elsewhere.
   */
  async function assembleInPlace(dir: string, parts: ListedPart[], held: Map<number, HeldPart>): Promise<string> {
    const stride = parts[0]!.size;
    const file = `data-${stride}`;
    const length = parts.reduce((sum, part) => sum + part.size, 0);
    const target = await open(path.join(dir, file), constants.O_RDWR | constants.O_CREAT, 0o644);
    try {
      for (const [index, part] of parts.entries()) {
        const offset = index * stride;
        if (part.file !== file || part.offset !== offset) await copyRange(path.join(dir, part.file), part.offset, part.size, target, offset);
      }
      if ((await target.stat()).size !== length) {
        // Parts left out that were written into this file lie past the object's end: no longer held before they are cut.
        const listed = new Set(parts.map((part) => part.partNumber));
        const cut = [...held].filter(([partNumber, part]) => part.file === file && !listed.has(partNumber));
        if (cut.length > 0) await logParts(dir, cut.map(([partNumber]) => ({ part: partNumber, held: null })));
        await target.truncate(length);
      }
      await target.datasync();
    } finally {
      await target.close();
    }
    return file;
  }

  /** The fallback for uploads that fit no stride: the parts' bytes streamed, in order, into a new file. */
  async function concatenate(dir: string, parts: ListedPart[]): Promise<string> {
    const file = `assembled-${randomBytes(8).toString('hex')}`;
    const target = await open(path.join(dir, file), 'wx');
    try {
      let offset = 0;
      for (const part of parts) {
        await copyRange(path.join(dir, part.file), part.offset, part.size, target, offset);
        offset += part.size;
      }
      await target.datasync();
    } finally {
      await target.close();
    }
    return file;
  }

  /** The upload's manifest, if it exists, belongs to `key` and was not completed. */
  async function liveManifest(dir: string, key: string): Promise<UploadManifest | undefined> {
    const manifest = await readManifest(dir);
    if (manifest?.key !== key || (await wasCompleted(dir, manifest))) return undefined;
    return manifest;
  }

  /** Takes the upload's directory out of the way in one rename, then deletes it. */
  async function removeUpload(dir: string): Promise<void> {
    const trash = await objects.tempPath();
    try {
      await rename(dir, trash);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return;
      throw error;
    }
    await rm(trash, { recursive: true, force: true });
  }

  /** Writes `value` as JSON to a synced temp file and renames it to `target`. */
  async function writeJson(target: string, value: UploadManifest): Promise<void> {
    const temp = await objects.tempPath();
    try {
      const handle = await open(temp, 'wx');
      try {
        await handle.writeFile(JSON.stringify(value));
        await handle.datasync();
      } finally {
        await handle.close();
      }
      await rename(temp, target);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
  }

  /** Removes uploads idle for MAX_IDLE_MS and leftovers of completed ones; never one in use. */
  async function sweep(): Promise<void> {
    const names = await readdir(uploadsDir).catch(() => [] as string[]);
    for (const name of names) {
      const dir = uploadDir(name);
      if (!dir) continue;
      await locks.run(dir, async () => {
        if (writers.has(dir)) return;
        const stats = await stat(dir).catch(() => undefined);
        if (!stats) return;
        const manifest = await readManifest(dir);
        const idle = Date.now() - stats.mtimeMs > MAX_IDLE_MS;
        if (idle || (manifest && (await wasCompleted(dir, manifest)))) await removeUpload(dir);
      });
    }
  }

  function sweepIfDue(): void {
    if (Date.now() < nextSweep) return;
    nextSweep = Date.now() + SWEEP_EVERY_MS;
    void sweep().catch(() => undefined);
  }

  sweepIfDue();
  return { create, writePart, list, complete, abort };
}

/**
 * Where part `partNumber` of `size` bytes goes: its slot in `data-<stride>`, the stride being the longest
 * part seen (this one included). A slot past S3's largest object is no part of any object built in place:
 * such a part gets a file of its own.
 */
function slotFor(manifest: UploadManifest, partNumber: number, size: number): { file: string; offset: number; stride: number } {
  const stride = Math.max(manifest.stride ?? 0, size);
  const offset = (partNumber - 1) * stride;
  if (offset + size > MAX_OBJECT_SIZE) return { file: `part-${partNumber}.bytes`, offset: 0, stride };
  return { file: `data-${stride}`, offset, stride };
}

/** S3's rules for CompleteMultipartUpload's list: ascending, each part held with that ETag, all but the last big enough. */
function checkListed(listed: { partNumber: number; etag: string }[], held: Map<number, HeldPart>, minPartSize: number): ListedPart[] {
  if (listed.length === 0) throw new InvalidPartsError('A multipart upload is completed with at least one part.');
  const parts: ListedPart[] = [];
  let previous = 0;
  for (const { partNumber, etag } of listed) {
    if (!(partNumber > previous)) throw new InvalidPartsError('The list of parts was not in ascending order (InvalidPartOrder).');
    previous = partNumber;
    const part = held.get(partNumber);
    if (!part || unquoted(etag) !== part.md5) {
      throw new InvalidPartsError(`Part ${partNumber} is not held with the ETag ${etag} (InvalidPart).`);
    }
    parts.push({ partNumber, ...part });
  }
  const small = parts.slice(0, -1).find((part) => part.size < minPartSize);
  if (small) {
    throw new InvalidPartsError(`Part ${small.partNumber} has ${small.size} bytes; every part but the last needs at least ${minPartSize} (EntityTooSmall).`);
  }
  if (parts.reduce((sum, part) => sum + part.size, 0) > MAX_OBJECT_SIZE) {
    throw new InvalidPartsError(`The parts add up to more than ${MAX_OBJECT_SIZE} bytes, the largest object (EntityTooLarge).`);
  }
  return parts;
}

/** Whether the parts are 1..k, all but the last as long as part 1, the last no longer: one stride fits them. */
function fitsOneStride(parts: ListedPart[]): boolean {
  const stride = parts[0]!.size;
  return parts.every(({ partNumber, size }, index) =>
    partNumber === index + 1 && (index === parts.length - 1 ? size <= stride : size === stride));
}

/** S3's ETag of a multipart object: the MD5 of the parts' binary MD5s, then `-<number of parts>`. */
function compositeEtag(parts: ListedPart[]): string {
  const md5 = createHash('md5');
  for (const part of parts) md5.update(Buffer.from(part.md5, 'hex'));
  return `"${md5.digest('hex')}-${parts.length}"`;
}

/**
 * Streams the body to `offset` of `file`, counting and hashing it; returns its MD5 once all of it is
 * there, matches and is synced. Stops at once when `signal` aborts (the pending read is left to settle).
 */
async function streamInto(
  file: string,
  offset: number,
  body: AsyncIterable<Uint8Array>,
  expected: PartExpectation,
  signal: AbortSignal,
): Promise<Buffer> {
  const handle = await open(file, constants.O_RDWR | constants.O_CREAT, 0o644);
  const chunks = body[Symbol.asyncIterator]();
  let finished = false;
  try {
    const md5 = createHash('md5');
    let received = 0;
    for (;;) {
      const next = await unlessAborted(chunks.next(), signal);
      if (next.done) break;
      const chunk = next.value;
      if (received + chunk.byteLength > expected.size) {
        throw new PartUploadError('IncompleteBody', `The body is longer than its ${expected.size} bytes.`);
      }
      md5.update(chunk);
      await writeAllAt(handle, chunk, offset + received);
      received += chunk.byteLength;
    }
    finished = true;
    if (received < expected.size) {
      throw new PartUploadError('IncompleteBody', `The body has ${received} bytes, fewer than its ${expected.size}.`);
    }
    const digest = md5.digest();
    if (expected.contentMd5 !== undefined && digest.toString('base64') !== expected.contentMd5) {
      throw new PartUploadError('BadDigest', 'The Content-MD5 you specified did not match what we received.');
    }
    await handle.datasync(); // the log must never hold a part whose bytes a crash could still lose
    return digest;
  } finally {
    await handle.close();
    // A body left early is cancelled (its reader released) rather than read to its end.
    if (!finished) void chunks.return?.()?.catch(() => undefined);
  }
}

/** `pending`, or signal.reason as soon as `signal` aborts. */
function unlessAborted<T>(pending: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    pending.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

async function writeAllAt(handle: FileHandle, chunk: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < chunk.byteLength; ) {
    const { bytesWritten } = await handle.write(chunk, done, chunk.byteLength - done, position + done);
    done += bytesWritten;
  }
}

/** Copies `length` bytes at `from` of `source` to `to` of the open `target`. */
async function copyRange(source: string, from: number, length: number, target: FileHandle, to: number): Promise<void> {
  const input = await open(source, 'r');
  try {
    const buffer = new Uint8Array(Math.min(COPY_CHUNK, length));
    for (let done = 0; done < length; ) {
      const { bytesRead } = await input.read(buffer, 0, Math.min(buffer.byteLength, length - done), from + done);
      if (bytesRead === 0) throw new Error(`${source} ends before the part it holds`);
      await writeAllAt(target, buffer.subarray(0, bytesRead), to + done);
      done += bytesRead;
    }
  } finally {
    await input.close();
  }
}

/** Stops the upload's writers of these parts (or all) and waits until none touches its file any more. */
async function stopWriters(dir: string, partNumbers: number[] | 'all', reason: PartUploadError): Promise<void> {
  const running = writers.get(dir);
  if (!running) return;
  const stopping: Promise<void>[] = [];
  for (const [partNumber, writer] of running) {
    if (partNumbers !== 'all' && !partNumbers.includes(partNumber)) continue;
    writer.stop.abort(reason);
    running.delete(partNumber);
    stopping.push(writer.stopped);
  }
  if (running.size === 0) writers.delete(dir);
  await Promise.all(stopping);
}

function writersOf(dir: string): Map<number, PartWriter> {
  let running = writers.get(dir);
  if (!running) writers.set(dir, (running = new Map()));
  return running;
}

function forgetWriter(dir: string, partNumber: number, writer: PartWriter): void {
  const running = writers.get(dir);
  if (running?.get(partNumber) !== writer) return; // already replaced or stopped
  running.delete(partNumber);
  if (running.size === 0) writers.delete(dir);
}

/** Appends the records to the upload's parts.log and syncs it: once this returns, they hold after a crash. */
async function logParts(dir: string, records: PartRecord[]): Promise<void> {
  const handle = await open(partsLogPath(dir), 'a');
  try {
    // Each record on a line of its own, even after a line a crash tore.
    await handle.write(records.map((record) => `\n${JSON.stringify(record)}`).join(''));
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/** The parts held, by number: the last whole record of each part number in parts.log. */
async function heldParts(dir: string): Promise<Map<number, HeldPart>> {
  const held = new Map<number, HeldPart>();
  let log: string;
  try {
    log = await readFile(partsLogPath(dir), 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return held;
    throw error;
  }
  for (const line of log.split('\n')) {
    const record = parseRecord(line);
    if (!record) continue;
    if (record.held) held.set(record.part, record.held);
    else held.delete(record.part);
  }
  return held;
}

/** A line of parts.log, or undefined for an empty line or one a crash tore. */
function parseRecord(line: string): PartRecord | undefined {
  if (line === '') return undefined;
  try {
    return JSON.parse(line) as PartRecord;
  } catch {
    return undefined;
  }
}

/** The upload's manifest (written whole, by rename), or undefined where there is none. */
async function readManifest(dir: string): Promise<UploadManifest | undefined> {
  try {
    return JSON.parse(await readFile(manifestPath(dir), 'utf8')) as UploadManifest;
  } catch (error) {
    if (error instanceof SyntaxError || errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return undefined;
    throw error;
  }
}

/** Complete recorded the file it was placing, and that file is gone: it was placed. */
async function wasCompleted(dir: string, manifest: UploadManifest): Promise<boolean> {
  if (manifest.assembling === undefined) return false;
  return stat(path.join(dir, manifest.assembling)).then(() => false, (error: unknown) => errorCode(error) === 'ENOENT');
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

const manifestPath = (dir: string) => path.join(dir, 'upload.json');
const partsLogPath = (dir: string) => path.join(dir, 'parts.log');
const unquoted = (etag: string) => etag.replace(/^"(.*)"$/, '$1');
const noSuchUpload = () =>
  new PartUploadError('NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.');

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
