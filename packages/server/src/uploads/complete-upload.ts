import { randomUUID } from 'node:crypto';
import { UpfrontError } from '../errors.ts';
import type { Services } from '../services.ts';
import { ObjectChangedError, ObjectMissingError } from '../storage/errors.ts';
import { FinishUploadError } from '../store/errors.ts';
import type { FileRecord, UploadRecord } from '../store/types.ts';
import { isActiveContent } from './content-types.ts';
import { contentDisposition } from './filename.ts';
import { ownUpload } from './own-upload.ts';
import { verifyObject, type Rejection } from './verify-object.ts';

const PUBLIC_CACHE_CONTROL = 'public, max-age=31536000, immutable';
const PRIVATE_CACHE_CONTROL = 'private, max-age=0, no-store';
/**
 * How many times one complete re-reads the upload after losing a race (another complete, an abort,
 * or the staged bytes being sent again). Each re-read sees a newer state, so a few always suffice
 * unless someone keeps overwriting the staged object.
 */
const MAX_STEPS = 6;

/** The step lost a race: read the upload again and continue from its new state. */
const RETRY = Symbol('retry');
type Step = FileRecord | typeof RETRY;

/**
 * Verifies the staged object and promotes it: staging → public/private bucket → file record → staging
 * copy deleted. Idempotent and safe under races: every step is a compare-and-set on the upload's
 * state, and a step that loses (a concurrent complete finished first, an abort won, the bytes were
 * replaced) re-reads the upload and continues from where the winner left it. Every state change
 * happens before the staged object is removed, so "the staged object is gone" always means either
 * "the state moved on" or "the bytes never arrived". A crash between copy and record heals on retry.
 */
export async function completeUpload(services: Services, userId: string, id: string): Promise<FileRecord> {
  for (let step = 0; step < MAX_STEPS; step++) {
    const outcome = await advance(services, await ownUpload(services, userId, id));
    if (outcome !== RETRY) return outcome;
  }
  throw new UpfrontError(
    'upload_incomplete',
    'The file kept changing in storage while it was verified; finish sending it, then complete again.',
  );
}

async function advance(services: Services, upload: UploadRecord): Promise<Step> {
  switch (upload.state) {
    case 'ready':
      return recordedFile(services, upload);
    case 'rejected':
      // Repeats the delete in case the one after the rejection failed.
      await services.storage.delete('staging', upload.key);
      throw rejectedError(upload);
    case 'aborted':
      throw abortedError();
    case 'expired':
      throw expiredError();
    case 'pending':
    case 'uploaded':
      return verify(services, upload);
    case 'verified':
      return promote(services, upload);
  }
}

async function verify(services: Services, upload: UploadRecord): Promise<Step> {
  const { storage, store } = services;
  const staged = await storage.head('staging', upload.key);
  if (!staged) return stagedObjectMissing(services, upload);

  const route = services.config.routes.get(upload.route);
  let verdict;
  try {
    verdict = await verifyObject(storage, upload, staged, route?.types ?? []);
  } catch (error) {
    if (error instanceof ObjectMissingError || error instanceof ObjectChangedError) return RETRY;
    throw error;
  }
  if (!verdict.ok) {
    const { code, detail } = verdict.rejection;
    const rejected = await store.transitionUpload(upload.id, ['pending', 'uploaded'], 'rejected', { errorCode: code });
    if (!rejected) return RETRY;
    await storage.delete('staging', upload.key);
    throw new UpfrontError(code, detail);
  }
  const verified = await store.transitionUpload(upload.id, ['pending', 'uploaded'], 'verified', { etag: staged.etag ?? null });
  return verified ? promote(services, verified) : RETRY;
}

/** Nothing in staging: the bytes never came, or another request moved the upload on and removed them. */
async function stagedObjectMissing(services: Services, upload: UploadRecord): Promise<Step> {
  const now = await services.store.getUpload(upload.id);
  if (!now || now.state !== upload.state || now.updatedAt.getTime() !== upload.updatedAt.getTime()) return RETRY;
  if (Date.now() > upload.expiresAt.getTime()) {
    const expired = await services.store.transitionUpload(upload.id, [upload.state], 'expired');
    if (!expired) return RETRY;
    throw expiredError();
  }
  throw new UpfrontError('upload_incomplete', 'Storage has not received the file yet; send it with the signed request, then complete.');
}

/** Copies the verified bytes (bound to their ETag) to their final bucket and records the file. */
async function promote(services: Services, upload: UploadRecord): Promise<Step> {
  const { storage, store } = services;
  const bucket = upload.visibility;
  const inline = bucket === 'public' && !isActiveContent(upload.contentType);
  try {
    await storage.copy(
      { bucket: 'staging', key: upload.key },
      { bucket, key: upload.key },
      {
        contentType: upload.contentType,
        cacheControl: bucket === 'public' ? PUBLIC_CACHE_CONTROL : PRIVATE_CACHE_CONTROL,
        contentDisposition: contentDisposition(inline ? 'inline' : 'attachment', upload.filename),
        ...(upload.etag !== null && { ifMatch: upload.etag }),
      },
    );
  } catch (error) {
    if (error instanceof ObjectChangedError) {
      // Replaced after verification (its signed request is still valid): verify the new bytes.
      await store.transitionUpload(upload.id, ['verified'], 'uploaded', { etag: null });
      return RETRY;
    }
    if (error instanceof ObjectMissingError) return promotedObjectMissing(services, upload);
    throw error;
  }
  return record(services, upload);
}

/**
 * The verified staged object is gone. Usually a concurrent complete finished (the state moved on);
 * otherwise an earlier attempt may have copied it and died before recording, or storage expired it.
 */
async function promotedObjectMissing(services: Services, upload: UploadRecord): Promise<Step> {
  const { storage, store } = services;
  const now = await store.getUpload(upload.id);
  if (!now || now.state !== 'verified' || now.etag !== upload.etag) return RETRY;
  const promoted = await storage.head(upload.visibility, upload.key);
  if (promoted && promoted.size === upload.size && (upload.etag === null || promoted.etag === upload.etag)) {
    return record(services, upload);
  }
  if (!(await store.transitionUpload(upload.id, ['verified'], 'expired'))) return RETRY;
  throw expiredError();
}

async function record(services: Services, upload: UploadRecord): Promise<Step> {
  const { storage, store } = services;
  let file: FileRecord;
  try {
    file = await store.finishUpload({
      id: randomUUID(),
      uploadId: upload.id,
      userId: upload.userId,
      route: upload.route,
      key: upload.key,
      visibility: upload.visibility,
      filename: upload.filename,
      contentType: upload.contentType,
      size: upload.size,
    });
  } catch (error) {
    if (!(error instanceof FinishUploadError)) throw error;
    if (error.reason === 'file_deleted') {
      // The user deleted the file while this (retried) complete was promoting it: it stays deleted.
      await storage.delete(upload.visibility, upload.key);
      throw new UpfrontError('not_found', 'The file of this upload has been deleted.');
    }
    if (error.reason !== 'not_verified') throw error;
    // Another request won (the bytes changed and are verified again, or the upload ended). If it
    // ended without a file, nobody else will promote: remove the copy made here.
    const now = await store.getUpload(upload.id);
    if (now && (now.state === 'aborted' || now.state === 'rejected' || now.state === 'expired')) {
      await storage.delete(upload.visibility, upload.key);
    }
    return RETRY;
  }
  await storage.delete('staging', upload.key);
  return file;
}

function abortedError(): UpfrontError {
  return new UpfrontError('upload_aborted', 'This upload was aborted; create a new upload.');
}

function expiredError(): UpfrontError {
  return new UpfrontError('upload_expired', 'This upload expired before the file arrived; create a new upload.');
}

function rejectedError(upload: UploadRecord): UpfrontError {
  const code = (upload.errorCode ?? 'content_type_mismatch') as Rejection['code'];
  return new UpfrontError(code, 'This upload was rejected when it was verified and its bytes were deleted; create a new upload.');
}

async function recordedFile(services: Services, upload: UploadRecord): Promise<FileRecord> {
  const file = upload.fileId ? await services.store.getFile(upload.fileId) : undefined;
  if (!file) throw new UpfrontError('not_found', 'The file of this upload has been deleted.');
  return file;
}
