/**
 * The disk driver and its storage endpoint, through real HTTP: every signed request shape S3 takes, and
 * every way of bending one (tampered, expired, other key/method/length/type, traversal) refused with
 * S3's status and code, leaving nothing on disk.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serve } from '@hono/node-server';
import { createDiskDriver, DISK_ACCESS_KEY_ID, type DiskDriver } from '../../packages/server/src/storage/disk-driver.ts';
import { createDiskEndpoint } from '../../packages/server/src/storage/disk-endpoint.ts';
import { bucketUrl, objectUrl, presignPost, presignUrl } from '../../packages/server/src/storage/sigv4.ts';

const SECRET = 'test-secret-of-the-disk-driver';
const credentials = { accessKeyId: DISK_ACCESS_KEY_ID, secretAccessKey: SECRET };
const ALLOWED_ORIGIN = 'http://app.example';

let dataDir: string;
let driver: DiskDriver;
let base: string; // http://127.0.0.1:PORT/storage
let port: number;
let server: ReturnType<typeof serve>;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'upfront-disk-'));
  let handler: (request: Request) => Promise<Response> = async () => new Response(null, { status: 503 });
  server = serve({ fetch: (request: Request) => handler(request), port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}/storage`;
  driver = createDiskDriver({ dataDir, baseUrl: base, secret: SECRET });
  handler = createDiskEndpoint(driver, { corsOrigins: [ALLOWED_ORIGIN, 'http://localhost:*'] });
});

after(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dataDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------------
// helpers

let counter = 0;
const newKey = (name = 'file.bin') => `user-1/${++counter}-${name}`;
const bytes = (length: number, seed = 7) => Buffer.from(Array.from({ length }, (_, i) => (i * 31 + seed) % 256));
const md5Etag = (body: Uint8Array) => `"${createHash('md5').update(body).digest('hex')}"`;

/** Every file and directory under the data dir except the empty bucket roots, for "nothing written" checks. */
async function diskState(): Promise<string[]> {
  const entries = await readdir(dataDir, { recursive: true }).catch(() => [] as string[]);
  return entries.map(String).sort();
}

async function s3Error(response: Response): Promise<{ status: number; code: string | undefined }> {
  const text = await response.text();
  return { status: response.status, code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1] };
}

/** Asserts an S3 error and that the request changed nothing on disk. */
async function assertRefused(send: () => Promise<Response>, status: number, code: string): Promise<void> {
  const before = await diskState();
  const response = await send();
  assert.deepEqual(await s3Error(response), { status, code });
  assert.deepEqual(await diskState(), before, 'a refused request must leave nothing on disk');
}

function put(url: string, body: Uint8Array, headers: Record<string, string>): Promise<Response> {
  return fetch(url, { method: 'PUT', body: new Uint8Array(body), headers });
}

function form(fields: Record<string, string>, file: Uint8Array | undefined, fileType = 'application/octet-stream'): FormData {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) data.append(name, value);
  if (file) data.append('file', new Blob([new Uint8Array(file)], { type: fileType }), 'original name.bin');
  return data;
}

/** A request exactly as written, for paths and bodies fetch would normalise or refuse to send. */
function raw(method: string, path: string, headers: Record<string, string> = {}, body?: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const codeOf = (text: string) => /<Code>([^<]*)<\/Code>/.exec(text)?.[1];

// ---------------------------------------------------------------------------------------------------

describe('presigned PUT', () => {
  it('stores the exact bytes with their type; head and readStart return them', async () => {
    const key = newKey('photo.png');
    const body = bytes(1000);
    const signed = driver.presignPut({ key, contentType: 'image/png', contentLength: body.length, expiresIn: 60 });
    assert.deepEqual(signed.headers, { 'Content-Type': 'image/png' });
    const response = await put(signed.url, body, signed.headers);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('etag'), md5Etag(body));
    assert.deepEqual(await driver.head('staging', key), { size: 1000, contentType: 'image/png', etag: md5Etag(body) });
    assert.deepEqual(Buffer.from(await driver.readStart('staging', key, 16)), body.subarray(0, 16));
    assert.deepEqual(Buffer.from(await driver.readStart('staging', key, 5000)), body);
    assert.equal(await driver.head('staging', newKey()), null);
  });

  it('streams a multi-megabyte body to disk', async () => {
    const key = newKey();
    const body = bytes(5 * 1024 * 1024 + 3);
    const signed = driver.presignPut({ key, contentType: 'application/octet-stream', contentLength: body.length, expiresIn: 60 });
    const response = await put(signed.url, body, signed.headers);
    assert.equal(response.status, 200);
    assert.equal((await driver.head('staging', key))?.etag, md5Etag(body));
  });

  it('refuses a longer or shorter body, another type, a tampered signature or another key', async () => {
    const key = newKey();
    const body = bytes(100);
    const { url, headers } = driver.presignPut({ key, contentType: 'image/png', contentLength: 100, expiresIn: 60 });
    await assertRefused(() => put(url, bytes(101), headers), 403, 'SignatureDoesNotMatch');
    await assertRefused(() => put(url, bytes(99), headers), 403, 'SignatureDoesNotMatch');
    await assertRefused(() => put(url, body, { 'Content-Type': 'text/html' }), 403, 'SignatureDoesNotMatch');
    const signature = /X-Amz-Signature=([0-9a-f]+)/.exec(url)![1]!;
    const tampered = url.replace(signature, signature.slice(0, -1) + (signature.endsWith('0') ? '1' : '0'));
    await assertRefused(() => put(tampered, body, headers), 403, 'SignatureDoesNotMatch');
    await assertRefused(() => put(url.replace(key, newKey()), body, headers), 403, 'SignatureDoesNotMatch');
    assert.equal(await driver.head('staging', key), null);
  });

  it('refuses a body that stops short of its Content-Length (the header alone is not trusted)', async () => {
    const key = newKey();
    const { url } = driver.presignPut({ key, contentType: 'image/png', contentLength: 100, expiresIn: 60 });
    const target = new URL(url);
    const before = await diskState();
    // Headers promise 100 bytes, the client sends 40 and closes its side.
    const reply = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(
          `PUT ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\n`
          + 'Content-Type: image/png\r\nContent-Length: 100\r\nConnection: close\r\n\r\n',
        );
        socket.end(bytes(40));
      });
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString('latin1')));
      socket.on('close', () => resolve(text));
      socket.on('error', () => undefined);
    });
    // Node's HTTP server answers a truncated request itself (400), before the endpoint's IncompleteBody.
    if (reply) assert.match(reply, /^HTTP\/1\.1 400 /);
    assert.equal(await driver.head('staging', key), null);
    assert.deepEqual(await diskState(), before);
  });

  it('counts the bytes itself: a body shorter than its Content-Length, or one that breaks, is IncompleteBody', async () => {
    // Straight to the fetch handler, as another runtime could deliver such a body; Node's server never would.
    const endpoint = createDiskEndpoint(driver, { corsOrigins: [] });
    const key = newKey();
    const { url } = driver.presignPut({ key, contentType: 'image/png', contentLength: 100, expiresIn: 60 });
    const send = (body: ReadableStream<Uint8Array>) =>
      endpoint(new Request(url, {
        method: 'PUT',
        headers: { host: new URL(url).host, 'content-type': 'image/png', 'content-length': '100' },
        body,
        duplex: 'half',
      } as RequestInit));
    const short = new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(bytes(40)), c.close()) });
    await assertRefused(() => send(short), 400, 'IncompleteBody');
    const long = new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(bytes(140)), c.close()) });
    await assertRefused(() => send(long), 400, 'IncompleteBody');
    const broken = new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(bytes(40)), c.error(new Error('connection reset'))) });
    await assertRefused(() => send(broken), 400, 'IncompleteBody');
    assert.equal(await driver.head('staging', key), null);
  });

  it('refuses an expired URL, a GET URL, a URL for the public bucket, and an unsigned length', async () => {
    const key = newKey();
    const body = bytes(10);
    const signedHeaders = { 'content-type': 'image/png', 'content-length': '10' };
    const headers = { 'Content-Type': 'image/png' };
    const sign = (url: string, extra: { now?: Date; headers?: Record<string, string> } = {}) =>
      presignUrl({ method: 'PUT', url, expiresIn: 60, headers: signedHeaders, credentials, region: 'local', ...extra });

    const expired = sign(objectUrl(base, 'staging', key, true), { now: new Date(Date.now() - 3600_000) });
    await assertRefused(() => put(expired, body, headers), 403, 'AccessDenied');
    const getUrl = driver.presignGet('staging', key, { expiresIn: 60 });
    await assertRefused(() => put(getUrl, body, headers), 403, 'SignatureDoesNotMatch');
    const publicPut = sign(objectUrl(base, 'public', key, true));
    await assertRefused(() => put(publicPut, body, headers), 403, 'AccessDenied');
    const noLength = sign(objectUrl(base, 'staging', key, true), { headers: { 'content-type': 'image/png' } });
    await assertRefused(() => put(noLength, body, headers), 403, 'AccessDenied');
    const otherSecret = presignUrl({
      method: 'PUT', url: objectUrl(base, 'staging', key, true), expiresIn: 60, headers: signedHeaders,
      credentials: { ...credentials, secretAccessKey: 'guessed' }, region: 'local',
    });
    await assertRefused(() => put(otherSecret, body, headers), 403, 'SignatureDoesNotMatch');
  });

  it('requires Content-Length (411) and checks Content-MD5', async () => {
    const key = newKey();
    const body = bytes(10);
    const { url, headers } = driver.presignPut({ key, contentType: 'image/png', contentLength: 10, expiresIn: 60 });
    const chunked = () =>
      fetch(url, {
        method: 'PUT',
        headers,
        body: new ReadableStream({ start: (c) => (c.enqueue(body), c.close()) }),
        duplex: 'half',
      } as RequestInit);
    await assertRefused(chunked, 411, 'MissingContentLength');
    const wrongMd5 = createHash('md5').update('other').digest('base64');
    await assertRefused(() => put(url, body, { ...headers, 'Content-MD5': wrongMd5 }), 400, 'BadDigest');
    await assertRefused(() => put(url, body, { ...headers, 'Content-MD5': 'nonsense' }), 400, 'InvalidDigest');
    const rightMd5 = createHash('md5').update(body).digest('base64');
    assert.equal((await put(url, body, { ...headers, 'Content-MD5': rightMd5 })).status, 200);
  });

  it('stores keys with spaces and unicode under their exact name', async () => {
    const key = newKey('résumé photo – ünïcødé 😀 (1) + 100%.png');
    const body = bytes(64);
    const signed = driver.presignPut({ key, contentType: 'image/png', contentLength: 64, expiresIn: 60 });
    assert.equal((await put(signed.url, body, signed.headers)).status, 200);
    assert.equal((await driver.head('staging', key))?.size, 64);
    const files = await diskState();
    assert.ok(files.includes(join('objects', 'staging', key)), 'the file is named by its key');
  });
});

describe('path traversal', () => {
  it('refuses dot segments, encoded dots and slashes, NUL, empty segments; nothing escapes the data dir', async () => {
    const before = await diskState();
    const headers = { 'content-type': 'image/png', 'content-length': '4' };
    const attempts: [path: string, statuses: number[]][] = [
      ['/storage/staging/../public/x', [403]], // normalised to /storage/public/x: not writable
      ['/storage/staging/%2e%2e/%2e%2e/%2e%2e/etc/passwd', [404]], // normalised out of /storage
      ['/storage/staging/a%2F..%2F..%2F..%2Fescaped', [400]],
      ['/storage/staging/..%2F..%2Fescaped', [400]],
      ['/storage/staging/a/%00/b', [400]],
      ['/storage/staging/a//b', [400]],
      ['/storage/staging/%2Fabsolute', [400]],
      ['/storage/staging/a/.%2Fb', [400]],
    ];
    for (const [path, statuses] of attempts) {
      const response = await raw('PUT', path, headers, Buffer.from('evil'));
      assert.ok(statuses.includes(response.status), `${path}: got ${response.status} ${response.text}`);
      const get = await raw('GET', path);
      assert.ok([400, 403, 404].includes(get.status), `GET ${path}: got ${get.status}`);
    }
    assert.deepEqual(await diskState(), before);
    assert.deepEqual(await readdir(join(dataDir, '..')).then((names) => names.filter((n) => n === 'escaped')), []);
  });

  it('refuses a traversal key even when the URL is validly signed', async () => {
    const url = presignUrl({
      method: 'PUT',
      url: `${base}/staging/a%2F..%2F..%2F..%2Fpwned`,
      expiresIn: 60,
      headers: { 'content-type': 'image/png', 'content-length': '4' },
      credentials,
      region: 'local',
    });
    await assertRefused(() => put(url, Buffer.from('evil'), { 'Content-Type': 'image/png' }), 400, 'InvalidArgument');
    assert.throws(() => driver.presignPut({ key: '../pwned', contentType: 'image/png', contentLength: 4, expiresIn: 60 }));
    await assert.rejects(driver.head('staging', 'a/../../pwned'));
  });
});

describe('POST policy form', () => {
  function postForm(fields: Record<string, string>, file: Uint8Array | undefined, url = bucketUrl(base, 'staging', true)) {
    return fetch(url, { method: 'POST', body: form(fields, file) });
  }

  it('stores a valid upload with the form Content-Type; answers 204 with ETag and Location', async () => {
    const key = newKey('doc.pdf');
    const body = bytes(3000);
    const signed = driver.presignPost({ key, contentType: 'application/pdf', maxSize: 5000, expiresIn: 60 });
    const response = await postForm(signed.fields, body, signed.url);
    assert.equal(response.status, 204, await response.text());
    assert.equal(response.headers.get('etag'), md5Etag(body));
    assert.equal(response.headers.get('location'), objectUrl(base, 'staging', key, true));
    assert.deepEqual(await driver.head('staging', key), { size: 3000, contentType: 'application/pdf', etag: md5Etag(body) });
  });

  it('handles a body that arrives a few bytes at a time', async () => {
    const key = newKey();
    const body = bytes(777);
    const signed = driver.presignPost({ key, contentType: 'image/png', maxSize: 1000, expiresIn: 60 });
    const serialised = new Response(form(signed.fields, body));
    const contentType = serialised.headers.get('content-type')!;
    const encoded = new Uint8Array(await serialised.arrayBuffer());
    const response = await fetch(signed.url, {
      method: 'POST',
      headers: { 'content-type': contentType, 'content-length': String(encoded.length) },
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < encoded.length; i += 7) controller.enqueue(encoded.subarray(i, i + 7));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    assert.equal(response.status, 204, await response.text());
    assert.equal((await driver.head('staging', key))?.etag, md5Etag(body));
  });

  it('refuses a file over the range (while streaming, and up front from Content-Length) and an empty file', async () => {
    const signed = driver.presignPost({ key: newKey(), contentType: 'image/png', maxSize: 1000, expiresIn: 60 });
    await assertRefused(() => postForm(signed.fields, bytes(1001), signed.url), 400, 'EntityTooLarge');
    await assertRefused(() => postForm(signed.fields, bytes(200_000), signed.url), 400, 'EntityTooLarge');
    await assertRefused(() => postForm(signed.fields, new Uint8Array(0), signed.url), 400, 'EntityTooSmall');
    assert.equal((await postForm(signed.fields, bytes(1000), signed.url)).status, 204);
  });

  it('refuses a body whose Content-Length is far over the range before reading the file', async () => {
    const signed = driver.presignPost({ key: newKey(), contentType: 'image/png', maxSize: 1000, expiresIn: 60 });
    const boundary = 'b0undary';
    const head = Object.entries(signed.fields).map(([n, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${n}"\r\n\r\n${v}\r\n`).join('')
      + `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big"\r\n\r\n`;
    const target = new URL(signed.url);
    const before = await diskState();
    // Announce 1 GB but send only the fields: an answer can only come if the endpoint decides up front.
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(
          `POST ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nContent-Length: ${10 ** 9}\r\n`
          + `Content-Type: multipart/form-data; boundary=${boundary}\r\n\r\n${head}`,
        );
      });
      let text = '';
      socket.on('data', (chunk) => {
        text += chunk.toString('latin1');
        if (text.includes('</Error>')) (socket.destroy(), resolve(text));
      });
      socket.on('error', reject);
      socket.on('close', () => resolve(text));
    });
    assert.match(reply, /^HTTP\/1\.1 400 [\s\S]*<Code>EntityTooLarge<\/Code>/);
    assert.deepEqual(await diskState(), before);
  });

  it('refuses a changed key, a changed Content-Type, an extra field, a changed policy and an expired policy', async () => {
    const key = newKey();
    const signed = driver.presignPost({ key, contentType: 'image/png', maxSize: 1000, expiresIn: 60 });
    const body = bytes(10);
    await assertRefused(() => postForm({ ...signed.fields, key: newKey() }, body), 403, 'AccessDenied');
    await assertRefused(() => postForm({ ...signed.fields, 'Content-Type': 'text/html' }, body), 403, 'AccessDenied');
    await assertRefused(() => postForm({ ...signed.fields, 'Cache-Control': 'public' }, body), 403, 'AccessDenied');
    const twoKeys = form(signed.fields, undefined);
    twoKeys.append('KEY', newKey());
    twoKeys.append('file', new Blob([new Uint8Array(body)]));
    await assertRefused(() => fetch(signed.url, { method: 'POST', body: twoKeys }), 400, 'InvalidArgument');
    const policy = JSON.parse(Buffer.from(signed.fields.Policy!, 'base64').toString()) as { conditions: unknown[] };
    policy.conditions = policy.conditions.map((c) => (Array.isArray(c) && c[0] === 'content-length-range' ? [c[0], 1, 10 ** 9] : c));
    const forged = Buffer.from(JSON.stringify(policy)).toString('base64');
    await assertRefused(() => postForm({ ...signed.fields, Policy: forged }, body), 403, 'SignatureDoesNotMatch');

    const expired = presignPost({
      url: bucketUrl(base, 'staging', true), bucket: 'staging', key, expiresIn: 60,
      fields: { 'Content-Type': 'image/png' }, conditions: [['content-length-range', 1, 1000]],
      credentials, region: 'local', now: new Date(Date.now() - 3600_000),
    });
    await assertRefused(() => postForm(expired.fields, body), 403, 'AccessDenied');
    assert.equal(await driver.head('staging', key), null);
  });

  it('refuses a form without a file, a public bucket, a traversal key, and malformed bodies', async () => {
    const signed = driver.presignPost({ key: newKey(), contentType: 'image/png', maxSize: 1000, expiresIn: 60 });
    await assertRefused(() => postForm(signed.fields, undefined), 400, 'InvalidArgument');
    await assertRefused(() => postForm(signed.fields, bytes(10), bucketUrl(base, 'public', true)), 403, 'AccessDenied');
    const traversal = presignPost({
      url: bucketUrl(base, 'staging', true), bucket: 'staging', key: '../../pwned', expiresIn: 60,
      conditions: [['content-length-range', 1, 1000]], credentials, region: 'local',
    });
    await assertRefused(() => postForm(traversal.fields, bytes(10)), 400, 'InvalidArgument');
    await assertRefused(
      () => fetch(bucketUrl(base, 'staging', true), { method: 'POST', body: 'key=a', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
      412,
      'PreconditionFailed',
    );
    const malformed = (body: string) =>
      fetch(bucketUrl(base, 'staging', true), { method: 'POST', body, headers: { 'content-type': 'multipart/form-data; boundary=XyZ' } });
    await assertRefused(() => malformed('--XyZ\r\nContent-Disposition: form-data; name="key"\r\n\r\nabc'), 400, 'IncompleteBody');
    await assertRefused(() => malformed('--XyZ\r\nNo-Disposition: x\r\n\r\nabc\r\n--XyZ--\r\n'), 400, 'MalformedPOSTRequest');
    const big = `--XyZ\r\nContent-Disposition: form-data; name="x-ignore-pad"\r\n\r\n${'a'.repeat(30_000)}\r\n--XyZ--\r\n`;
    await assertRefused(() => malformed(big), 400, 'MaxPostPreDataLengthExceeded');
    // A file part that is cut off before its closing boundary is never stored.
    const file = `--XyZ\r\n${Object.entries(signed.fields).map(([n, v]) => `Content-Disposition: form-data; name="${n}"\r\n\r\n${v}\r\n--XyZ\r\n`).join('')}`
      + 'Content-Disposition: form-data; name="file"; filename="a"\r\n\r\nbytes without an end';
    await assertRefused(() => malformed(file), 400, 'IncompleteBody');
    await assertRefused(() => malformed(`${file}\r\n--XyZ`), 400, 'IncompleteBody');
    await assertRefused(() => malformed(`${file}\r\n--XyZanother`), 400, 'MalformedPOSTRequest');
    assert.equal((await malformed(`${file}\r\n--XyZ--`)).status, 204);
  });
});

describe('GET, copy, delete', () => {
  it('serves a private object only through a presigned GET, with its Content-Disposition', async () => {
    const key = newKey('secret report.pdf');
    const body = bytes(500);
    const signed = driver.presignPut({ key, contentType: 'application/pdf', contentLength: 500, expiresIn: 60 });
    assert.equal((await put(signed.url, body, signed.headers)).status, 200);
    await driver.copy({ bucket: 'staging', key }, { bucket: 'private', key }, {
      contentType: 'application/pdf',
      cacheControl: 'private, max-age=0, no-store',
      contentDisposition: 'attachment; filename="report.pdf"',
    });

    const plain = await fetch(driver.presignGet('private', key, { expiresIn: 60 }));
    assert.equal(plain.status, 200);
    assert.equal(plain.headers.get('content-disposition'), 'attachment; filename="report.pdf"');
    assert.deepEqual(Buffer.from(await plain.arrayBuffer()), body);

    const disposition = `attachment; filename="a b+c.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf`;
    const url = driver.presignGet('private', key, { expiresIn: 60, contentDisposition: disposition });
    const response = await fetch(url);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-disposition'), disposition);
    assert.equal(response.headers.get('content-type'), 'application/pdf');
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
    await response.arrayBuffer();

    const unsendable = driver.presignGet('private', key, { expiresIn: 60, contentDisposition: 'attachment; filename="😀\r\nx: y"' });
    assert.deepEqual(await s3Error(await fetch(unsendable)), { status: 400, code: 'InvalidArgument' });

    const anonymous = objectUrl(base, 'private', key, true);
    assert.deepEqual(await s3Error(await fetch(anonymous)), { status: 403, code: 'AccessDenied' });
    assert.equal((await fetch(anonymous, { method: 'HEAD' })).status, 403);
    assert.deepEqual(await s3Error(await fetch(objectUrl(base, 'staging', key, true))), { status: 403, code: 'AccessDenied' });
    assert.deepEqual(await s3Error(await fetch(url.replace('filename', 'filenamX'))), { status: 403, code: 'SignatureDoesNotMatch' });
    const expired = presignUrl({ method: 'GET', url: anonymous, expiresIn: 60, credentials, region: 'local', now: new Date(Date.now() - 3600_000) });
    assert.deepEqual(await s3Error(await fetch(expired)), { status: 403, code: 'AccessDenied' });
  });

  it('copies with metadata into the public bucket, served anonymously with Cache-Control, ranges and conditionals', async () => {
    const key = newKey('ünï photo.png');
    const body = bytes(2048);
    const signed = driver.presignPut({ key, contentType: 'image/png', contentLength: body.length, expiresIn: 60 });
    assert.equal((await put(signed.url, body, signed.headers)).status, 200);
    const options = { contentType: 'image/png', cacheControl: 'public, max-age=31536000, immutable', contentDisposition: 'inline' };
    await driver.copy({ bucket: 'staging', key }, { bucket: 'public', key }, options);
    await driver.copy({ bucket: 'staging', key }, { bucket: 'public', key }, options); // idempotent

    const url = driver.publicUrl(key);
    const response = await fetch(url);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(response.headers.get('content-type'), 'image/png');
    assert.equal(response.headers.get('content-disposition'), 'inline');
    assert.equal(response.headers.get('content-length'), '2048');
    assert.equal(response.headers.get('etag'), md5Etag(body));
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), body);

    const head = await fetch(url, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '2048');

    const range = await fetch(url, { headers: { range: 'bytes=100-199' } });
    assert.equal(range.status, 206);
    assert.equal(range.headers.get('content-range'), 'bytes 100-199/2048');
    assert.deepEqual(Buffer.from(await range.arrayBuffer()), body.subarray(100, 200));
    const suffix = await fetch(url, { headers: { range: 'bytes=-10' } });
    assert.deepEqual(Buffer.from(await suffix.arrayBuffer()), body.subarray(2038));
    assert.deepEqual(await s3Error(await fetch(url, { headers: { range: 'bytes=5000-' } })), { status: 416, code: 'InvalidRange' });
    const notModified = await fetch(url, { headers: { 'if-none-match': md5Etag(body) } });
    assert.equal(notModified.status, 304);

    // Anonymous readers cannot restyle a public file (e.g. as text/html).
    const restyled = await fetch(`${url}?response-content-type=text%2Fhtml`);
    assert.deepEqual(await s3Error(restyled), { status: 400, code: 'InvalidRequest' });
    await assert.rejects(driver.copy({ bucket: 'staging', key: newKey() }, { bucket: 'public', key: newKey() }, options));
  });

  it('deletes objects and their sidecars, pruning empty directories; a missing object is no error', async () => {
    const key = `deep/nested/dirs/${newKey()}`;
    const signed = driver.presignPut({ key, contentType: 'image/png', contentLength: 3, expiresIn: 60 });
    assert.equal((await put(signed.url, bytes(3), signed.headers)).status, 200);
    await driver.copy({ bucket: 'staging', key }, { bucket: 'public', key }, { contentType: 'image/png' });
    await driver.delete('staging', key);
    await driver.delete('staging', key);
    assert.equal(await driver.head('staging', key), null);
    assert.equal((await fetch(driver.publicUrl(key))).status, 200);
    await driver.delete('public', key);
    assert.deepEqual(await s3Error(await fetch(driver.publicUrl(key))), { status: 404, code: 'NoSuchKey' });
    const leftovers = (await diskState()).filter((entry) => entry.includes('deep'));
    assert.deepEqual(leftovers, []);
  });

  it('refuses a key that would need a file to be a directory, or the other way round (409)', async () => {
    const parent = newKey('parent');
    const signed = driver.presignPut({ key: parent, contentType: 'image/png', contentLength: 3, expiresIn: 60 });
    assert.equal((await put(signed.url, bytes(3), signed.headers)).status, 200);
    const child = driver.presignPut({ key: `${parent}/child`, contentType: 'image/png', contentLength: 3, expiresIn: 60 });
    await assertRefused(() => put(child.url, bytes(3), child.headers), 409, 'KeyConflict');
    const dir = newKey('dir');
    const nested = driver.presignPut({ key: `${dir}/file`, contentType: 'image/png', contentLength: 3, expiresIn: 60 });
    assert.equal((await put(nested.url, bytes(3), nested.headers)).status, 200);
    const onDir = driver.presignPut({ key: dir, contentType: 'image/png', contentLength: 3, expiresIn: 60 });
    await assertRefused(() => put(onDir.url, bytes(3), onDir.headers), 409, 'KeyConflict');
    assert.equal(await driver.head('staging', dir), null);
    assert.equal((await fetch(driver.presignGet('staging', dir, { expiresIn: 60 }))).status, 404);
  });

  it('answers other requests S3-style, never with a 500', async () => {
    const key = newKey();
    const cases: [method: string, path: string, status: number, code: string | undefined][] = [
      ['DELETE', `/storage/public/${key}`, 405, 'MethodNotAllowed'],
      ['PATCH', `/storage/staging/${key}`, 405, 'MethodNotAllowed'],
      ['GET', '/storage/staging', 403, 'AccessDenied'],
      ['GET', '/storage/', 403, 'AccessDenied'],
      ['GET', `/storage/nope/${key}`, 404, 'NoSuchBucket'],
      ['GET', `/elsewhere/${key}`, 404, 'NoSuchBucket'],
      ['GET', `/storage/public/${key}`, 404, 'NoSuchKey'],
      ['GET', '/storage/public/%E0%A4%A', 400, 'InvalidURI'],
      ['GET', `/storage/public/${key}?X-Amz-Signature=abc`, 400, 'AuthorizationQueryParametersError'],
      ['POST', `/storage/staging/${key}?uploads`, 501, 'NotImplemented'],
      ['PUT', `/storage/staging/${'a'.repeat(1100)}`, 400, 'KeyTooLongError'],
    ];
    for (const [method, path, status, code] of cases) {
      const response = await raw(method, path);
      assert.equal(response.status, status, `${method} ${path}: ${response.text}`);
      assert.equal(codeOf(response.text), code, `${method} ${path}`);
    }
  });
});

describe('CORS', () => {
  const url = () => objectUrl(base, 'staging', 'some/key.png', true);
  const preflight = (origin: string, method = 'PUT') =>
    fetch(url(), {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'content-type' },
    });

  it('allows preflights from listed origins only (exact, or any port of localhost)', async () => {
    for (const origin of [ALLOWED_ORIGIN, 'http://localhost:5173']) {
      const response = await preflight(origin);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('access-control-allow-origin'), origin);
      assert.match(response.headers.get('access-control-allow-methods') ?? '', /PUT/);
      assert.equal(response.headers.get('access-control-allow-headers'), 'content-type');
    }
    for (const origin of ['http://evil.example', 'http://app.example.evil', 'http://localhost']) {
      const response = await preflight(origin);
      assert.deepEqual(await s3Error(response), { status: 403, code: 'AccessForbidden' });
      assert.equal(response.headers.get('access-control-allow-origin'), null);
    }
    assert.equal((await preflight(ALLOWED_ORIGIN, 'DELETE')).status, 403);
  });

  it('adds Allow-Origin and exposes ETag on responses to listed origins, errors included', async () => {
    const key = newKey();
    const signed = driver.presignPut({ key, contentType: 'image/png', contentLength: 3, expiresIn: 60 });
    const ok = await put(signed.url, bytes(3), { ...signed.headers, origin: ALLOWED_ORIGIN });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('access-control-allow-origin'), ALLOWED_ORIGIN);
    assert.equal(ok.headers.get('access-control-expose-headers'), 'ETag');
    assert.match(ok.headers.get('vary') ?? '', /Origin/);
    const refused = await put(signed.url, bytes(4), { ...signed.headers, origin: ALLOWED_ORIGIN });
    assert.equal(refused.status, 403);
    assert.equal(refused.headers.get('access-control-allow-origin'), ALLOWED_ORIGIN);
    const foreign = await fetch(objectUrl(base, 'public', key, true), { headers: { origin: 'http://evil.example' } });
    assert.equal(foreign.headers.get('access-control-allow-origin'), null);
  });
});
