import { createHash } from 'node:crypto';

/** `"<hex>"`: S3's ETag of a single-request object, from the base64 MD5 a client declares. */
export function etagOfMd5(md5Base64: string): string {
  return `"${Buffer.from(md5Base64, 'base64').toString('hex')}"`;
}

/**
 * S3's ETag of a multipart object: the MD5 of the parts' binary MD5s one after another, then `-` and
 * the number of parts. From the MD5s the client computed, it says what storage must have assembled.
 */
export function multipartEtag(partMd5sBase64: string[]): string {
  const md5 = createHash('md5');
  for (const part of partMd5sBase64) md5.update(Buffer.from(part, 'base64'));
  return `"${md5.digest('hex')}-${partMd5sBase64.length}"`;
}
