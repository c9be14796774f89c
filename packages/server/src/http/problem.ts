/**
 * Errors as RFC 9457 `application/problem+json`: each domain error code (errors.ts) has one HTTP
 * status and title, so the README's table and the OpenAPI document can list them once.
 */
import type { ErrorCode, UpfrontError } from '../errors.ts';

/** `alsoStatus`: other statuses a code is sent with (UpfrontError's `options.status`). */
export const ERRORS: Record<ErrorCode, { status: number; title: string; alsoStatus?: number[] }> = {
  invalid_request: { status: 400, title: 'Invalid request' },
  invalid_filename: { status: 400, title: 'Invalid filename' },
  unauthorized: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'Forbidden' },
  not_found: { status: 404, title: 'Not found' },
  upload_incomplete: { status: 409, title: 'Upload not received' },
  upload_aborted: { status: 409, title: 'Upload aborted' },
  upload_completed: { status: 409, title: 'Upload already completed' },
  upload_expired: { status: 410, title: 'Upload expired' },
  file_too_large: { status: 413, title: 'File too large' },
  payload_too_large: { status: 413, title: 'Request body too large' },
  type_not_allowed: { status: 415, title: 'File type not allowed' },
  content_type_mismatch: { status: 422, title: 'Content does not match its type' },
  size_mismatch: { status: 422, title: 'Size does not match' },
  checksum_mismatch: { status: 422, title: 'Checksum does not match' },
  image_invalid: { status: 422, title: 'Not a whole, valid image' },
  // A processor of the app's rejected the file: its own code is the upload's errorCode.
  file_rejected: { status: 422, title: 'Rejected by a processor' },
  processor_timeout: { status: 422, title: 'Processing took too long' },
  processing_failed: { status: 503, title: 'Processing failed' },
  // 413 when the bytes would exceed the quota, 403 when the number of files would.
  quota_exceeded: { status: 413, title: 'Quota exceeded', alsoStatus: [403] },
  rate_limited: { status: 429, title: 'Too many requests' },
  storage_unavailable: { status: 503, title: 'Storage unavailable' },
  auth_unavailable: { status: 503, title: 'Identity provider unavailable' },
  not_ready: { status: 503, title: 'Not ready' },
  internal_error: { status: 500, title: 'Internal error' },
};

export function problemResponse(error: UpfrontError, headers?: Record<string, string>): Response {
  const { title } = ERRORS[error.code];
  const status = error.options.status ?? ERRORS[error.code].status;
  const body = { type: `https://upfront.dev/errors/${error.code}`, title, status, code: error.code, detail: error.detail };
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      ...headers,
      ...error.options.headers,
      'content-type': 'application/problem+json',
      ...(status === 401 && { 'www-authenticate': 'Bearer' }),
    },
  });
}
