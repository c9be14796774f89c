import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ERROR_CODES, UpfrontError } from '../errors.ts';
import type { Services } from '../services.ts';
import { ObjectChangedError, ObjectMissingError } from '../storage/errors.ts';
import { NULL_VERSION, type CopyOptions, type CopyResult } from '../storage/types.ts';
import { FinishUploadError } from '../store/errors.ts';
import { UNFINISHED_STATES, type FileRecord, type UploadRecord, type Visibility } from '../store/types.ts';
import { syncCurrentVersion, versionWritten } from './current-version.ts';
import { isActiveContent } from './content-types.ts';
import { contentDisposition } from './filename.ts';
import { ownUpload } from './own-upload.ts';
import { assembleParts, ChecksumMismatch } from './assemble-parts.ts';
import { etagOfMd5, multipartEtag } from './checksums.ts';
import { SNIFF_BYTES, sizeFits, verifyObject, type Rejection } from './verify-object.ts';
import { processUpload } from '../processors/process-upload.ts';
import { discardVariants } from '../processors/variants.ts';
import { replacementCompleted, uploadCompleted, uploadRejected } from '../webhooks/events.ts';

/**
 * Bounded, not immutable: a replaced file keeps its key (as a new version) and a deleted one may still
 * be cached, so no cache may keep one longer than an hour (README, "Cache lifetime of public files").
 */
const PUBLIC_CACHE_CONTROL = 'public, max-age=3600, stale-while-revalidate=60';
const PRIVATE_CACHE_CONTROL = 'private, max-age=0, no-store';
/**
 * How many times one complete re-reads the upload after losing a race (another complete, an abort,
 * or the staged bytes being sent again). Each re-read sees a newer state, so a few always suffice
 * unless someone keeps overwriting the staged object.
 */
const MAX_STEPS = 6;

/** The step lost a race: read the upload again and continue from its new state. */
const RETRY = Symbol('retry');
/** Another request is busy with the upload in storage: read it again after a moment. */
const WAIT = Symbol('wait');
type Step = FileRecord | typeof RETRY | typeof WAIT;

/**
 * Verifies the staged object and promotes it: staging → public/private bucket → file record, the
 * staged copy deleted meanwhile. Idempotent and safe under races: recording is one transaction that
 * refuses an upload an abort (or a rejection) has ended, and a step that loses a race (a concurrent
 * complete finished first, an abort won, the bytes were replaced) re-reads the upload and continues
 * from the state the winner left. A staged object that is gone means the state moved on, or its
 * bytes were promoted (the final bucket holds them), or they never arrived; a crash heals on retry.
 */
export async function completeUpload(services: Services, userId: string, id: string, declared: Declared = {}): Promise<FileRecord> {
  for (let step = 0; step < MAX_STEPS; step++) {
    const outcome = await advance(services, await ownUpload(services, userId, id), declared);
    if (outcome === WAIT) await sleep(50 * 2 ** step);
    else if (outcome !== RETRY) return outcome;
  }
  throw new UpfrontError(
    'upload_incomplete',
    'The file kept changing in storage while it was verified; finish sending it, then complete again.',
  );
}

/** What the client says of the bytes it sent, checked against what storage holds. */
export interface Declared {
  /** Multipart: the MD5 of every part. */
  parts?: { partNumber: number; md5: string }[];
  /** Hex SHA-256 of the whole file, kept with the file. */
  sha256?: string;
}

async function advance(services: Services, upload: UploadRecord, declared: Declared): Promise<Step> {
  switch (upload.state) {
    case 'ready':
      return recordedFile(services, upload);
    case 'rejected':
      // Repeats the clean-up in case the one after the rejection failed.
      await discardStaged(services, upload);
      throw rejectedError(upload);
    case 'aborted':
      throw abortedError();
    case 'expired':
      throw expiredError();
    case 'pending':
    case 'uploaded':
    case 'verified':
      return verifyAndPromote(services, upload, declared);
  }
}

/**
 * Reads the staged object's head and first bytes (one request), verifies them, copies exactly that
 * version (bound to its ETag) to the final bucket and records the file.
 */
async function verifyAndPromote(services: Services, upload: UploadRecord, declared: Declared): Promise<Step> {
  const { storage, store } = services;
  const declaredMd5s = declared.parts && new Map(declared.parts.map((part) => [part.partNumber, part.md5]));
  if (upload.multipart && upload.state === 'pending') {
    let assembly;
    try {
      assembly = await assembleParts(services, upload, upload.multipart, declaredMd5s);
    } catch (error) {
      if (error instanceof ChecksumMismatch) return reject(services, upload, { code: 'checksum_mismatch', detail: error.message });
      throw error;
    }
    if (assembly === 'retry') return RETRY;
    if (assembly === 'busy') return WAIT;
    if (assembly === 'assembled') await store.transitionUpload(upload.id, ['pending'], 'uploaded');
  }
  const staged = await storage.readStart('staging', upload.key, SNIFF_BYTES);
  if (!staged) return stagedObjectMissing(services, upload);

  const verdict = await verifyObject(upload, staged, services.config.routes.get(upload.route)?.types ?? []);
  if (!verdict.ok) return reject(services, upload, verdict.rejection);
  // Where no size was declared, the file is what storage received.
  const received = upload.sizeUnknown ? { ...upload, size: staged.head.size } : upload;
  const expected = expectedEtag(upload, declaredMd5s);
  if (expected !== undefined && staged.head.etag !== expected) {
    return reject(services, upload, {
      code: 'checksum_mismatch',
      detail: 'Storage holds other bytes than the client computed the MD5 of: they changed on the way. Upload the file again.',
    });
  }

  // A replacement is promoted over the key of the file it replaces, as a new version of it.
  const replaced = upload.replaces !== null ? await replacedFile(services, upload.replaces) : undefined;
  const target = replaced ?? upload;
  // The route's processors (processors/) may reject the file, or store other bytes than the staged ones.
  const processed = await processUpload(services, received, staged.head, target, (type, name) => finalCopyOptions(services, upload.route, target.visibility, type, name));
  if (processed.outcome === 'changed') return RETRY;
  if (processed.outcome === 'rejected') return reject(services, upload, processed.rejection);
  let copied: CopyResult;
  try {
    copied = processed.outcome === 'rewritten' ? processed.written : await storage.copy(
      { bucket: 'staging', key: upload.key },
      { bucket: target.visibility, key: target.key },
      {
        ...finalCopyOptions(services, upload.route, target.visibility, upload.contentType, upload.filename),
        ...(staged.head.etag !== undefined && { ifMatch: staged.head.etag }),
        size: staged.head.size,
      },
    );
  } catch (error) {
    // Replaced since it was read (its signed request is still valid), or removed by a request that
    // won: read it again, or answer from the new state.
    if (error instanceof ObjectChangedError || error instanceof ObjectMissingError) return RETRY;
    throw error;
  }
  // Rewritten bytes are recorded as stored: their ETag, size and SHA-256 (the client's describes what it sent).
  const rewritten = processed.outcome === 'rewritten' ? processed : undefined;
  const etag = (rewritten ? rewritten.written.etag : staged.head.etag) ?? null;
  const promoted = rewritten ? { ...received, size: rewritten.size } : received;
  const sha256 = rewritten ? rewritten.sha256 : declared.sha256;
  if (replaced) {
    const versionId = await versionWritten(services, replaced.visibility, replaced.key, copied);
    return recordVersion(services, promoted, replaced, versionId, etag, sha256);
  }
  // A new file's key has this one version: where storage did not name it, the first sync records it.
  return record(services, promoted, etag, sha256, copied.versionId);
}

/** Metadata of a file's bytes in its final bucket, promoted or restored from an older version. */
export function finalCopyOptions(services: Services, route: string, bucket: Visibility, contentType: string, filename: string): CopyOptions {
  const storageClass = services.config.routes.get(route)?.storageClass;
  const inline = bucket === 'public' && !isActiveContent(contentType);
  return {
    contentType,
    ...(storageClass && { storageClass }),
    cacheControl: bucket === 'public' ? PUBLIC_CACHE_CONTROL : PRIVATE_CACHE_CONTROL,
    contentDisposition: contentDisposition(inline ? 'inline' : 'attachment', filename),
  };
}

/**
 * The file a replacement writes a version of, its record first brought in line with storage (a file
 * recorded before versions were gets its current version recorded, so that it is listed and restorable).
 */
async function replacedFile(services: Services, id: string): Promise<FileRecord> {
  const file = await services.store.getFile(id);
  if (!file) throw replacedFileDeleted();
  return file.versionId === null ? syncCurrentVersion(services, file) : file;
}

function replacedFileDeleted(): UpfrontError {
  return new UpfrontError('not_found', 'The file this upload replaces has been deleted; upload the file as a new one instead.');
}

/** Verification failed: the upload ends as rejected (once, whoever races) and its staged bytes go. */
async function reject(services: Services, upload: UploadRecord, { code, detail, reason = code }: Rejection): Promise<Step> {
  const rejected = await services.store.transitionUpload(upload.id, UNFINISHED_STATES, 'rejected', { errorCode: reason }, uploadRejected(services, upload, reason));
  if (!rejected) return RETRY;
  services.metrics.uploadsRejected.inc({ route: upload.route, reason });
  await discardStaged(services, upload);
  throw new UpfrontError(code, detail);
}

/** Removes what an upload left in staging: the object, and a multipart upload's parts. */
export async function discardStaged(services: Services, upload: UploadRecord): Promise<void> {
  const { storage } = services;
  if (upload.multipart) await storage.abortMultipart(upload.key, upload.multipart.uploadId);
  await storage.delete('staging', upload.key);
}

/**
 * The ETag storage must report if it holds what the client hashed: from a single PUT's declared MD5,
 * or from every part's MD5 for a multipart upload; undefined when the client declared none.
 */
function expectedEtag(upload: UploadRecord, declaredMd5s: Map<number, string> | undefined): string | undefined {
  if (upload.multipart) {
    if (!declaredMd5s) return undefined;
    const md5s = Array.from({ length: upload.multipart.partCount }, (_, i) => declaredMd5s.get(i + 1));
    return md5s.every((md5) => md5 !== undefined) ? multipartEtag(md5s as string[]) : undefined;
  }
  return upload.contentMd5 !== null ? etagOfMd5(upload.contentMd5) : undefined;
}

/**
 * Nothing in staging: the bytes never came, or another request moved the upload on and removed them,
 * or an earlier attempt promoted them and failed before recording the file. Only promotion writes to
 * the final buckets, and only verified bytes, so an object of the declared size (or, undeclared, of a size
 * it allows) there is this one.
 */
async function stagedObjectMissing(services: Services, upload: UploadRecord): Promise<Step> {
  const { storage, store } = services;
  const now = await store.getUpload(upload.id);
  if (!now || now.state !== upload.state || now.updatedAt.getTime() !== upload.updatedAt.getTime()) return RETRY;
  // (Not so for a replacement: the key holds the file's earlier versions.)
  const promoted = upload.replaces === null ? await storage.head(upload.visibility, upload.key) : null;
  if (promoted && sizeFits(upload, promoted.size)) return record(services, { ...upload, size: promoted.size }, promoted.etag ?? null, undefined);
  if (Date.now() > upload.expiresAt.getTime()) {
    if (!(await store.transitionUpload(upload.id, UNFINISHED_STATES, 'expired'))) return RETRY;
    throw expiredError();
  }
  throw new UpfrontError('upload_incomplete', 'Storage has not received the file yet; send it with the signed request, then complete.');
}

/**
 * Records the promoted file (one transaction). The staged copy is removed after the answer: the file
 * is in place and recorded by then, and a copy that a crash leaves behind is only a private staging
 * object (staging expiry, a lifecycle rule and a sweeper, is to remove such leftovers). If recording
 * fails, the promoted copy stays and a retry finds it (stagedObjectMissing).
 */
async function record(services: Services, upload: UploadRecord, etag: string | null, sha256: string | undefined, versionId?: string): Promise<Step> {
  const { store } = services;
  let file: FileRecord;
  try {
    file = await store.finishUpload(
      {
        id: randomUUID(),
        uploadId: upload.id,
        userId: upload.userId,
        route: upload.route,
        key: upload.key,
        visibility: upload.visibility,
        filename: upload.filename,
        contentType: upload.contentType,
        size: upload.size,
        sha256: sha256 ?? upload.sha256,
      },
      { etag, ...(versionId !== undefined && { versionId }), ...uploadCompleted(services, upload) },
    );
  } catch (error) {
    return notRecorded(services, upload, error);
  }
  recorded(services, upload);
  return file;
}

/**
 * A replacement's record: the version it wrote (one transaction with the upload's `ready`), then the
 * file's record follows storage's current version, which is this one unless another write landed after.
 */
async function recordVersion(
  services: Services,
  upload: UploadRecord,
  file: FileRecord,
  versionId: string,
  etag: string | null,
  sha256: string | undefined,
): Promise<Step> {
  const { storage, store } = services;
  const version = {
    fileId: file.id,
    versionId,
    uploadId: upload.id,
    filename: upload.filename,
    contentType: upload.contentType,
    size: upload.size,
    sha256: sha256 ?? upload.sha256,
  };
  try {
    await store.finishReplacement(version, upload.userId, { etag, ...replacementCompleted(services, upload, file, version) });
  } catch (error) {
    if (!(error instanceof FinishUploadError) || (error.reason !== 'file_deleted' && error.reason !== 'upload_ended')) throw error;
    // Nobody will record the version written here, so it goes: the version before it is current again (a
    // deleted file's delete marker). Without versions the bytes were replaced in place: only a deleted file's go.
    if (versionId !== NULL_VERSION) await storage.delete(file.visibility, file.key, versionId);
    else if (error.reason === 'file_deleted') await storage.delete(file.visibility, file.key);
    if (error.reason === 'file_deleted') {
      await discardVariants(services, file.visibility, file.key);
      throw replacedFileDeleted();
    }
    return RETRY;
  }
  recorded(services, upload);
  return syncCurrentVersion(services, file);
}

/**
 * Once the upload's record is written: counted (a later complete of the ready upload answers without
 * counting), and its staged copy deleted after the answer.
 */
function recorded(services: Services, upload: UploadRecord): void {
  services.metrics.uploadsCompleted.inc({ route: upload.route });
  services.metrics.bytesPromoted.inc({ route: upload.route }, upload.size);
  services.background.run(`deleting the staged copy of ${upload.key}`, () => services.storage.delete('staging', upload.key));
}

async function notRecorded(services: Services, upload: UploadRecord, error: unknown): Promise<Step> {
  const { storage } = services;
  if (!(error instanceof FinishUploadError)) throw error;
  if (error.reason === 'file_deleted') {
    // The user deleted the file while this (retried) complete was promoting it: it stays deleted.
    await storage.delete(upload.visibility, upload.key);
    await discardVariants(services, upload.visibility, upload.key);
    throw new UpfrontError('not_found', 'The file of this upload has been deleted.');
  }
  if (error.reason !== 'upload_ended') throw error;
  // An abort (or a rejection of bytes sent again) won: nobody will promote this upload, so the copy
  // made here goes, and the answer comes from the new state.
  await storage.delete(upload.visibility, upload.key);
  await discardVariants(services, upload.visibility, upload.key);
  return RETRY;
}

function abortedError(): UpfrontError {
  return new UpfrontError('upload_aborted', 'This upload was aborted; create a new upload.');
}

function expiredError(): UpfrontError {
  return new UpfrontError('upload_expired', 'This upload expired before the file arrived; create a new upload.');
}

function rejectedError(upload: UploadRecord): UpfrontError {
  // An app's processor's own code (processors/) is answered as file_rejected.
  const known = upload.errorCode === null || (ERROR_CODES as readonly string[]).includes(upload.errorCode);
  const code = known ? ((upload.errorCode ?? 'content_type_mismatch') as Rejection['code']) : 'file_rejected';
  return new UpfrontError(code, 'This upload was rejected when it was verified and its bytes were deleted; create a new upload.');
}

async function recordedFile(services: Services, upload: UploadRecord): Promise<FileRecord> {
  const file = upload.fileId ? await services.store.getFile(upload.fileId) : undefined;
  if (!file) throw new UpfrontError('not_found', 'The file of this upload has been deleted.');
  // A retried replacement finishes what a failure may have left: the record following storage.
  return upload.replaces !== null ? syncCurrentVersion(services, file) : file;
}
