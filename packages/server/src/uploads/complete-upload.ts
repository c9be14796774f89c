import { randomUUID } from 'node:crypto';
import { ApiError } from '../http/problem.ts';
import type { Services } from '../services.ts';
import { ObjectChangedError } from '../storage/errors.ts';
import type { ObjectHead } from '../storage/types.ts';
import { FinishUploadError } from '../store/errors.ts';
import type { FileRecord, UploadRecord } from '../store/types.ts';
import { isActiveContent } from './content-types.ts';
import { contentDisposition } from './filename.ts';
import { verifyObject, type Rejection } from './verify-object.ts';

const PUBLIC_CACHE_CONTROL = 'public, max-age=31536000, immutable';
const PRIVATE_CACHE_CONTROL = 'private, max-age=0, no-store';
// The staged object is bound to the ETag that was verified; if it is overwritten meanwhile (the
// signed request is still valid), verification starts again, a few times at most.
const ATTEMPTS = 3;

/** The upload, if it exists and belongs to the user; others' uploads are indistinguishable from missing ones. */
export async function ownUpload(services: Services, userId: string, id: string): Promise<UploadRecord> {
  const upload = await services.store.getUpload(id);
  if (!upload || upload.userId !== userId) {
    throw new ApiError(404, 'not_found', 'No upload with this id belongs to you; create a new upload.');
  }
  return upload;
}

/**
 * Verifies the staged object and promotes it: staging → public/private bucket → file record → staging
 * copy deleted. Idempotent and crash-safe: every step can be repeated, the record is written in one
 * transaction, and a retry after a crash between copy and record simply copies again.
 */
export async function completeUpload(services: Services, userId: string, id: string): Promise<FileRecord> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await completeOnce(services, await ownUpload(services, userId, id));
    } catch (error) {
      if (!(error instanceof ObjectChangedError)) throw error;
      if (attempt === ATTEMPTS) {
        throw new ApiError(409, 'upload_incomplete', 'The file kept changing in storage while it was verified; finish sending it, then complete again.');
      }
    }
  }
}

async function completeOnce(services: Services, upload: UploadRecord): Promise<FileRecord> {
  const { storage, store } = services;
  switch (upload.state) {
    case 'ready':
      return recordedFile(services, upload);
    case 'rejected':
      throw rejectedError(upload);
    case 'aborted':
      throw new ApiError(409, 'upload_aborted', 'This upload was aborted; create a new upload.');
    case 'expired':
      throw expiredError();
  }

  const staged = await storage.head('staging', upload.key);
  if (!staged) {
    if (Date.now() > upload.expiresAt.getTime()) {
      await store.transitionUpload(upload.id, ['pending', 'uploaded', 'verified'], 'expired');
      throw expiredError();
    }
    throw new ApiError(409, 'upload_incomplete', 'Storage has not received the file yet; send it with the signed request, then complete.');
  }
  await store.transitionUpload(upload.id, ['pending'], 'uploaded');

  const route = services.config.routes[upload.route];
  const verdict = await verifyObject(storage, upload, staged, route?.types ?? []);
  if (!verdict.ok) {
    // Delete first: a rejected file must not linger, even if recording the rejection fails.
    await storage.delete('staging', upload.key);
    const rejected = await store.transitionUpload(upload.id, ['pending', 'uploaded', 'verified'], 'rejected', {
      errorCode: verdict.rejection.code,
    });
    if (!rejected) return completeOnce(services, (await store.getUpload(upload.id))!); // another request finished it meanwhile
    throw new ApiError(422, verdict.rejection.code, verdict.rejection.detail);
  }
  await store.transitionUpload(upload.id, ['uploaded'], 'verified');
  return promote(services, upload, staged, verdict.contentType);
}

async function promote(services: Services, upload: UploadRecord, staged: ObjectHead, contentType: string): Promise<FileRecord> {
  const { storage, store } = services;
  const bucket = upload.visibility;
  const inline = bucket === 'public' && !isActiveContent(contentType);
  await storage.copy(
    { bucket: 'staging', key: upload.key },
    { bucket, key: upload.key },
    {
      contentType,
      cacheControl: bucket === 'public' ? PUBLIC_CACHE_CONTROL : PRIVATE_CACHE_CONTROL,
      contentDisposition: contentDisposition(inline ? 'inline' : 'attachment', upload.filename),
      ...(staged.etag !== undefined && { ifMatch: staged.etag }),
    },
  );
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
      contentType,
      size: staged.size,
    });
  } catch (error) {
    // The user deleted the file while this (retried) complete was promoting it: it stays deleted.
    if (error instanceof FinishUploadError && error.reason === 'file_deleted') {
      await storage.delete(bucket, upload.key);
      throw new ApiError(404, 'not_found', 'The file of this upload has been deleted.');
    }
    throw error;
  }
  await storage.delete('staging', upload.key);
  return file;
}

function expiredError(): ApiError {
  return new ApiError(410, 'upload_expired', 'This upload expired before the file arrived; create a new upload.');
}

function rejectedError(upload: UploadRecord): ApiError {
  const code = (upload.errorCode ?? 'content_type_mismatch') as Rejection['code'];
  return new ApiError(422, code, 'This upload was rejected when it was verified and its bytes were deleted; create a new upload.');
}

async function recordedFile(services: Services, upload: UploadRecord): Promise<FileRecord> {
  const file = upload.fileId ? await services.store.getFile(upload.fileId) : undefined;
  if (!file) throw new ApiError(404, 'not_found', 'The file of this upload has been deleted.');
  return file;
}
