/**
 * The disk driver's storage endpoint: a fetch handler that takes the same signed requests as S3 and
 * refuses everything they do not allow, the way Ceph RGW does: presigned PUT (exact key, Content-Length,
 * Content-Type, expiry; where the length was unknown, at most the x-upfront-max-size signed into the URL,
 * which is stricter than S3), POST policy forms (every condition, content-length-range enforced while the
 * file streams in), presigned part PUTs of multipart uploads (exact key, upload id, part number,
 * Content-Length and, when signed, Content-MD5), and GET/HEAD (public bucket anonymous, the others only
 * with a presigned GET; a version by `versionId`, only with a presigned GET, as S3 grants anonymous
 * GetObject but not GetObjectVersion). Multipart uploads are created, listed, completed and aborted by the API through
 * the driver, so those requests are refused here.
 * Errors are S3's XML with S3's codes and statuses, so clients cannot tell it from a real store.
 *
 * Unlike RGW, error responses carry CORS headers for allowed origins, so a browser can read why.
 */
import { originMatcher } from '../http/cors.ts';
import {
  DiskStorageError,
  isBucket,
  keyProblem,
  type DiskDriver,
  type ObjectMetadata,
  type StoredObject,
} from './disk-driver.ts';
import { MAX_PART_NUMBER, MAX_PART_SIZE, PartUploadError } from './disk-multipart.ts';
import { formBoundary, MultipartFormError, MultipartReader } from './multipart-form.ts';
import { MAX_SIZE_PARAM } from './presigner.ts';
import { objectUrl } from './sigv4.ts';
import { verifyPostPolicy, verifyPresignedRequest } from './sigv4-verify.ts';
import type { Bucket } from './types.ts';

export interface DiskEndpointOptions {
  /** Origins allowed to send browser requests (exact, `*`, or `http://host:*` for any port). */
  corsOrigins: string[];
  /**
   * Told of each object a PUT or a POST form wrote into staging, before the answer (as Ceph RGW pushes
   * its notifications): the drop-in endpoints' uploads are finalized there. Its failures are its own.
   */
  onStaged?: (key: string) => Promise<void>;
}

/** An S3 error: its HTTP status, its `Code` and a sentence for `Message`. */
class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What the driver's refusals mean for a PUT (exact length) and for a POST form (length range). */
const PUT_ERRORS: Record<DiskStorageError['code'], [number, string]> = {
  InvalidKey: [400, 'InvalidArgument'],
  KeyTooLong: [400, 'KeyTooLongError'],
  KeyConflict: [409, 'KeyConflict'],
  EntityTooSmall: [400, 'IncompleteBody'],
  EntityTooLarge: [400, 'IncompleteBody'],
  BadDigest: [400, 'BadDigest'],
};
const POST_ERRORS: Record<DiskStorageError['code'], [number, string]> = {
  ...PUT_ERRORS,
  EntityTooSmall: [400, 'EntityTooSmall'],
  EntityTooLarge: [400, 'EntityTooLarge'],
};

/** What a refused part PUT answers. */
const PART_ERRORS: Record<PartUploadError['code'], number> = {
  NoSuchUpload: 404,
  IncompleteBody: 400,
  BadDigest: 400,
  OperationAborted: 409,
};

const CORS_METHODS = ['GET', 'HEAD', 'PUT', 'POST'];
/** S3 caps the form fields before the file at 20 KB. */
const MAX_PRE_DATA_BYTES = 20 * 1024;
/** What may follow the file in a form: the closing boundary and, rarely, a few more (ignored) fields. */
const FORM_TAIL_ALLOWANCE = 16 * 1024;
// Names a client sends are looked up in Maps only: a plain object would also "have" `constructor`, `__proto__`…
const RESPONSE_OVERRIDES = new Map([
  ['response-content-type', 'content-type'],
  ['response-content-disposition', 'content-disposition'],
  ['response-cache-control', 'cache-control'],
  ['response-content-language', 'content-language'],
  ['response-content-encoding', 'content-encoding'],
  ['response-expires', 'expires'],
]);

export function createDiskEndpoint(driver: DiskDriver, options: DiskEndpointOptions): (request: Request) => Promise<Response> {
  const basePath = new URL(driver.baseUrl).pathname.replace(/\/+$/, '');
  const allowedOrigin = originMatcher(options.corsOrigins);
  const lookup = (accessKeyId: string) => driver.lookupCredentials(accessKeyId);

  return async function diskEndpoint(request: Request): Promise<Response> {
    const origin = request.headers.get('origin');
    let response: Response;
    try {
      response = request.method === 'OPTIONS' ? preflight(request, origin) : await route(request);
    } catch (error) {
      response = errorResponse(error, request.method);
    }
    const headers = new Headers(response.headers);
    if (options.corsOrigins.length > 0) headers.append('vary', 'Origin'); // caches must keep per-origin copies
    if (origin && allowedOrigin(origin) && request.method !== 'OPTIONS') {
      headers.set('access-control-allow-origin', origin);
      headers.set('access-control-expose-headers', 'ETag');
    }
    return new Response(response.body, { status: response.status, headers });
  };

  function preflight(request: Request, origin: string | null): Response {
    const method = request.headers.get('access-control-request-method');
    if (!origin || !method) throw new S3Error(400, 'BadRequest', 'Insufficient information. Origin request header needed.');
    if (!allowedOrigin(origin) || !CORS_METHODS.includes(method)) {
      throw new S3Error(403, 'AccessForbidden', 'CORSResponse: This CORS request is not allowed.');
    }
    const headers = new Headers({
      'access-control-allow-origin': origin,
      'access-control-allow-methods': CORS_METHODS.join(', '),
      'access-control-max-age': '600',
    });
    // Any request header may be sent: the signature decides what a request may do, not the header list.
    const requested = request.headers.get('access-control-request-headers');
    if (requested) headers.set('access-control-allow-headers', requested);
    return new Response(null, { status: 200, headers });
  }

  async function route(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname !== basePath && !url.pathname.startsWith(`${basePath}/`)) {
      throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist.');
    }
    const path = url.pathname.slice(basePath.length + 1);
    const slash = path.indexOf('/');
    const bucket = decodePath(slash < 0 ? path : path.slice(0, slash));
    const key = slash < 0 ? '' : decodePath(path.slice(slash + 1));
    if (bucket === '') throw new S3Error(403, 'AccessDenied', 'Listing buckets is not allowed.');
    if (!isBucket(bucket)) throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist.');
    // Refusals of what this endpoint does not take are 4xx, as S3 answers them: a 5xx would blame the server.
    if (request.headers.has('authorization')) {
      throw new S3Error(403, 'AccessDenied', 'This endpoint takes presigned requests only (query-string signatures), not an Authorization header.');
    }
    const query = queryParams(url);
    const method = request.method;
    if (query.has('uploads') || (query.has('uploadId') && method !== 'PUT')) {
      throw new S3Error(400, 'InvalidRequest', 'This endpoint takes the parts of multipart uploads only; they are created, completed and aborted through the Upfront API.');
    }

    if (key === '') {
      if (method === 'POST') return postForm(request, bucket);
      if (method === 'GET' || method === 'HEAD') throw new S3Error(403, 'AccessDenied', 'Listing objects is not allowed.');
      throw methodNotAllowed();
    }
    checkKey(key);
    if (method === 'PUT') return query.has('uploadId') || query.has('partNumber') ? putPart(request, bucket, key, query) : putObject(request, bucket, key, query);
    if (method === 'GET' || method === 'HEAD') return getObject(request, bucket, key, query);
    throw methodNotAllowed();
  }

  async function putObject(request: Request, bucket: Bucket, key: string, query: Map<string, string>): Promise<Response> {
    if (bucket !== 'staging') throw new S3Error(403, 'AccessDenied', 'Only the staging bucket accepts uploads.');
    const length = contentLength(request);
    verifySignature(request);
    // Only requests signed with their length (or, where it was unknown, the most bytes) and type can
    // upload: storage, not the client, enforces both.
    const signed = (query.get('X-Amz-SignedHeaders') ?? '').split(';');
    const limit = signed.includes('content-length') ? undefined : signedMaxSize(query);
    if ((!signed.includes('content-length') && limit === undefined) || !signed.includes('content-type')) {
      throw new S3Error(403, 'AccessDenied', `An upload URL must sign Content-Type, and Content-Length or ${MAX_SIZE_PARAM}.`);
    }
    if (limit !== undefined && length > limit) {
      throw new S3Error(400, 'EntityTooLarge', `Your proposed upload exceeds the maximum allowed size of ${limit} bytes.`);
    }
    const contentMd5 = contentMd5Of(request);
    const metadata = { contentType: request.headers.get('content-type') ?? 'application/octet-stream' };
    const stored = await store(limit === undefined ? PUT_ERRORS : POST_ERRORS, bucket, key, requestBody(request), metadata, {
      minSize: limit === undefined ? length : 1,
      maxSize: limit ?? length,
      ...(contentMd5 !== undefined && { contentMd5 }),
    });
    await staged(key);
    return new Response(null, { status: 200, headers: { etag: stored.etag ?? '' } });
  }

  /** UploadPart: the part streams to where it belongs in the upload's object; a re-sent part replaces the one held. */
  async function putPart(request: Request, bucket: Bucket, key: string, query: Map<string, string>): Promise<Response> {
    if (bucket !== 'staging') throw new S3Error(403, 'AccessDenied', 'Only the staging bucket accepts uploads.');
    const length = contentLength(request);
    verifySignature(request);
    if (!(query.get('X-Amz-SignedHeaders') ?? '').split(';').includes('content-length')) {
      throw new S3Error(403, 'AccessDenied', 'A part upload URL must sign Content-Length.');
    }
    const partNumber = query.get('partNumber') ?? '';
    if (!/^\d{1,5}$/.test(partNumber) || +partNumber < 1 || +partNumber > MAX_PART_NUMBER) {
      throw new S3Error(400, 'InvalidArgument', `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive.`);
    }
    const uploadId = query.get('uploadId');
    if (!uploadId) throw new S3Error(400, 'InvalidArgument', 'A part upload names its upload with uploadId.');
    if (length > MAX_PART_SIZE) throw new S3Error(400, 'EntityTooLarge', `Your proposed upload exceeds the maximum part size of ${MAX_PART_SIZE} bytes.`);
    const contentMd5 = contentMd5Of(request);
    try {
      const part = await driver.writePart(key, uploadId, +partNumber, requestBody(request), { size: length, ...(contentMd5 !== undefined && { contentMd5 }) });
      return new Response(null, { status: 200, headers: { etag: part.etag } });
    } catch (error) {
      if (error instanceof PartUploadError) throw new S3Error(PART_ERRORS[error.code], error.code, error.message);
      throw error;
    }
  }

  async function postForm(request: Request, bucket: Bucket): Promise<Response> {
    if (bucket !== 'staging') throw new S3Error(403, 'AccessDenied', 'Only the staging bucket accepts uploads.');
    const boundary = formBoundary(request.headers.get('content-type'));
    if (!boundary) {
      throw new S3Error(412, 'PreconditionFailed', 'Bucket POST must be of the enclosure-type multipart/form-data.');
    }
    const length = contentLength(request);
    const form = new MultipartReader(requestBody(request), boundary, MAX_PRE_DATA_BYTES);

    // By lower-case name: S3 matches form fields case-insensitively.
    const fields = new Map<string, string>();
    for (;;) {
      const part = await form.nextPart();
      if (!part) throw new S3Error(400, 'InvalidArgument', 'POST requires exactly one file upload per request.');
      const name = part.name.toLowerCase();
      if (name === 'file') break;
      if (fields.has(name)) throw new S3Error(400, 'InvalidArgument', `The form field ${name} appears more than once.`);
      fields.set(name, await form.text());
    }

    const verified = verifyPostPolicy({ bucket, fields }, lookup, driver.region);
    if (!verified.ok) throw new S3Error(verified.status, verified.code, verified.message);
    if (!verified.lengthRange) throw new S3Error(403, 'AccessDenied', 'An upload policy must have a content-length-range condition.');
    const [minSize, maxSize] = verified.lengthRange;
    const key = fields.get('key') ?? '';
    checkKey(key);
    // Refuse a body that announces more than the policy allows before reading the file at all.
    if (length - form.consumed > maxSize + FORM_TAIL_ALLOWANCE) {
      throw new S3Error(400, 'EntityTooLarge', `Your proposed upload exceeds the maximum allowed size of ${maxSize} bytes.`);
    }

    const cacheControl = fields.get('cache-control');
    const contentDisposition = fields.get('content-disposition');
    // Stored values become response headers on every GET: refuse any that could not be one.
    const metadata: ObjectMetadata = {
      contentType: headerValue(fields.get('content-type') ?? 'application/octet-stream', 'Content-Type'),
      ...(cacheControl !== undefined && { cacheControl: headerValue(cacheControl, 'Cache-Control') }),
      ...(contentDisposition !== undefined && { contentDisposition: headerValue(contentDisposition, 'Content-Disposition') }),
    };
    form.limit = Infinity; // the file itself is bounded by the policy's range instead
    const stored = await store(POST_ERRORS, bucket, key, form.body(), metadata, { minSize, maxSize });
    await staged(key);

    const location = objectUrl(driver.baseUrl, bucket, key, true);
    const headers = { etag: stored.etag ?? '', location };
    const status = fields.get('success_action_status');
    if (status === '201') {
      const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse><Location>${escapeXml(location)}</Location>`
        + `<Bucket>${bucket}</Bucket><Key>${escapeXml(key)}</Key><ETag>${escapeXml(stored.etag ?? '')}</ETag></PostResponse>`;
      return new Response(xml, { status: 201, headers: { ...headers, 'content-type': 'application/xml' } });
    }
    return new Response(null, { status: status === '200' ? 200 : 204, headers });
  }

  /** Tells onStaged of a new staged object; the upload stands whatever comes of that. */
  async function staged(key: string): Promise<void> {
    await options.onStaged?.(key).catch(() => undefined);
  }

  async function getObject(request: Request, bucket: Bucket, key: string, query: Map<string, string>): Promise<Response> {
    const signed = [...query.keys()].some((name) => name.startsWith('X-Amz-'));
    if (signed) {
      verifySignature(request);
    } else if (bucket !== 'public') {
      throw new S3Error(403, 'AccessDenied', 'Access Denied');
    }
    const overrides = [...query.keys()].filter((name) => name.startsWith('response-'));
    // Anonymous overrides could, for one, serve a public file as text/html; S3 refuses them too.
    if (!signed && overrides.length > 0) {
      throw new S3Error(400, 'InvalidRequest', 'Request specific response headers cannot be used for anonymous GET requests.');
    }
    const versionId = query.get('versionId');
    if (!signed && versionId !== undefined) throw new S3Error(403, 'AccessDenied', 'Access Denied');

    const opened = await driver.openObject(bucket, key, versionId);
    if (!opened) {
      if (versionId !== undefined) throw new S3Error(404, 'NoSuchVersion', 'The specified version does not exist.');
      throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.');
    }
    try {
      const { object } = opened;
      const headers = objectHeaders(object);
      for (const name of overrides) {
        const header = RESPONSE_OVERRIDES.get(name);
        if (header) headers.set(header, headerValue(query.get(name)!, name));
      }

      const ifNoneMatch = request.headers.get('if-none-match');
      if (ifNoneMatch && object.etag && ifNoneMatch.split(',').some((tag) => [object.etag, '*'].includes(tag.trim().replace(/^W\//, '')))) {
        await opened.close();
        headers.delete('content-length');
        return new Response(null, { status: 304, headers });
      }
      const range = byteRange(request.headers.get('range'), object.size);
      if (range === 'unsatisfiable') {
        throw new S3Error(416, 'InvalidRange', 'The requested range is not satisfiable.');
      }
      if (range) {
        headers.set('content-range', `bytes ${range.start}-${range.end}/${object.size}`);
        headers.set('content-length', String(range.end - range.start + 1));
      }
      const status = range ? 206 : 200;
      if (request.method === 'HEAD' || object.size === 0) {
        await opened.close();
        return new Response(null, { status, headers });
      }
      return new Response(opened.body(range ?? undefined), { status, headers });
    } catch (error) {
      await opened.close().catch(() => undefined);
      throw error;
    }
  }

  function verifySignature(request: Request): void {
    const verified = verifyPresignedRequest(request, lookup, driver.region);
    if (!verified.ok) throw new S3Error(verified.status, verified.code, verified.message);
  }

  /** Writes through the driver, translating its refusals into this request's S3 errors. */
  async function store(
    errors: Record<DiskStorageError['code'], [number, string]>,
    ...args: Parameters<DiskDriver['writeObject']>
  ): Promise<StoredObject> {
    try {
      return await driver.writeObject(...args);
    } catch (error) {
      if (error instanceof DiskStorageError) {
        const [status, code] = errors[error.code];
        throw new S3Error(status, code, error.message);
      }
      throw error;
    }
  }
}

function objectHeaders(object: StoredObject): Headers {
  const headers = new Headers({
    'content-type': object.contentType,
    'content-length': String(object.size),
    'last-modified': object.lastModified.toUTCString(),
    'accept-ranges': 'bytes',
    'x-content-type-options': 'nosniff',
  });
  if (object.etag) headers.set('etag', object.etag);
  if (object.cacheControl) headers.set('cache-control', object.cacheControl);
  if (object.contentDisposition) headers.set('content-disposition', object.contentDisposition);
  return headers;
}

/** Keys come from the network: anything that could leave its bucket's directory is refused here already. */
function checkKey(key: string): void {
  const problem = keyProblem(key);
  if (problem) throw new S3Error(400, problem.code === 'KeyTooLong' ? 'KeyTooLongError' : 'InvalidArgument', problem.message);
}

function headerValue(value: string, name: string): string {
  // HTTP/1.1 header values are latin-1 text without line breaks (Node refuses anything else when responding).
  if (/[^\t\u0020-\u007e\u0080-\u00ff]/.test(value)) throw new S3Error(400, 'InvalidArgument', `${name} is not a valid header value.`);
  return value;
}

function methodNotAllowed(): S3Error {
  return new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
}

function errorResponse(error: unknown, method: string): Response {
  if (error instanceof MultipartFormError) error = new S3Error(400, error.code, error.message);
  if (!(error instanceof S3Error)) {
    console.error('upfront: disk storage endpoint failed', error);
    error = new S3Error(500, 'InternalError', 'We encountered an internal error. Please try again.');
  }
  const { status, code, message } = error as S3Error;
  // HEAD answers carry no body; S3 puts the code nowhere then, we keep it in a header for debugging.
  if (method === 'HEAD') return new Response(null, { status, headers: { 'x-amz-error-code': code } });
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>`;
  return new Response(xml, { status, headers: { 'content-type': 'application/xml' } });
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function decodePath(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new S3Error(400, 'InvalidURI', 'Could not parse the specified URI.');
  }
}

/** Query parameters decoded the way SigV4 reads them: `+` is a plus, not a space (unlike URLSearchParams). */
function queryParams(url: URL): Map<string, string> {
  const params = new Map<string, string>();
  for (const part of url.search.slice(1).split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = decodePath(eq < 0 ? part : part.slice(0, eq));
    if (!params.has(name)) params.set(name, decodePath(eq < 0 ? '' : part.slice(eq + 1)));
  }
  return params;
}

/** The request's Content-MD5, if it has one; a malformed one is S3's InvalidDigest. */
function contentMd5Of(request: Request): string | undefined {
  const contentMd5 = request.headers.get('content-md5') ?? undefined;
  if (contentMd5 !== undefined && !/^[A-Za-z0-9+/]{22}==$/.test(contentMd5)) {
    throw new S3Error(400, 'InvalidDigest', 'The Content-MD5 you specified is not valid.');
  }
  return contentMd5;
}

/** The most bytes a PUT signed without its length may hold (presigner.ts, MAX_SIZE_PARAM); undefined if not given. */
function signedMaxSize(query: Map<string, string>): number | undefined {
  const value = query.get(MAX_SIZE_PARAM);
  return value !== undefined && /^[1-9]\d{0,15}$/.test(value) ? Number(value) : undefined;
}

/** The request's declared body length; S3 refuses uploads without one (no chunked uploads). */
function contentLength(request: Request): number {
  const header = request.headers.get('content-length');
  if (header === null) throw new S3Error(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.');
  if (!/^\d{1,15}$/.test(header)) throw new S3Error(400, 'InvalidArgument', 'The Content-Length header is not a number.');
  return Number(header);
}

/** The request body; a connection that breaks mid-body becomes S3's IncompleteBody. */
async function* requestBody(request: Request): AsyncGenerator<Uint8Array> {
  if (!request.body) return;
  const reader = request.body.getReader();
  let finished = false;
  try {
    for (;;) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read();
      } catch {
        throw new S3Error(400, 'IncompleteBody', 'The request body ended before all of it arrived.');
      }
      if (result.done) {
        finished = true;
        return;
      }
      yield result.value;
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
  }
}

/** A single `bytes=` range (clamped to the object), null to send it all, or 'unsatisfiable'. */
function byteRange(header: string | null, size: number): { start: number; end: number } | null | 'unsatisfiable' {
  const match = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!match || (match[1] === '' && match[2] === '')) return null; // absent, malformed or multi-range: the whole object
  const [first, last] = [match[1]!, match[2]!];
  if (first === '') {
    const suffix = Number(last);
    return suffix === 0 || size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (start >= size) return 'unsatisfiable';
  return end < start ? null : { start, end };
}
