/**
 * AWS Signature Version 4 for S3, by hand: presigned URLs and POST policies.
 *
 * Why not the AWS SDK: presigning is the hot path of create-upload, and the SDK's presigner spends
 * ~200 µs per URL in middleware, providers and promises around ~2 µs of hashing. This module does the
 * same work synchronously with node:crypto and caches the derived signing key per scope, and its output
 * is byte-identical to `getSignedUrl` / `createPresignedPost` (proved in test/unit/sigv4.test.ts).
 * Model: aws4fetch. Spec: "Authenticating Requests: Using Query Parameters (AWS Signature Version 4)"
 * and "Creating a POST Policy" in the S3 API reference.
 *
 * Verification (for the disk driver's storage endpoint) is sigv4-verify.ts; it reuses the exported
 * primitives below, so both sides canonicalise requests the same way.
 */
import { createHash, createHmac } from 'node:crypto';

export interface Credentials { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
export interface SigningScope { credentials: Credentials; region: string; service?: string /* default 's3' */ }

/** The only signing algorithm SigV4 for S3 has. */
export const ALGORITHM = 'AWS4-HMAC-SHA256';
/** The payload hash of presigned requests: the body is not part of the signature. */
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
/** The longest a presigned request may live, in seconds. */
export const MAX_EXPIRES = 604_800; // one week, SigV4's limit

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
export function encodeKey(key: string): string {
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

/** A credential scope and its derived signing key. */
export interface ScopeKey {
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
/** The last scope asked for: nearly every call asks for it again, and then no lookup key is built. */
let lastScope: { accessKeyId: string; secretAccessKey: string; shortDate: string; region: string; service: string; entry: ScopeKey } | undefined;

/** The (cached) scope and signing key of credentials on a day, in a region, for a service. */
export function scopeKey(credentials: Credentials, shortDate: string, region: string, service: string): ScopeKey {
  const last = lastScope;
  if (
    last && last.shortDate === shortDate && last.accessKeyId === credentials.accessKeyId &&
    last.secretAccessKey === credentials.secretAccessKey && last.region === region && last.service === service
  ) {
    return last.entry;
  }
  const id = `${credentials.accessKeyId}\n${credentials.secretAccessKey}\n${shortDate}\n${region}\n${service}`;
  let entry = scopeKeys.get(id);
  if (!entry) {
    const kDate = createHmac('sha256', `AWS4${credentials.secretAccessKey}`).update(shortDate).digest();
    const kRegion = createHmac('sha256', kDate).update(region).digest();
    const kService = createHmac('sha256', kRegion).update(service).digest();
    const signingKey = createHmac('sha256', kService).update('aws4_request').digest();
    const scope = `${shortDate}/${region}/${service}/aws4_request`;
    const credential = `${credentials.accessKeyId}/${scope}`;
    entry = { scope, credential, credentialParam: uriEncode(credential), signingKey };
    if (scopeKeys.size >= 256) scopeKeys.clear(); // bounded; a handful of live scopes in practice
    scopeKeys.set(id, entry);
  }
  lastScope = { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey, shortDate, region, service, entry };
  return entry;
}

/** `20240506T070809Z` (ISO 8601 basic, whole seconds). */
export function amzDate(now: Date): string {
  const iso = now.toISOString(); // 2024-05-06T07:08:09.123Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

/** amzDate of the current second, formatted once per second rather than once per signature. */
let clock = { second: Number.NaN, amzDate: '' };
function currentAmzDate(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== clock.second) clock = { second, amzDate: amzDate(new Date(second * 1000)) };
  return clock.amzDate;
}

/** `2024-05-06T07:08:09Z` (ISO 8601 extended, whole seconds), as in POST policy expirations. */
function isoSeconds(time: Date): string {
  return `${time.toISOString().slice(0, 19)}Z`;
}

/** Header value as SigV4 canonicalises it: line breaks to spaces, runs of spaces/tabs collapsed, trimmed. */
export function canonicalHeaderValue(value: string): string {
  if (!NEEDS_CANONICALISING.test(value)) return value; // the usual case: `image/png`, `1048576`
  return value.replace(/[\r\n]/g, ' ').replace(/[ \t]+/g, ' ').replace(/^ | $/g, '');
}
const NEEDS_CANONICALISING = /[\r\n\t]|  |^ | $/;

/** The hex signature of a canonical request (its parts given already canonical) under a scope key. */
export function requestSignature(
  key: ScopeKey, longDate: string, method: string, path: string, query: string,
  canonicalHeaders: string, signedHeaders: string, payloadHash: string,
): string {
  const canonicalRequest = `${method}\n${path}\n${query}\n${canonicalHeaders}\n${signedHeaders}\n${payloadHash}`;
  const hashed = createHash('sha256').update(canonicalRequest).digest('hex');
  return createHmac('sha256', key.signingKey).update(`${ALGORITHM}\n${longDate}\n${key.scope}\n${hashed}`).digest('hex');
}

/** A query parameter as SigV4 canonicalises it. */
export type QueryParam = [key: string, value: string]; // both query-encoded

/** Canonical query order: by name, then by value. */
export const byKeyThenValue = (a: QueryParam, b: QueryParam): number =>
  a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;

/** Decodes a query component as URLSearchParams does (`+` is a space), so callers may build queries either way. */
const decodeQueryComponent = (value: string): string => decodeURIComponent(value.replace(/\+/g, ' '));

/** Parses a raw query string into canonically encoded pairs (decoded, then re-encoded with uriEncode). */
export function parseQuery(raw: string): QueryParam[] {
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

/** Canonical query string of already encoded pairs. */
export const joinQuery = (params: QueryParam[]): string => params.map(([k, v]) => `${k}=${v}`).join('&');

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

  const longDate = input.now ? amzDate(input.now) : currentAmzDate();
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
