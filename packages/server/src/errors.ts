/**
 * Errors the domain reports to callers: a stable machine `code` that clients switch on and a
 * `detail` sentence that tells a person what to do. How a code travels (HTTP status, problem+json)
 * is the http layer's business (http/problem.ts).
 */
export const ERROR_CODES = [
  'invalid_request',
  'invalid_filename',
  'unauthorized',
  'forbidden',
  'not_found',
  'upload_incomplete',
  'upload_aborted',
  'upload_completed',
  'upload_expired',
  'file_too_large',
  'payload_too_large',
  'type_not_allowed',
  'content_type_mismatch',
  'size_mismatch',
  'checksum_mismatch',
  'storage_unavailable',
  'auth_unavailable',
  'not_ready',
  'internal_error',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class UpfrontError extends Error {
  override readonly name = 'UpfrontError';
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
  ) {
    super(detail);
  }
}
