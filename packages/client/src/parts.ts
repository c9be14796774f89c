/** How a multipart upload's file is cut, and which parts storage already holds. */
import type { StoredPart } from './api-types.ts';

/** S3's ETag of bytes with this base64 MD5: their hex MD5 in quotes. */
export function etagOf(md5: string): string {
  return `"${[...atob(md5)].map((c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join('')}"`;
}

/**
 * Whether storage's part is this part: the same length and, when the client hashed it, the same MD5
 * (a part stored from another file, or a file changed since, is sent again).
 */
export function holds(stored: StoredPart | undefined, size: number, md5: string | undefined): boolean {
  return stored !== undefined && stored.size === size && (md5 === undefined || stored.etag.toLowerCase() === etagOf(md5));
}
