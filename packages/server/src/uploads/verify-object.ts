import type { ErrorCode } from '../errors.ts';
import type { ObjectStart } from '../storage/types.ts';
import type { UploadRecord } from '../store/types.ts';
import { compareSizes } from './format-size.ts';

/** file-type needs at most this many bytes to recognise any format it knows. */
export const SNIFF_BYTES = 4100;

export interface Rejection {
  code: Extract<
    ErrorCode,
    'size_mismatch' | 'file_too_large' | 'content_type_mismatch' | 'type_not_allowed' | 'checksum_mismatch' | 'image_invalid' | 'file_rejected' | 'processor_timeout'
  >;
  detail: string;
  /** The upload's errorCode when it is not `code`: an app's processor's own (processors/types.ts). */
  reason?: string;
}

export type Verdict = { ok: true; contentType: string } | { ok: false; rejection: Rejection };

/**
 * Decides whether the staged bytes are what the user declared: exact size, and a real type (by magic
 * bytes, never by header or extension) that equals the declared one and is still allowed by the route.
 * HTML, SVG and scripts have no magic bytes, so they can never pass as an image.
 */
export async function verifyObject(upload: UploadRecord, staged: ObjectStart, allowedTypes: string[]): Promise<Verdict> {
  if (upload.sizeUnknown && staged.head.size > upload.size) {
    const [file, limit] = compareSizes(staged.head.size, upload.size);
    return reject('file_too_large', `Storage received ${file}; this upload takes at most ${limit}. Choose a smaller file.`);
  }
  if (!sizeFits(upload, staged.head.size)) {
    if (upload.sizeUnknown) return reject('size_mismatch', 'Storage received an empty file; upload the file again.');
    return reject(
      'size_mismatch',
      `Storage received ${staged.head.size} bytes but the upload declared ${upload.size}; the file may have been truncated or changed. Upload it again.`,
    );
  }
  const detected = (await detectType(staged.bytes))?.mime;
  if (detected !== upload.contentType) {
    const seen = detected ? `looks like ${detected}` : 'is not a recognisable file of that type';
    return reject(
      'content_type_mismatch',
      `The file was declared as ${upload.contentType} but its content ${seen}; upload a real ${upload.contentType} file.`,
    );
  }
  if (!allowedTypes.includes(detected)) {
    return reject('type_not_allowed', `Files of type ${detected} are no longer accepted by this route.`);
  }
  return { ok: true, contentType: detected };
}

/** Whether `size` bytes are what the upload declared: exactly its size, or 1 to it where none was declared. */
export function sizeFits(upload: Pick<UploadRecord, 'size' | 'sizeUnknown'>, size: number): boolean {
  return upload.sizeUnknown ? size >= 1 && size <= upload.size : size === upload.size;
}

/** file-type is loaded on the first verification, not at start-up. */
let fileType: Promise<typeof import('file-type')> | undefined;
async function detectType(bytes: Uint8Array) {
  fileType ??= import('file-type');
  return (await fileType).fileTypeFromBuffer(bytes);
}

function reject(code: Rejection['code'], detail: string): Verdict {
  return { ok: false, rejection: { code, detail } };
}
