/**
 * AWS Signature Version 4 verification for S3: checks presigned requests and POST policy forms the way
 * S3 does, for the disk driver's storage endpoint. The signing half (and the canonical forms both halves
 * share) is sigv4.ts; what it signs, this accepts (proved in test/unit/sigv4.test.ts).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  ALGORITHM,
  amzDate,
  byKeyThenValue,
  canonicalHeaderValue,
  joinQuery,
  MAX_EXPIRES,
  parseQuery,
  requestSignature,
  scopeKey,
  UNSIGNED_PAYLOAD,
  uriEncode,
  type Credentials,
  type QueryParam,
  type ScopeKey,
} from './sigv4.ts';

/** A presigned request dated further ahead than this is "not valid yet" (S3 allows 15 minutes of skew). */
const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

/** Constant-time comparison of two hex signatures. */
function sameSignature(expected: string, given: string): boolean {
  if (given.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(expected, 'latin1'), Buffer.from(given, 'latin1'));
}

export type VerifyFailure = {
  ok: false;
  status: 400 | 403;
  code: 'AccessDenied' | 'SignatureDoesNotMatch' | 'InvalidAccessKeyId' | 'AuthorizationQueryParametersError'
      | 'InvalidPolicyDocument' | 'MissingFields';
  message: string;
};

const fail = (status: 400 | 403, code: VerifyFailure['code'], message: string): VerifyFailure =>
  ({ ok: false, status, code, message });

const LONG_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

function parseLongDate(value: string): number | undefined {
  const m = LONG_DATE.exec(value);
  if (!m) return undefined;
  const time = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  return amzDate(new Date(time)) === value ? time : undefined; // refuses 20240231T...
}

type CredentialCheck = { ok: true; accessKeyId: string; key: ScopeKey; credentials: Credentials } | VerifyFailure;

/** Parses `AKID/date/region/service/aws4_request`, checks the scope and looks the key up. */
function checkCredential(
  credential: string, longDate: string, region: string,
  lookup: (accessKeyId: string) => Credentials | undefined,
): CredentialCheck {
  const errorCode = 'AuthorizationQueryParametersError';
  const parts = credential.split('/');
  const prefix = 'Error parsing the X-Amz-Credential parameter;';
  if (parts.length !== 5) return fail(400, errorCode, `${prefix} the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`);
  const [accessKeyId, shortDate, credRegion, service, terminator] = parts as [string, string, string, string, string];
  if (terminator !== 'aws4_request') return fail(400, errorCode, `${prefix} incorrect terminal "${terminator}". This endpoint uses "aws4_request".`);
  if (service !== 's3') return fail(400, errorCode, `${prefix} incorrect service "${service}". This endpoint belongs to "s3".`);
  if (credRegion !== region) return fail(400, errorCode, `${prefix} the region '${credRegion}' is wrong; expecting '${region}'`);
  if (shortDate !== longDate.slice(0, 8)) return fail(400, errorCode, 'Invalid credential date. Date is not the same as X-Amz-Date.');
  const credentials = lookup(accessKeyId);
  if (!credentials) return fail(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
  return { ok: true, accessKeyId, key: scopeKey({ ...credentials, accessKeyId }, shortDate, region, service), credentials };
}

const AUTH_PARAMS = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature'] as const;
const SIGNED_HEADERS = /^[a-z0-9!#$%&'*+.^_`|~-]+(?:;[a-z0-9!#$%&'*+.^_`|~-]+)*$/;

/** Checks a presigned request (query-string auth): algorithm, credential scope/region/service, expiry
 *  (X-Amz-Date + X-Amz-Expires vs now; expired => 403 AccessDenied "Request has expired"), every signed
 *  header present and equal, signature recomputed from method + path + query + signed headers. */
export function verifyPresignedRequest(
  request: { method: string; url: string; headers: Headers },
  lookup: (accessKeyId: string) => Credentials | undefined,
  region: string,
  now: Date = new Date(),
): { ok: true; accessKeyId: string } | VerifyFailure {
  const QP = 'AuthorizationQueryParametersError' as const;
  const url = new URL(request.url);

  let params: QueryParam[];
  let path: string;
  try {
    params = parseQuery(url.search.slice(1));
    // S3 signs the path URI-encoded once; decoding and re-encoding each segment makes any equivalent
    // spelling (e.g. a client that left `'` or `(` raw) canonical, while `%2F` stays distinct from `/`.
    path = url.pathname.split('/').map((segment) => uriEncode(decodeURIComponent(segment))).join('/');
  } catch {
    return fail(400, QP, 'The request URL is not correctly percent-encoded.');
  }
  const auth = new Map<string, string>();
  for (const [key, value] of params) {
    if (!key.startsWith('X-Amz-')) continue;
    if (auth.has(key)) return fail(400, QP, `Query-string authentication parameter ${key} appears more than once.`);
    auth.set(key, decodeURIComponent(value));
  }
  if (AUTH_PARAMS.some((name) => !auth.has(name))) {
    return fail(400, QP, 'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.');
  }
  const algorithm = auth.get('X-Amz-Algorithm')!;
  const longDate = auth.get('X-Amz-Date')!;
  const expires = auth.get('X-Amz-Expires')!;
  const signedHeaders = auth.get('X-Amz-SignedHeaders')!;
  const signature = auth.get('X-Amz-Signature')!;
  const payloadHash = auth.get('X-Amz-Content-Sha256') ?? UNSIGNED_PAYLOAD;

  if (algorithm !== ALGORITHM) return fail(400, QP, `X-Amz-Algorithm only supports "${ALGORITHM}"`);
  const signedAt = parseLongDate(longDate);
  if (signedAt === undefined) return fail(400, QP, `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`);
  if (!/^\d{1,7}$/.test(expires)) return fail(400, QP, 'X-Amz-Expires should be a non-negative number of seconds');
  if (+expires > MAX_EXPIRES) return fail(400, QP, `X-Amz-Expires must be less than a week (in seconds) that is; the given X-Amz-Expires must be less than ${MAX_EXPIRES} seconds`);
  // The body is never hashed here: presigned uploads are UNSIGNED-PAYLOAD, anything else would go unchecked.
  if (payloadHash !== UNSIGNED_PAYLOAD) return fail(400, QP, `X-Amz-Content-Sha256 must be ${UNSIGNED_PAYLOAD} for a presigned request`);
  if (!SIGNED_HEADERS.test(signedHeaders) || !signedHeaders.split(';').includes('host')) {
    return fail(400, QP, 'X-Amz-SignedHeaders must be a ;-separated list of lowercase header names that includes host');
  }

  const time = now.getTime();
  if (time > signedAt + +expires * 1000) return fail(403, 'AccessDenied', 'Request has expired');
  if (signedAt > time + MAX_CLOCK_SKEW_MS) return fail(403, 'AccessDenied', 'Request is not valid yet');

  const checked = checkCredential(auth.get('X-Amz-Credential')!, longDate, region, lookup);
  if (!checked.ok) return checked;
  const token = auth.get('X-Amz-Security-Token');
  if (token !== checked.credentials.sessionToken && (token || checked.credentials.sessionToken)) {
    return fail(403, 'AccessDenied', 'The provided security token is invalid.');
  }

  const signedNames = signedHeaders.split(';');
  let canonicalHeaders = '';
  for (const name of signedNames) {
    const value = name === 'host' ? request.headers.get('host') ?? url.host : request.headers.get(name);
    if (value === null) return fail(403, 'SignatureDoesNotMatch', `The signed header ${name} is missing from the request.`);
    canonicalHeaders += `${name}:${canonicalHeaderValue(value)}\n`;
  }
  for (const [name] of request.headers) {
    if (name.startsWith('x-amz-') && !signedNames.includes(name)) {
      return fail(403, 'AccessDenied', `There were headers present in the request which were not signed: ${name}`);
    }
  }

  const canonicalQuery = joinQuery(params.filter((p) => p[0] !== 'X-Amz-Signature').sort(byKeyThenValue));
  const expected = requestSignature(checked.key, longDate, request.method.toUpperCase(), path, canonicalQuery,
    canonicalHeaders, signedHeaders, payloadHash);
  if (!sameSignature(expected, signature)) {
    return fail(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
  }
  return { ok: true, accessKeyId: checked.accessKeyId };
}

/** Form fields S3 never requires a policy condition for. */
const UNCONDITIONED_FIELDS = new Set(['x-amz-signature', 'file', 'policy']);
const POLICY_EXPIRATION = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Checks a POST policy form's fields (everything but the file): policy signature (x-amz-signature over the
 *  base64 policy), credential, expiration, and every condition against the fields (bucket, key eq/starts-with,
 *  Content-Type, x-amz-* fields; extra form fields not covered by a condition are refused like S3 does, except
 *  x-amz-signature, file, policy, and x-ignore-*). Returns the content-length-range so the caller enforces
 *  the size while streaming the file. Stricter than S3 in one way: the policy must name the bucket. */
export function verifyPostPolicy(
  form: { bucket: string; fields: ReadonlyMap<string, string> | Record<string, string> },
  lookup: (accessKeyId: string) => Credentials | undefined,
  region: string,
  now: Date = new Date(),
): { ok: true; lengthRange?: [number, number] } | VerifyFailure {
  // S3 matches form field names case-insensitively. Own entries only: a field may be named `__proto__`.
  const fields = new Map<string, string>();
  const given: Iterable<[string, string]> = form.fields instanceof Map ? form.fields : Object.entries(form.fields);
  for (const [name, value] of given) {
    const lower = name.toLowerCase();
    if (fields.has(lower)) return fail(400, 'InvalidPolicyDocument', `The form field ${lower} appears more than once.`);
    fields.set(lower, value);
  }
  for (const name of ['key', 'policy', 'x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-signature']) {
    if (!fields.has(name)) return fail(400, 'MissingFields', `Bucket POST must contain a field named '${name}'.`);
  }
  if (fields.get('x-amz-algorithm') !== ALGORITHM) {
    return fail(400, 'AuthorizationQueryParametersError', `X-Amz-Algorithm only supports "${ALGORITHM}"`);
  }
  const longDate = fields.get('x-amz-date')!;
  if (parseLongDate(longDate) === undefined) {
    return fail(400, 'AuthorizationQueryParametersError', `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`);
  }
  const checked = checkCredential(fields.get('x-amz-credential')!, longDate, region, lookup);
  if (!checked.ok) return checked;
  const token = fields.get('x-amz-security-token');
  if (token !== checked.credentials.sessionToken && (token || checked.credentials.sessionToken)) {
    return fail(403, 'AccessDenied', 'The provided security token is invalid.');
  }

  const policy = fields.get('policy')!;
  const expected = createHmac('sha256', checked.key.signingKey).update(policy).digest('hex');
  if (!sameSignature(expected, fields.get('x-amz-signature')!)) {
    return fail(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
  }

  const invalid = (why: string): VerifyFailure => fail(400, 'InvalidPolicyDocument', `Invalid Policy: ${why}`);
  let document: unknown;
  try {
    if (!BASE64.test(policy)) return invalid('Invalid Base64 encoding.');
    document = JSON.parse(Buffer.from(policy, 'base64').toString('utf8'));
  } catch {
    return invalid('Invalid JSON.');
  }
  if (typeof document !== 'object' || document === null) return invalid('Invalid JSON.');
  const { expiration, conditions } = document as { expiration?: unknown; conditions?: unknown };
  if (typeof expiration !== 'string' || !POLICY_EXPIRATION.test(expiration) || Number.isNaN(Date.parse(expiration))) {
    return invalid('Policy missing or invalid expiration.');
  }
  if (!Array.isArray(conditions)) return invalid('Policy missing conditions.');
  if (now.getTime() > Date.parse(expiration)) return fail(403, 'AccessDenied', 'Invalid according to Policy: Policy expired.');

  if (fields.has('bucket') && fields.get('bucket') !== form.bucket) {
    return fail(403, 'AccessDenied', `Invalid according to Policy: the bucket field does not name this bucket.`);
  }
  // A missing field compares as empty, as in S3 (so ["starts-with", "$x", ""] allows any or no value).
  const valueOf = (name: string): string => (name === 'bucket' ? form.bucket : fields.get(name) ?? '');
  const covered = new Set<string>();
  let lengthRange: [number, number] | undefined;
  for (const condition of conditions as unknown[]) {
    const failed = (): VerifyFailure =>
      fail(403, 'AccessDenied', `Invalid according to Policy: Policy Condition failed: ${JSON.stringify(condition)}`);
    if (Array.isArray(condition)) {
      const [op, name, value] = condition as unknown[];
      if (condition.length !== 3 || typeof op !== 'string') return invalid(`Invalid condition ${JSON.stringify(condition)}.`);
      const operator = op.toLowerCase();
      if (operator === 'content-length-range') {
        const min = lengthBound(name);
        const max = lengthBound(value);
        if (min === undefined || max === undefined || min > max) return invalid(`Invalid content-length-range ${JSON.stringify(condition)}.`);
        lengthRange = lengthRange ? [Math.max(lengthRange[0], min), Math.min(lengthRange[1], max)] : [min, max];
        continue;
      }
      if ((operator !== 'eq' && operator !== 'starts-with') || typeof name !== 'string' || !name.startsWith('$') || typeof value !== 'string') {
        return invalid(`Invalid condition ${JSON.stringify(condition)}.`);
      }
      const field = name.slice(1).toLowerCase();
      covered.add(field);
      const actual = valueOf(field);
      const matches = operator === 'eq'
        ? actual === value
        // S3 checks each value of a comma-separated Content-Type against the prefix.
        : field === 'content-type'
          ? actual.split(',').every((part) => part.trim().startsWith(value))
          : actual.startsWith(value);
      if (!matches) return failed();
    } else if (typeof condition === 'object' && condition !== null) {
      const entries = Object.entries(condition);
      const [entry] = entries;
      if (entries.length !== 1 || !entry || typeof entry[1] !== 'string') return invalid(`Invalid condition ${JSON.stringify(condition)}.`);
      const field = entry[0].toLowerCase();
      covered.add(field);
      if (valueOf(field) !== entry[1]) return failed();
    } else {
      return invalid(`Invalid condition ${JSON.stringify(condition)}.`);
    }
  }

  if (!covered.has('bucket')) return fail(403, 'AccessDenied', 'Invalid according to Policy: the policy does not name the bucket.');
  for (const name of fields.keys()) {
    if (!UNCONDITIONED_FIELDS.has(name) && !name.startsWith('x-ignore-') && !covered.has(name)) {
      return fail(403, 'AccessDenied', `Invalid according to Policy: Extra input fields: ${name}`);
    }
  }
  return lengthRange ? { ok: true, lengthRange } : { ok: true };
}

/** A content-length-range bound: a non-negative integer, as a number or a string of digits. */
function lengthBound(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value === 'string' && /^\d{1,15}$/.test(value)) return Number(value);
  return undefined;
}
