/**
 * Every failure the client reports is an UpfrontError with a stable machine `code` and a `detail`
 * sentence fit to show a user. API codes come from the server's problem+json; storage answers (S3 XML)
 * and network failures are translated here into the same vocabulary.
 */
export class UpfrontError extends Error {
  override readonly name = 'UpfrontError';
  readonly code: string;
  /** HTTP status of the failing answer; 0 when there was none (network error, abort). */
  readonly status: number;
  readonly detail: string;
  /** Milliseconds the answer asked to wait before trying again (its Retry-After), when it said. */
  readonly retryAfter: number | undefined;

  constructor(code: string, detail: string, status = 0, options?: { cause?: unknown; retryAfter?: string | null }) {
    super(detail, options);
    this.code = code;
    this.status = status;
    this.detail = detail;
    this.retryAfter = parseRetryAfter(options?.retryAfter);
  }
}

interface Problem {
  code?: string;
  title?: string;
  detail?: string;
}

/** The problem+json body of an error answer, or null when the body is something else. */
export function parseProblem(text: string): Problem | null {
  let value: Record<string, unknown> | null;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const problem: Problem = {};
  for (const key of ['code', 'title', 'detail'] as const) {
    const field = value?.[key];
    if (typeof field === 'string') problem[key] = field;
  }
  return problem.code || problem.detail || problem.title ? problem : null;
}

/** Used when an error answer carries no code of its own (a proxy's HTML page, say). */
const STATUS_CODES: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  413: 'file_too_large',
  429: 'rate_limited',
};

/** Retry-After (seconds, or an HTTP date) in milliseconds from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const ms = /^\s*\d+\s*$/.test(value) ? Number(value) * 1000 : Date.parse(value) - now;
  return Number.isNaN(ms) ? undefined : Math.max(0, ms);
}

/** Turns a failed API answer into an UpfrontError. */
export function errorFromApi(status: number, body: string, retryAfter?: string | null): UpfrontError {
  const problem = parseProblem(body);
  const code = problem?.code ?? STATUS_CODES[status] ?? 'server_error';
  const detail = problem?.detail ?? problem?.title ?? `The upload service answered with status ${status}. Try again later.`;
  return new UpfrontError(code, detail, status, { retryAfter });
}

/** S3 error codes (AWS, Ceph RGW, MinIO, R2, the disk driver) → Upfront codes. */
const STORAGE_CODES: Record<string, string> = {
  EntityTooLarge: 'file_too_large',
  EntityTooSmall: 'size_mismatch',
  IncompleteBody: 'size_mismatch',
  BadDigest: 'checksum_mismatch',
  InvalidDigest: 'checksum_mismatch',
  AccessDenied: 'forbidden',
  SignatureDoesNotMatch: 'forbidden',
  InvalidAccessKeyId: 'forbidden',
  ExpiredToken: 'upload_expired',
  RequestExpired: 'upload_expired',
  SlowDown: 'rate_limited',
  ServiceUnavailable: 'storage_unavailable',
  InternalError: 'storage_unavailable',
  NoSuchBucket: 'storage_unavailable',
};

const STORAGE_DETAILS: Record<string, string> = {
  file_too_large: 'The file is too large for this upload. Choose a smaller file.',
  size_mismatch: 'Storage received other bytes than announced. Try again.',
  checksum_mismatch: 'The file was damaged on the way to storage. Try again.',
  forbidden: 'Storage refused the upload. If it keeps failing, its settings need checking.',
  upload_expired: 'The upload expired before the file was sent. Try again.',
  rate_limited: 'Storage is busy. Wait a moment and try again.',
  storage_unavailable: 'Storage could not take the file. Try again in a moment.',
  invalid_request: 'Storage rejected the upload request. Try again.',
};

const XML_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function xmlElement(xml: string, name: string): string | undefined {
  const text = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1]?.trim();
  return text?.replace(/&(#x?)?(\w+);/gi, (entity, number: string | undefined, reference: string) =>
    number ? String.fromCodePoint(parseInt(reference, number.length > 1 ? 16 : 10)) : (XML_ENTITIES[reference] ?? entity),
  );
}

/**
 * Turns storage's error answer (`<Error><Code>…</Code><Message>…</Message></Error>`) into an
 * UpfrontError. Storage's own code and message are kept as the `cause` for developers.
 */
export function errorFromStorage(status: number, body: string, retryAfter?: string | null): UpfrontError {
  const problem = parseProblem(body);
  if (problem?.code) return errorFromApi(status, body, retryAfter);
  const storageCode = xmlElement(body, 'Code');
  const message = xmlElement(body, 'Message') ?? '';
  // AWS and RGW report an expired signature or policy as AccessDenied with "expired" in the message.
  const expired = /expired/i.test(message) && (storageCode === 'AccessDenied' || storageCode === undefined);
  const code = expired
    ? 'upload_expired'
    : (storageCode && STORAGE_CODES[storageCode]) ?? (status >= 500 ? 'storage_unavailable' : status === 403 ? 'forbidden' : 'invalid_request');
  const detail = STORAGE_DETAILS[code] ?? STORAGE_DETAILS.invalid_request!;
  const cause = `storage answered ${status}${storageCode ? ` ${storageCode}` : ''}${message ? `: ${message}` : ''}`;
  return new UpfrontError(code, detail, status, { cause, retryAfter });
}

export function storageUnreachable(cause?: unknown): UpfrontError {
  return new UpfrontError('storage_unavailable', 'Could not reach storage. Check your connection and try again.', 0, { cause });
}

/** A stream gave another number of bytes than its declared size. */
export function sizeMismatch(read: number, size: number): UpfrontError {
  return new UpfrontError('size_mismatch', `The stream held ${read} bytes, not the ${size} declared.`);
}

export function apiUnreachable(cause?: unknown): UpfrontError {
  return new UpfrontError('api_unavailable', 'Could not reach the upload service. Check your connection and try again.', 0, { cause });
}

export function aborted(): UpfrontError {
  return new UpfrontError('aborted', 'The upload was cancelled.');
}
