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

  constructor(code: string, detail: string, status = 0, options?: { cause?: unknown }) {
    super(detail, options);
    this.code = code;
    this.status = status;
    this.detail = detail;
  }
}

interface Problem {
  code?: string;
  title?: string;
  detail?: string;
}

/** The problem+json body of an error answer, or null when the body is something else. */
export function parseProblem(text: string): Problem | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { code, title, detail } = value as Record<string, unknown>;
  const problem: Problem = {};
  if (typeof code === 'string') problem.code = code;
  if (typeof title === 'string') problem.title = title;
  if (typeof detail === 'string') problem.detail = detail;
  return problem.code || problem.detail || problem.title ? problem : null;
}

/** Used when an error answer carries no code of its own (a proxy's HTML page, say). */
function codeForStatus(status: number): string {
  switch (status) {
    case 400: return 'invalid_request';
    case 401: return 'unauthorized';
    case 403: return 'forbidden';
    case 404: return 'not_found';
    case 413: return 'file_too_large';
    case 429: return 'rate_limited';
    default: return 'server_error';
  }
}

/** Turns a failed API answer into an UpfrontError. */
export function errorFromApi(status: number, body: string): UpfrontError {
  const problem = parseProblem(body);
  const code = problem?.code ?? codeForStatus(status);
  const detail = problem?.detail ?? problem?.title ?? `The upload service answered with status ${status}. Try again later.`;
  return new UpfrontError(code, detail, status);
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
  file_too_large: 'The file is larger than this upload allows. Choose a smaller file.',
  size_mismatch: 'Storage received a different number of bytes than announced. Try the upload again.',
  checksum_mismatch: 'The file was damaged on the way to storage. Try the upload again.',
  forbidden: 'Storage refused the signed upload request. Start the upload again; if it keeps failing, the server\'s storage settings need checking.',
  upload_expired: 'The upload link expired before the file was sent. Start the upload again.',
  rate_limited: 'Storage is busy right now. Wait a moment and try again.',
  storage_unavailable: 'Storage could not take the file right now. Try again in a moment.',
  invalid_request: 'Storage rejected the upload request. Start the upload again.',
};

const XML_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function xmlElement(xml: string, name: string): string | undefined {
  const text = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1]?.trim();
  return text?.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (entity, reference: string) => {
    if (reference[0] !== '#') return XML_ENTITIES[reference] ?? entity;
    const hex = reference[1] === 'x' || reference[1] === 'X';
    return String.fromCodePoint(hex ? parseInt(reference.slice(2), 16) : Number(reference.slice(1)));
  });
}

/**
 * Turns storage's error answer (`<Error><Code>…</Code><Message>…</Message></Error>`) into an
 * UpfrontError. Storage's own code and message are kept as the `cause` for developers.
 */
export function errorFromStorage(status: number, body: string): UpfrontError {
  const problem = parseProblem(body);
  if (problem?.code) return errorFromApi(status, body);
  const storageCode = xmlElement(body, 'Code');
  const message = xmlElement(body, 'Message') ?? '';
  // AWS and RGW report an expired signature or policy as AccessDenied with "expired" in the message.
  const expired = /expired/i.test(message) && (storageCode === 'AccessDenied' || storageCode === undefined);
  const code = expired
    ? 'upload_expired'
    : (storageCode && STORAGE_CODES[storageCode]) ?? (status >= 500 ? 'storage_unavailable' : status === 403 ? 'forbidden' : 'invalid_request');
  const detail = STORAGE_DETAILS[code] ?? STORAGE_DETAILS.invalid_request!;
  const cause = `storage answered ${status}${storageCode ? ` ${storageCode}` : ''}${message ? `: ${message}` : ''}`;
  return new UpfrontError(code, detail, status, { cause });
}

export function storageUnreachable(cause?: unknown): UpfrontError {
  return new UpfrontError(
    'storage_unavailable',
    'The file could not be sent to storage. Check your connection and try again; if it keeps failing, ask the site\'s operator to check the storage setup (CORS and signing).',
    0,
    { cause },
  );
}

export function apiUnreachable(cause?: unknown): UpfrontError {
  return new UpfrontError('api_unavailable', 'Could not reach the upload service. Check your connection and try again.', 0, { cause });
}

export function aborted(): UpfrontError {
  return new UpfrontError('aborted', 'The upload was cancelled.');
}
