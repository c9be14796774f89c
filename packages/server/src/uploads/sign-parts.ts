import { UpfrontError } from '../errors.ts';
import type { Services } from '../services.ts';
import type { PresignedPut } from '../storage/types.ts';
import type { MultipartLayout, UploadRecord } from '../store/types.ts';
import { ownUpload } from './own-upload.ts';

export interface PartToSign {
  partNumber: number;
  /** Base64 MD5 of the part's bytes, signed into its URL when given. */
  md5?: string;
}

export interface SignedPart extends PresignedPut {
  partNumber: number;
  /** The exact length the part must have. */
  size: number;
}

/** Part URLs live as long as the route's signed requests, never past the upload itself. */
const DEFAULT_EXPIRES_IN = 600;

/**
 * Signs PUT URLs for parts of a multipart upload: each bound to its part number, its exact length and,
 * when the client sends one, its MD5. Parts may be signed again at any time while the upload lives, so
 * a long upload never dies of an expired URL.
 */
export async function signParts(
  services: Services,
  userId: string,
  id: string,
  parts: PartToSign[],
): Promise<{ parts: SignedPart[]; expiresAt: Date }> {
  const upload = await ownUpload(services, userId, id);
  const multipart = liveMultipart(upload);
  const now = Date.now();
  const lifetime = Math.floor((upload.expiresAt.getTime() - now) / 1000);
  const expiresIn = Math.min(services.config.routes.get(upload.route)?.expiresIn ?? DEFAULT_EXPIRES_IN, lifetime);
  const signed: SignedPart[] = [];
  for (const { partNumber, md5 } of parts) {
    if (partNumber > multipart.partCount) {
      throw new UpfrontError(
        'invalid_request',
        `Part ${partNumber} is out of range: this upload has ${multipart.partCount} part${multipart.partCount === 1 ? '' : 's'} (1 to ${multipart.partCount}).`,
      );
    }
    const size = partLength(upload.size, multipart, partNumber);
    const put = await services.storage.presignPart({
      key: upload.key,
      uploadId: multipart.uploadId,
      partNumber,
      contentLength: size,
      ...(md5 !== undefined && { contentMd5: md5 }),
      expiresIn,
    });
    signed.push({ partNumber, size, ...put });
  }
  return { parts: signed, expiresAt: new Date(now + expiresIn * 1000) };
}

/** Bytes of part `partNumber` (1-based): the part size, or what is left for the last one. */
export function partLength(size: number, { partSize, partCount }: MultipartLayout, partNumber: number): number {
  return partNumber < partCount ? partSize : size - partSize * (partCount - 1);
}

/** The upload's multipart layout, if parts may still be sent to it; else the error that says why not. */
function liveMultipart(upload: UploadRecord): MultipartLayout {
  if (!upload.multipart) {
    throw new UpfrontError('invalid_request', `This upload is sent in one request (strategy ${upload.strategy}); it has no parts to sign.`);
  }
  switch (upload.state) {
    case 'aborted':
      throw new UpfrontError('upload_aborted', 'This upload was aborted; create a new upload.');
    case 'rejected':
      throw new UpfrontError('upload_completed', 'This upload was verified and rejected; create a new upload.');
    case 'ready':
    case 'verified':
      throw new UpfrontError('upload_completed', 'This upload is complete; it takes no more parts.');
    case 'expired':
      throw new UpfrontError('upload_expired', 'This upload expired; create a new upload.');
  }
  if (Date.now() >= upload.expiresAt.getTime()) {
    throw new UpfrontError('upload_expired', 'This upload expired before all its parts arrived; create a new upload.');
  }
  return upload.multipart;
}
