import { UpfrontError } from '../errors.ts';
import type { Services } from '../services.ts';
import { ObjectMissingError } from '../storage/errors.ts';
import type { CopyResult } from '../storage/types.ts';
import type { FileRecord, FileVersionRecord } from '../store/types.ts';
import { finalCopyOptions } from './complete-upload.ts';
import { syncCurrentVersion, versionWritten } from './current-version.ts';
import { versionRestored } from '../webhooks/events.ts';

export interface FileVersion extends FileVersionRecord {
  /** The version a plain read of the file serves. */
  isCurrent: boolean;
}

/**
 * The file's versions, newest first: those storage keeps (the truth of what exists) that Upfront
 * recorded (their filename, type and SHA-256). On a bucket without versioning that is the current one
 * only. The file's record is brought in line with storage's current version on the way.
 */
export async function listFileVersions(services: Services, file: FileRecord): Promise<{ file: FileRecord; versions: FileVersion[] }> {
  const { storage, store } = services;
  const stored = await storage.listVersions(file.visibility, file.key);
  const current = stored.find((version) => version.isLatest);
  const synced = current && current.versionId !== file.versionId ? await syncCurrentVersion(services, file) : file;
  const recorded = new Map((await store.listFileVersions(file.id)).map((version) => [version.versionId, version]));
  const versions = stored.flatMap((version) => {
    const record = recorded.get(version.versionId);
    return record ? [{ ...record, isCurrent: version.isLatest }] : [];
  });
  return { file: synced, versions };
}

/**
 * Makes an older version current again the way S3 does it: a copy of that version over the key, so
 * its bytes become a new current version (the versions in between stay). Restoring the current
 * version changes nothing. The answer is the file as it is then.
 */
export async function restoreFileVersion(services: Services, file: FileRecord, versionId: string): Promise<FileRecord> {
  const { storage, store } = services;
  const [stored, recorded] = await Promise.all([storage.listVersions(file.visibility, file.key), store.listFileVersions(file.id)]);
  const version = stored.find((candidate) => candidate.versionId === versionId);
  const record = recorded.find((candidate) => candidate.versionId === versionId);
  if (!version || !record) throw noSuchVersion();
  if (version.isLatest) return syncCurrentVersion(services, file);
  let copied: CopyResult;
  try {
    copied = await storage.copy(
      { bucket: file.visibility, key: file.key, versionId },
      { bucket: file.visibility, key: file.key },
      { ...finalCopyOptions(services, file.route, file.visibility, record.contentType, record.filename), size: version.size },
    );
  } catch (error) {
    if (error instanceof ObjectMissingError) throw noSuchVersion();
    throw error;
  }
  const written = await versionWritten(services, file.visibility, file.key, { ...(version.etag !== undefined && { etag: version.etag }), ...copied });
  await store.addFileVersion({ ...record, versionId: written, uploadId: null }, versionRestored(services, file, record));
  return syncCurrentVersion(services, file);
}

function noSuchVersion(): UpfrontError {
  return new UpfrontError('not_found', 'This file has no version with this id; list its versions with GET /v1/files/{id}/versions.');
}
