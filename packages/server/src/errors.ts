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
  'image_invalid',
  'file_rejected',
  'processor_timeout',
  'processing_failed',
  'quota_exceeded',
  'rate_limited',
  'storage_unavailable',
  'auth_unavailable',
  'not_ready',
  'internal_error',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Where one code answers with more than one status (quota_exceeded: 413 for bytes, 403 for files), or needs a header. */
export interface ErrorOptions {
  status?: number;
  headers?: Record<string, string>;
}

export class UpfrontError extends Error {
  override readonly name = 'UpfrontError';
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly options: ErrorOptions = {},
  ) {
    super(detail);
  }
}
