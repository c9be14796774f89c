import { UpfrontError } from '../errors.ts';
import type { Services } from '../services.ts';
import { NULL_VERSION, type CopyResult } from '../storage/types.ts';
import type { FileRecord, Visibility } from '../store/types.ts';

/** Rounds of read-compare-set before leaving the record to the sync that keeps winning (it is newer). */
const MAX_ROUNDS = 5;

/**
 * The version a copy wrote. Where storage did not say (Ceph RGW 16's CopyObject), the newest version
 * with the copy's ETag, i.e. these bytes (two copies of the same bytes at once may both name one
 * version: the same bytes either way); without an ETag, the current one.
 */
export async function versionWritten(services: Services, bucket: Visibility, key: string, result: CopyResult): Promise<string> {
  if (result.versionId !== undefined) return result.versionId;
  const versions = await services.storage.listVersions(bucket, key);
  // Compared unquoted: RGW's CopyObject result gives the ETag without the quotes its listings have.
  const etag = result.etag?.replace(/^"|"$/g, '');
  const written = versions.find((version) => etag !== undefined && version.etag?.replace(/^"|"$/g, '') === etag) ?? versions.find((version) => version.isLatest);
  return written?.versionId ?? NULL_VERSION;
}

/**
 * Makes the file's record describe the version storage serves now. Replacements and restores write
 * versions concurrently and storage alone knows which landed last, so each writer, after its write,
 * reads storage's current version and sets the record to it, compare-and-set on the record's revision
 * read *before* storage was: a sync that read storage earlier than one already committed fails its
 * compare and reads again. So the last sync to commit read storage last, and once the writers are done
 * the record is storage's current version. A version not recorded yet (its writer records it next, or
 * a complete failed before recording it, or the file was recorded before versions were) is recorded
 * from what is known, and its writer's record, when it comes, replaces that.
 */
export async function syncCurrentVersion(services: Services, file: FileRecord): Promise<FileRecord> {
  const { storage, store } = services;
  let seen = file;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const latest = (await storage.listVersions(seen.visibility, seen.key)).find((version) => version.isLatest);
    // Nothing current: the file is being deleted. Otherwise the record is set even to the version it names:
    // that version's record may have been written since (by its writer, after a sync recorded it unknown).
    if (!latest) return seen;
    const updated = await store.setCurrentVersion(seen.id, seen.revision, latest.versionId, {
      fileId: seen.id,
      versionId: latest.versionId,
      uploadId: null,
      filename: seen.filename,
      contentType: seen.contentType,
      size: latest.size,
      // A file recorded before versions were: its record describes the bytes storage holds.
      sha256: seen.versionId === null ? seen.sha256 : null,
    });
    if (updated) return updated;
    const now = await store.getFile(seen.id);
    if (!now) throw new UpfrontError('not_found', 'This file has been deleted.');
    seen = now;
  }
  return seen;
}
