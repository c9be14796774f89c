import { UpfrontError } from '../errors.ts';
import type { Services } from '../services.ts';
import { InvalidPartsError, ObjectMissingError } from '../storage/errors.ts';
import type { MultipartLayout, UploadRecord } from '../store/types.ts';
import { etagOfMd5 } from './checksums.ts';
import { partLength } from './sign-parts.ts';

export type Assembly = 'assembled' | 'gone' | 'retry' | 'busy';

/**
 * Turns the parts storage holds into the staged object: every part present, each of its exact length
 * and, where the client declared MD5s, each with that MD5 (storage's part ETag); else nothing is
 * assembled and the client is told what is missing or wrong. `gone`: there is no multipart upload
 * (anymore): it was assembled by an earlier call, or aborted (the upload's state says which).
 * `retry`: another request changed the parts meanwhile. `busy`: storage refused to assemble while
 * another request is assembling them (RGW answers 500 then): look again in a moment.
 */
export async function assembleParts(services: Services, upload: UploadRecord, multipart: MultipartLayout, declaredMd5s: Map<number, string> | undefined): Promise<Assembly> {
  const { storage } = services;
  const stored = await storage.listParts(upload.key, multipart.uploadId);
  if (stored === null) return 'gone';
  const byNumber = new Map(stored.map((part) => [part.partNumber, part]));
  const missing: number[] = [];
  for (let partNumber = 1; partNumber <= multipart.partCount; partNumber++) {
    const part = byNumber.get(partNumber);
    // Every part URL binds its exact length, so a part of another length can only be absent.
    if (!part || part.size !== partLength(upload.size, multipart, partNumber)) missing.push(partNumber);
  }
  if (missing.length > 0) {
    throw new UpfrontError(
      'upload_incomplete',
      `Storage holds ${multipart.partCount - missing.length} of the ${multipart.partCount} parts; send ${describeParts(missing)}, then complete again.`,
    );
  }
  if (declaredMd5s) {
    const mismatched = [...byNumber.values()].filter(({ partNumber, etag }) => {
      const declared = declaredMd5s.get(partNumber);
      return declared === undefined || etagOfMd5(declared) !== etag;
    });
    if (mismatched.length > 0) {
      throw new ChecksumMismatch(
        `Storage's ${describeParts(mismatched.map((part) => part.partNumber))} ${mismatched.length === 1 ? 'does' : 'do'} not have the MD5 the client computed: the bytes changed on the way. Upload the file again.`,
      );
    }
  }
  const parts = [...byNumber.values()].filter((part) => part.partNumber <= multipart.partCount).sort((a, b) => a.partNumber - b.partNumber);
  try {
    await storage.completeMultipart(upload.key, multipart.uploadId, parts.map(({ partNumber, etag }) => ({ partNumber, etag })));
  } catch (error) {
    // A part re-sent between the list and now, or a concurrent complete or abort that got there first.
    if (error instanceof InvalidPartsError || error instanceof ObjectMissingError) return 'retry';
    // Also what a store that is down answers: the next look (listParts) then fails as it should.
    if ((error as { code?: unknown }).code === 'storage_unavailable') return 'busy';
    throw error;
  }
  return 'assembled';
}

/** The parts storage holds do not match what the client computed; the upload is to be rejected. */
export class ChecksumMismatch extends Error {
  override readonly name = 'ChecksumMismatch';
}

/** "part 3", "parts 3, 7 and 9", "parts 1, 2, 3 and 41 more". */
function describeParts(numbers: number[]): string {
  if (numbers.length === 1) return `part ${numbers[0]}`;
  const shown = numbers.slice(0, 3);
  const rest = numbers.length - shown.length;
  return rest > 0 ? `parts ${shown.join(', ')} and ${rest} more` : `parts ${shown.slice(0, -1).join(', ')} and ${shown.at(-1)}`;
}
