/**
 * AWS Signature Version 4 for S3, by hand: presigned URLs, POST policies, and their verification.
 *
 * Why not the AWS SDK: presigning is the hot path of create-upload, and the SDK's presigner spends
 * ~200 µs per URL in middleware, providers and promises around ~2 µs of hashing. This module does the
 * same work synchronously with node:crypto and caches the derived signing key per scope, and its output
 * is byte-identical to `getSignedUrl` / `createPresignedPost` (proved in test/unit/sigv4.test.ts).
 * Model: aws4fetch. Spec: "Authenticating Requests: Using Query Parameters (AWS Signature Version 4)"
 * and "Creating a POST Policy" in the S3 API reference.
 *
 * The verifiers check requests the way S3 does, for the disk driver's storage endpoint.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface Credentials { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
export interface SigningScope { credentials: Credentials; region: string; service?: string /* default 's3' */ }

const ALGORITHM = 'AWS4-HMAC-SHA256';
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const MAX_EXPIRES = 604_800; // one week, SigV4's limit
/** A presigned request dated further ahead than this is "not valid yet" (S3 allows 15 minutes of skew). */
const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

// ---------------------------------------------------------------------------------------------------
// Encoding

const UNRESERVED = /^[A-Za-z0-9\-._~]*$/;
const SUB_DELIMS = /[!'()*]/g;
const hexEscape = (c: string): string => `%${c.charCodeAt(0).toString(16).toUpperCase()}`;

/** SigV4's UriEncode: every byte but A-Z a-z 0-9 - _ . ~ percent-encoded (the SDK's escapeUri). */
export function uriEncode(value: string): string {
  return UNRESERVED.test(value) ? value : encodeURIComponent(value).replace(SUB_DELIMS, hexEscape);
}

/** Object key as a URL path: each `/`-separated segment encoded, slashes kept (empty segments too). */
function encodeKey(key: string): string {
  return UNRESERVED.test(key) ? key : key.split('/').map(uriEncode).join('/');
}

// ---------------------------------------------------------------------------------------------------
// URLs (the rules of the SDK's S3 endpoint resolution for a custom endpoint)

interface Endpoint { scheme: string; host: string; path: string; isIp: boolean }
const endpoints = new Map<string, Endpoint>();
const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)){3}$/;
/** A bucket that can be a DNS label: 3-63 lowercase letters, digits, hyphens; no dots (TLS wildcards). */
const VIRTUAL_HOSTABLE_BUCKET = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

function parseEndpoint(endpoint: string): Endpoint {
  let parsed = endpoints.get(endpoint);
  if (parsed) return parsed;
  const url = new URL(endpoint);
  if (url.search || url.hash) throw new TypeError(`storage endpoint must not carry a query or fragment: ${endpoint}`);
  parsed = {
    scheme: url.protocol.slice(0, -1),
    host: url.host, // lowercased, default port dropped: what a browser sends as Host
    path: url.pathname,
    isIp: IPV4.test(url.hostname) || url.hostname.startsWith('['),
  };
  if (endpoints.size >= 64) endpoints.clear();
  endpoints.set(endpoint, parsed);
  return parsed;
}

/** Origin and path of a bucket: virtual-hosted (`bucket.host/prefix`) or path-style (`host/prefix/bucket`). */
function bucketBase(endpoint: string, bucket: string, forcePathStyle: boolean): [origin: string, path: string] {
  const ep = parseEndpoint(endpoint);
  if (!forcePathStyle && !ep.isIp && VIRTUAL_HOSTABLE_BUCKET.test(bucket)) {
    return [`${ep.scheme}://${bucket}.${ep.host}`, ep.path];
  }
  const prefix = ep.path.endsWith('/') ? ep.path : `${ep.path}/`;
  return [`${ep.scheme}://${ep.host}`, prefix + uriEncode(bucket)];
}

/** S3 object URL built the way the AWS SDK v3 builds it (path-style or virtual-hosted; key encoded like the SDK).
 *  endpoint may carry a path prefix (e.g. http://127.0.0.1:3000/storage); path-style appends /bucket/key. */
export function objectUrl(endpoint: string, bucket: string, key: string, forcePathStyle: boolean): string {
  const [origin, path] = bucketBase(endpoint, bucket, forcePathStyle);
  return `${origin}${path === '/' ? '' : path}/${encodeKey(key)}`;
}

/** Bucket URL (for POST policy forms), same rules. */
export function bucketUrl(endpoint: string, bucket: string, forcePathStyle: boolean): string {
  const [origin, path] = bucketBase(endpoint, bucket, forcePathStyle);
  return origin + path;
}

// ---------------------------------------------------------------------------------------------------
// Signing primitives

interface ScopeKey {
  /** `20240506/us-east-1/s3/aws4_request` */
  scope: string;
  /** `AKID/20240506/us-east-1/s3/aws4_request` */
  credential: string;
  /** The credential, query-encoded. */
  credentialParam: string;
  signingKey: Buffer;
}

/** Derived keys change once a day per (secret, region, service): derive once, reuse (4 HMACs saved). */
const scopeKeys = new Map<string, ScopeKey>();

function scopeKey(credentials: Credentials, shortDate: string, region: string, service: string): ScopeKey {
  const id = `${credentials.accessKeyId}\n${credentials.secretAccessKey}\n${shortDate}\n${region}\n${service}`;
  let entry = scopeKeys.get(id);
  if (entry) return entry;
  const kDate = createHmac('sha256', `AWS4${credentials.secretAccessKey}`).update(shortDate).digest();
  const kRegion = createHmac('sha256', kDate).update(region).digest();
  const kService = createHmac('sha256', kRegion).update(service).digest();
  const signingKey = createHmac('sha256', kService).update('aws4_request').digest();
  const scope = `${shortDate}/${region}/${service}/aws4_request`;
  const credential = `${credentials.accessKeyId}/${scope}`;
  entry = { scope, credential, credentialParam: uriEncode(credential), signingKey };
  if (scopeKeys.size >= 256) scopeKeys.clear(); // bounded; a handful of live scopes in practice
  scopeKeys.set(id, entry);
  return entry;
}

/** `20240506T070809Z` (ISO 8601 basic, whole seconds). */
function amzDate(now: Date): string {
  const iso = now.toISOString(); // 2024-05-06T07:08:09.123Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

/** `2024-05-06T07:08:09Z` (ISO 8601 extended, whole seconds), as in POST policy expirations. */
function isoSeconds(time: Date): string {
  return `${time.toISOString().slice(0, 19)}Z`;
}

/** Header value as SigV4 canonicalises it: line breaks to spaces, runs of spaces/tabs collapsed, trimmed. */
function canonicalHeaderValue(value: string): string {
  return value.replace(/[\r\n]/g, ' ').replace(/[ \t]+/g, ' ').replace(/^ | $/g, '');
}

function requestSignature(
  key: ScopeKey, longDate: string, method: string, path: string, query: string,
  canonicalHeaders: string, signedHeaders: string, payloadHash: string,
): string {
  const canonicalRequest = `${method}\n${path}\n${query}\n${canonicalHeaders}\n${signedHeaders}\n${payloadHash}`;
  const hashed = createHash('sha256').update(canonicalRequest).digest('hex');
  return createHmac('sha256', key.signingKey).update(`${ALGORITHM}\n${longDate}\n${key.scope}\n${hashed}`).digest('hex');
}

/** Constant-time comparison of two hex signatures. */
function sameSignature(expected: string, given: string): boolean {
  if (given.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(expected, 'latin1'), Buffer.from(given, 'latin1'));
}

type QueryParam = [key: string, value: string]; // both query-encoded

const byKeyThenValue = (a: QueryParam, b: QueryParam): number =>
  a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;

/** Decodes a query component as URLSearchParams does (`+` is a space), so callers may build queries either way. */
const decodeQueryComponent = (value: string): string => decodeURIComponent(value.replace(/\+/g, ' '));

/** Parses a raw query string into canonically encoded pairs (decoded, then re-encoded with uriEncode). */
function parseQuery(raw: string): QueryParam[] {
  const params: QueryParam[] = [];
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    params.push([uriEncode(decodeQueryComponent(key)), uriEncode(decodeQueryComponent(value))]);
  }
  return params;
}

const joinQuery = (params: QueryParam[]): string => params.map(([k, v]) => `${k}=${v}`).join('&');

// ---------------------------------------------------------------------------------------------------
// Presigned URLs

export interface PresignUrlInput extends SigningScope {
  method: string;
  url: string;                       // absolute, path already encoded (as objectUrl returns), may carry query params
  expiresIn: number;                 // seconds (1..604800)
  headers?: Record<string, string>;  // extra headers to sign, e.g. {'content-type': 'image/png', 'content-length': '123'}; host always signed
  now?: Date;
}

/**
 * Presigned URL (query-string auth), byte-identical to the SDK's `getSignedUrl` for the same request.
 * Differences by design: every header in `headers` is signed as a header (the SDK leaves Content-Type
 * unsigned unless `signableHeaders` names it, and hoists `x-amz-*` headers into the query unless
 * `unhoistableHeaders` names them); the SDK's cosmetic `x-id=PutObject` parameter is added only if the
 * caller puts it in `url`. The path is signed as given, so it must already be encoded as objectUrl does.
 */
export function presignUrl(input: PresignUrlInput): string {
  const { credentials, expiresIn, url } = input;
  if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_EXPIRES) {
    throw new RangeError(`expiresIn must be an integer number of seconds in 1..${MAX_EXPIRES}, got ${expiresIn}`);
  }

  // Split the URL by hand: new URL() costs more than the rest of the signature.
  const authorityStart = url.indexOf('://') + 3;
  if (authorityStart < 3) throw new TypeError(`presignUrl needs an absolute URL, got ${url}`);
  let queryStart = url.indexOf('?', authorityStart);
  if (queryStart < 0) queryStart = url.length;
  let pathStart = url.indexOf('/', authorityStart);
  if (pathStart < 0 || pathStart > queryStart) pathStart = queryStart;
  const path = pathStart === queryStart ? '/' : url.slice(pathStart, queryStart);
  const base = pathStart === queryStart ? `${url.slice(0, pathStart)}/` : url.slice(0, queryStart);

  let host = url.slice(authorityStart, pathStart).toLowerCase();
  host = host.slice(host.lastIndexOf('@') + 1);
  if (host.endsWith(':443') && url.startsWith('https:')) host = host.slice(0, -4);
  else if (host.endsWith(':80') && url.startsWith('http:')) host = host.slice(0, -3);

  // Canonical headers: sorted lowercase names; host always, and always from the URL.
  let signedHeaders = 'host';
  let canonicalHeaders = `host:${host}\n`;
  if (input.headers) {
    const headers: [string, string][] = [['host', host]];
    for (const name in input.headers) {
      const lower = name.toLowerCase();
      if (lower !== 'host') headers.push([lower, canonicalHeaderValue(String(input.headers[name]))]);
    }
    if (headers.length > 1) {
      headers.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      signedHeaders = headers.map((h) => h[0]).join(';');
      canonicalHeaders = headers.map((h) => `${h[0]}:${h[1]}\n`).join('');
    }
  }

  const longDate = amzDate(input.now ?? new Date());
  const key = scopeKey(credentials, longDate.slice(0, 8), input.region, input.service ?? 's3');

  // The auth parameters, already in sorted order (X-Amz-Signature belongs between Security-Token and SignedHeaders).
  let before = `X-Amz-Algorithm=${ALGORITHM}&X-Amz-Content-Sha256=${UNSIGNED_PAYLOAD}`
    + `&X-Amz-Credential=${key.credentialParam}&X-Amz-Date=${longDate}&X-Amz-Expires=${expiresIn}`;
  if (credentials.sessionToken) before += `&X-Amz-Security-Token=${uriEncode(credentials.sessionToken)}`;
  let after = `X-Amz-SignedHeaders=${signedHeaders === 'host' ? 'host' : uriEncode(signedHeaders)}`;

  if (queryStart < url.length) {
    const extra = parseQuery(url.slice(queryStart + 1));
    if (extra.length > 0) ({ before, after } = mergeQuery(before, after, extra));
  }

  const signature = requestSignature(key, longDate, input.method, path, `${before}&${after}`,
    canonicalHeaders, signedHeaders, UNSIGNED_PAYLOAD);
  return `${base}?${before}&X-Amz-Signature=${signature}&${after}`;
}

/** Sorts the caller's query parameters in among the auth parameters (rare path: multipart parts, GET overrides). */
function mergeQuery(before: string, after: string, extra: QueryParam[]): { before: string; after: string } {
  const params: QueryParam[] = [];
  for (const part of `${before}&${after}`.split('&')) {
    const eq = part.indexOf('=');
    params.push([part.slice(0, eq), part.slice(eq + 1)]);
  }
  for (const param of extra) {
    if (param[0].startsWith('X-Amz-')) throw new TypeError(`url already carries the auth parameter ${param[0]}`);
    params.push(param);
  }
  params.sort(byKeyThenValue);
  let split = params.findIndex((p) => p[0] > 'X-Amz-Signature');
  if (split < 0) split = params.length;
  return { before: joinQuery(params.slice(0, split)), after: joinQuery(params.slice(split)) };
}

// ---------------------------------------------------------------------------------------------------
// POST policies

export type PolicyCondition =
  | Record<string, string>                      // {"key": "a/b.png"} exact match
  | ['eq' | 'starts-with', string, string]      // ['eq', '$Content-Type', 'image/png']
  | ['content-length-range', number, number];

export interface PresignPostInput extends SigningScope {
  url: string;                        // bucket URL to POST to
  bucket: string;
  key: string;
  expiresIn: number;
  fields?: Record<string, string>;    // e.g. {'Content-Type': 'image/png'}; each also becomes an exact condition
  conditions?: PolicyCondition[];
  now?: Date;
}

/**
 * POST policy form, byte-identical to the SDK's `createPresignedPost` (same policy JSON, same fields in
 * the same order): the caller's conditions, then one exact condition per field, then the key's.
 */
export function presignPost(input: PresignPostInput): { url: string; fields: Record<string, string> } {
  const { credentials, key: objectKey, expiresIn } = input;
  if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_EXPIRES) {
    throw new RangeError(`expiresIn must be an integer number of seconds in 1..${MAX_EXPIRES}, got ${expiresIn}`);
  }
  const now = input.now ?? new Date();
  const longDate = amzDate(now);
  const key = scopeKey(credentials, longDate.slice(0, 8), input.region, input.service ?? 's3');

  const fields: Record<string, string> = {
    ...input.fields,
    bucket: input.bucket,
    'X-Amz-Algorithm': ALGORITHM,
    'X-Amz-Credential': key.credential,
    'X-Amz-Date': longDate,
  };
  if (credentials.sessionToken) fields['X-Amz-Security-Token'] = credentials.sessionToken;

  const conditions = new Set<string>(); // the SDK drops duplicate conditions, keeping the first
  for (const condition of input.conditions ?? []) conditions.add(JSON.stringify(condition));
  for (const name in fields) conditions.add(JSON.stringify({ [name]: fields[name] }));
  const filename = '${filename}'; // S3 substitutes the uploaded file's name
  conditions.add(objectKey.endsWith(filename)
    ? JSON.stringify(['starts-with', '$key', objectKey.slice(0, objectKey.lastIndexOf(filename))])
    : JSON.stringify({ key: objectKey }));

  const expiration = isoSeconds(new Date(now.getTime() + expiresIn * 1000));
  const policyJson = `{"expiration":"${expiration}","conditions":[${[...conditions].join(',')}]}`;
  const policy = Buffer.from(policyJson, 'utf8').toString('base64');
  fields.key = objectKey;
  fields.Policy = policy;
  fields['X-Amz-Signature'] = createHmac('sha256', key.signingKey).update(policy).digest('hex');
  return { url: input.url, fields };
}

// ---------------------------------------------------------------------------------------------------
// Verification

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
  form: { bucket: string; fields: Record<string, string> },
  lookup: (accessKeyId: string) => Credentials | undefined,
  region: string,
  now: Date = new Date(),
): { ok: true; lengthRange?: [number, number] } | VerifyFailure {
  // S3 matches form field names case-insensitively.
  const fields = new Map<string, string>();
  for (const name in form.fields) {
    const lower = name.toLowerCase();
    if (fields.has(lower)) return fail(400, 'InvalidPolicyDocument', `The form field ${lower} appears more than once.`);
    fields.set(lower, String(form.fields[name]));
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
