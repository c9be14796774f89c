/**
 * Errors as RFC 9457 `application/problem+json`, each with a stable machine `code` that clients
 * switch on and a `detail` sentence that tells a person what to do.
 */
export type ErrorCode =
  | 'invalid_request'
  | 'invalid_filename'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'file_too_large'
  | 'type_not_allowed'
  | 'content_type_mismatch'
  | 'size_mismatch'
  | 'upload_incomplete'
  | 'upload_expired'
  | 'upload_aborted'
  | 'payload_too_large'
  | 'storage_unavailable'
  | 'auth_unavailable'
  | 'internal_error';

const titles: Record<ErrorCode, string> = {
  invalid_request: 'Invalid request',
  invalid_filename: 'Invalid filename',
  unauthorized: 'Authentication required',
  forbidden: 'Forbidden',
  not_found: 'Not found',
  file_too_large: 'File too large',
  type_not_allowed: 'File type not allowed',
  content_type_mismatch: 'Content does not match its type',
  size_mismatch: 'Size does not match',
  upload_incomplete: 'Upload not received',
  upload_expired: 'Upload expired',
  upload_aborted: 'Upload aborted',
  payload_too_large: 'Request body too large',
  storage_unavailable: 'Storage unavailable',
  auth_unavailable: 'Identity provider unavailable',
  internal_error: 'Internal error',
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'ApiError';
  }
}

export function problemResponse(error: ApiError, headers?: Record<string, string>): Response {
  const body = {
    type: `https://upfront.dev/errors/${error.code}`,
    title: titles[error.code],
    status: error.status,
    code: error.code,
    detail: error.detail,
  };
  return new Response(JSON.stringify(body), {
    status: error.status,
    headers: {
      ...headers,
      'content-type': 'application/problem+json',
      ...(error.status === 401 && { 'www-authenticate': 'Bearer' }),
    },
  });
}
