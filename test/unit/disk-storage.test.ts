/**
 * The disk driver and its storage endpoint, through real HTTP (Upfront's own Node adapter): every signed
 * request shape S3 takes, and every way of bending one (tampered, expired, other key/method/length/type,
 * traversal, hostile names and bodies) refused with S3's status and code, leaving nothing on disk.
 * Promotion (copy) is a hard link, checked by inode, and ETag checks trust only a sidecar written for
 * the very file, checked with sidecars that lie.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, truncate, unlink, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { requestListener } from '../../packages/server/src/node.ts';
import { createDiskDriver, DISK_ACCESS_KEY_ID, type DiskDriver } from '../../packages/server/src/storage/disk-driver.ts';
import { createDiskEndpoint } from '../../packages/server/src/storage/disk-endpoint.ts';
import { ObjectChangedError, ObjectMissingError } from '../../packages/server/src/storage/errors.ts';
import { bucketUrl, objectUrl, presignPost, presignUrl, scopeKey } from '../../packages/server/src/storage/sigv4.ts';
import { diskState, s3CodeOf, s3Error, settledDiskState } from '../support/disk-state.ts';

const SECRET = 'test-secret-of-the-disk-driver';
const credentials = { accessKeyId: DISK_ACCESS_KEY_ID, secretAccessKey: SECRET };
const ALLOWED_ORIGIN = 'http://app.example';

let dataDir: string;
let driver: DiskDriver;
let base: string; // http://127.0.0.1:PORT/storage
let port: number;
let server: Server;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'upfront-disk-'));
  let handler: (request: Request) => Promise<Response> = async () => new Response(null, { status: 503 });
  server = createServer(requestListener((request) => handler(request)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
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

/** Asserts an S3 error and that the request changed nothing on disk. */
async function assertRefused(send: () => Promise<Response>, status: number, code: string): Promise<void> {
  const before = await diskState(dataDir);
  const response = await send();
  assert.deepEqual(await s3Error(response), { status, code });
  assert.deepEqual(await diskState(dataDir), before, 'a refused request must leave nothing on disk');
}

function put(url: string, body: Uint8Array, headers: Record<string, string>): Promise<Response> {
  return fetch(url, { method: 'PUT', body: new Uint8Array(body), headers });
}

/** Uploads `body` to staging with a presigned PUT. */
async function stage(key: string, body: Uint8Array, contentType = 'image/png'): Promise<void> {
  const signed = driver.presignPut({ key, contentType, contentLength: body.length, expiresIn: 60 });
  assert.equal((await put(signed.url, body, signed.headers)).status, 200);
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
    const start = await driver.readStart('staging', key, 16);
    assert.deepEqual(Buffer.from(start!.bytes), body.subarray(0, 16));
    assert.deepEqual(start!.head, await driver.head('staging', key));
    assert.deepEqual(Buffer.from((await driver.readStart('staging', key, 5000))!.bytes), body);
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
    const before = await diskState(dataDir);
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
    assert.deepEqual(await settledDiskState(dataDir, before), before);
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
    const files = await diskState(dataDir);
    assert.ok(files.includes(join('objects', 'staging', key)), 'the file is named by its key');
  });
});

describe('path traversal', () => {
  it('refuses dot segments, encoded dots and slashes, NUL, empty segments; nothing escapes the data dir', async () => {
    const before = await diskState(dataDir);
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
    assert.deepEqual(await diskState(dataDir), before);
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
    const before = await diskState(dataDir);
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
    assert.deepEqual(await diskState(dataDir), before);
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
    const leftovers = (await diskState(dataDir)).filter((entry) => entry.includes('deep'));
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
      ['POST', `/storage/staging/${key}?uploads`, 400, 'InvalidRequest'],
      ['PUT', `/storage/staging/${'a'.repeat(1100)}`, 400, 'KeyTooLongError'],
    ];
    for (const [method, path, status, code] of cases) {
      const response = await raw(method, path);
      assert.equal(response.status, status, `${method} ${path}: ${response.text}`);
      assert.equal(s3CodeOf(response.text), code, `${method} ${path}`);
    }
  });
});

describe('promote (copy) and conditional reads', () => {
  const objectFile = (bucket: string, key: string) => join(dataDir, 'objects', bucket, key);
  const sidecarFile = (bucket: string, key: string) => join(dataDir, 'meta', bucket, key);
  const tmpEntries = () => readdir(join(dataDir, 'tmp')).catch(() => [] as string[]);
  /** The identity a sidecar records of its file (the driver's on-disk format). */
  async function identityOf(file: string): Promise<string> {
    const stats = await stat(file, { bigint: true });
    return `${stats.ino}:${stats.mtimeNs}:${stats.size}`;
  }
  async function rewriteSidecar(bucket: string, key: string, change: (sidecar: Record<string, unknown>) => void): Promise<void> {
    const sidecar = JSON.parse(await readFile(sidecarFile(bucket, key), 'utf8')) as Record<string, unknown>;
    change(sidecar);
    await writeFile(sidecarFile(bucket, key), JSON.stringify(sidecar));
  }

  it('links the staged file into place: same inode, new metadata, the staged object kept, nothing left in tmp', async () => {
    const key = newKey('linked.png');
    const body = bytes(3000);
    await stage(key, body);
    const options = { contentType: 'image/png', cacheControl: 'public, max-age=31536000, immutable', ifMatch: md5Etag(body) };
    await driver.copy({ bucket: 'staging', key }, { bucket: 'public', key }, options);
    // Again, as a retried complete does: the target already is this very file (rename does nothing then).
    await driver.copy({ bucket: 'staging', key }, { bucket: 'public', key }, options);

    const [staged, promoted] = await Promise.all([stat(objectFile('staging', key)), stat(objectFile('public', key))]);
    assert.equal(promoted.ino, staged.ino, 'the promoted object is the staged file, not a copy of its bytes');
    assert.deepEqual(await tmpEntries(), []);
    assert.deepEqual(await driver.head('staging', key), { size: 3000, contentType: 'image/png', etag: md5Etag(body) });
    const response = await fetch(driver.publicUrl(key));
    assert.equal(response.headers.get('cache-control'), options.cacheControl);
    assert.equal(response.headers.get('etag'), md5Etag(body));
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), body);

    // Deleting the staged name leaves the promoted one whole, and it still trusts its sidecar.
    await driver.delete('staging', key);
    assert.deepEqual(await driver.head('public', key), { size: 3000, contentType: 'image/png', etag: md5Etag(body) });
    await rewriteSidecar('public', key, (sidecar) => (sidecar.etag = '"trusted"'));
    assert.equal((await driver.head('public', key))?.etag, '"trusted"');
  });

  it('checks ifMatch against the sidecar written for the very file, without reading it (a sparse 1 GiB file)', async () => {
    const key = newKey('huge.bin');
    const file = objectFile('staging', key);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, '');
    await truncate(file, 2 ** 30);
    // The recorded ETag is not the file's MD5: only a driver that trusts the sidecar, instead of hashing
    // the whole file, can accept it.
    const unhashed = '"not-the-md5-of-the-file"';
    const sidecar = { contentType: 'application/zip', size: 2 ** 30, etag: unhashed, file: await identityOf(file) };
    await mkdir(dirname(sidecarFile('staging', key)), { recursive: true });
    await writeFile(sidecarFile('staging', key), JSON.stringify(sidecar));

    assert.deepEqual(await driver.head('staging', key), { size: 2 ** 30, contentType: 'application/zip', etag: unhashed });
    assert.deepEqual(await driver.readStart('staging', key, 8), { head: { size: 2 ** 30, contentType: 'application/zip', etag: unhashed }, bytes: new Uint8Array(8) });
    await assert.rejects(
      driver.copy({ bucket: 'staging', key }, { bucket: 'private', key }, { contentType: 'application/zip', ifMatch: md5Etag(bytes(8)) }),
      ObjectChangedError,
    );
    await driver.copy({ bucket: 'staging', key }, { bucket: 'private', key }, { contentType: 'application/zip', ifMatch: unhashed });
    assert.equal((await stat(objectFile('private', key))).ino, (await stat(file)).ino);
    assert.equal((await driver.head('private', key))?.etag, unhashed);
    await driver.delete('private', key);
    await driver.delete('staging', key);
  });

  it('hashes a file its sidecar does not describe (older version, crash, overwrite): never trusts a stale ETag', async () => {
    const body = bytes(5000, 3);
    const stale = '"stale-etag-of-other-bytes"';
    const changes: [string, (sidecar: Record<string, unknown>) => void][] = [
      ['written by an older version (no identity, same size)', (sidecar) => ((sidecar.etag = stale), delete sidecar.file)],
      ['written for another file', (sidecar) => ((sidecar.etag = stale), (sidecar.file = `1${String(sidecar.file)}`))],
    ];
    for (const [why, change] of changes) {
      const key = newKey('stale.png');
      await stage(key, body);
      await rewriteSidecar('staging', key, change);
      assert.equal((await driver.head('staging', key))?.etag, md5Etag(body), why);
      assert.equal((await driver.readStart('staging', key, 4))?.head.etag, md5Etag(body), why);
      await assert.rejects(driver.copy({ bucket: 'staging', key }, { bucket: 'public', key }, { contentType: 'image/png', ifMatch: stale }), ObjectChangedError, why);
      assert.equal(await driver.head('public', key), null, why);
      assert.deepEqual(await tmpEntries(), [], why);
      await driver.copy({ bucket: 'staging', key }, { bucket: 'public', key }, { contentType: 'image/png', ifMatch: md5Etag(body) });
      assert.equal((await driver.head('public', key))?.etag, md5Etag(body), why);
      await driver.delete('public', key);
      await driver.delete('staging', key);
    }
  });

  it('a missing object (or a "directory" of longer keys) is ObjectMissingError for readStart and copy, null for head', async () => {
    const missing = newKey('missing.png');
    const parent = newKey('parent');
    await stage(`${parent}/child.png`, bytes(10));
    for (const key of [missing, parent, `${missing}/below`]) {
      assert.equal(await driver.head('staging', key), null, key);
      assert.equal(await driver.readStart('staging', key, 10), null, key);
      await assert.rejects(driver.copy({ bucket: 'staging', key }, { bucket: 'public', key: newKey() }, { contentType: 'image/png' }), ObjectMissingError, key);
    }
    assert.deepEqual(await tmpEntries(), []);
  });

  it('after a crash between placing the sidecar and the object there is no object, and a retried copy completes', async () => {
    const key = newKey('crash.png');
    const body = bytes(700);
    await stage(key, body);
    const options = { contentType: 'image/png', ifMatch: md5Etag(body) };
    await driver.copy({ bucket: 'staging', key }, { bucket: 'public', key }, options);
    await unlink(objectFile('public', key)); // the state such a crash leaves: the sidecar only
    assert.equal(await driver.head('public', key), null);
    assert.deepEqual(await s3Error(await fetch(driver.publicUrl(key))), { status: 404, code: 'NoSuchKey' });
    await driver.copy({ bucket: 'staging', key }, { bucket: 'public', key }, options);
    assert.deepEqual(await driver.head('public', key), { size: 700, contentType: 'image/png', etag: md5Etag(body) });
  });

  // Another file system for the staged objects makes the link fail with EXDEV; /dev/shm is one here.
  const otherFs = (async () => {
    const [shm, tmp] = await Promise.all([stat('/dev/shm').catch(() => undefined), stat(tmpdir())]);
    return shm?.isDirectory() && shm.dev !== tmp.dev ? '/dev/shm' : undefined;
  })();

  it('copies the bytes where it cannot link (staging on another file system): same checks, same result', async () => {
    // Tests never skip: without a second file system this fails, saying what it needs.
    const shm = await otherFs;
    assert.ok(shm, `this test needs /dev/shm on another file system than ${tmpdir()} (tmpfs on Debian)`);
    const root = await mkdtemp(join(tmpdir(), 'upfront-exdev-'));
    const stagingDir = await mkdtemp(join(shm, 'upfront-exdev-staging-'));
    try {
      await mkdir(join(root, 'objects'), { recursive: true });
      await symlink(stagingDir, join(root, 'objects', 'staging'));
      const other = createDiskDriver({ dataDir: root, baseUrl: base, secret: SECRET });
      const body = bytes(4000, 9);
      await writeFile(join(stagingDir, 'file.png'), body); // staged without a sidecar: hashed
      const from = { bucket: 'staging' as const, key: 'file.png' };
      await assert.rejects(other.copy(from, { bucket: 'public', key: 'file.png' }, { contentType: 'image/png', ifMatch: '"other"' }), ObjectChangedError);
      assert.equal(await other.head('public', 'file.png'), null);
      await other.copy(from, { bucket: 'public', key: 'file.png' }, { contentType: 'image/png', ifMatch: md5Etag(body) });
      assert.deepEqual(await readFile(join(root, 'objects', 'public', 'file.png')), body);
      assert.deepEqual(await other.head('public', 'file.png'), { size: 4000, contentType: 'image/png', etag: md5Etag(body) });
      await assert.rejects(other.copy({ bucket: 'staging', key: 'gone.png' }, { bucket: 'public', key: 'gone.png' }, { contentType: 'image/png' }), ObjectMissingError);
      assert.deepEqual(await readdir(join(root, 'tmp')), []);
    } finally {
      await rm(root, { recursive: true, force: true });
      await rm(stagingDir, { recursive: true, force: true });
    }
  });
});

describe('hostile requests', () => {
  interface Answer {
    status: number;
    headers: Map<string, string>;
    body: string;
  }

  /** Sends exactly these bytes on a new connection; the answer, or undefined if the server closed without one. */
  function exchange(request: string | Buffer, { halfClose = false } = {}): Promise<Answer | undefined> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => (halfClose ? socket.end(request) : socket.write(request)));
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? undefined : reject(error)));
      socket.on('close', () => resolve(parseAnswer(Buffer.concat(chunks))));
    });
  }

  function parseAnswer(bytes: Buffer): Answer | undefined {
    const end = bytes.indexOf('\r\n\r\n');
    if (end < 0) return undefined;
    const [statusLine = '', ...lines] = bytes.subarray(0, end).toString('latin1').split('\r\n');
    const headers = new Map(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
    let body = bytes.subarray(end + 4);
    if (headers.get('transfer-encoding') === 'chunked') {
      const parts: Buffer[] = [];
      for (let at = 0; ; ) {
        const lineEnd = body.indexOf('\r\n', at);
        const size = parseInt(body.subarray(at, lineEnd).toString('latin1'), 16);
        if (!(size > 0)) break;
        parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
        at = lineEnd + 2 + size + 2;
      }
      body = Buffer.concat(parts);
    }
    return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1]), headers, body: body.toString('utf8') };
  }

  /** An HTTP/1.1 request as written; Content-Length follows the body unless the headers say otherwise. */
  function http1(method: string, target: string, headers: Record<string, string> = {}, body: string | Buffer = ''): Buffer {
    const named = (name: string) => Object.keys(headers).some((header) => header.toLowerCase() === name);
    const all = { Host: `127.0.0.1:${port}`, Connection: 'close', ...headers };
    if (body.length > 0 && !named('content-length') && !named('transfer-encoding')) Object.assign(all, { 'Content-Length': String(Buffer.byteLength(body)) });
    const head = `${method} ${target} HTTP/1.1\r\n${Object.entries(all).map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
    return Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(body)]);
  }

  function formBody(boundary: string, fields: [string, string][], file?: Buffer): Buffer {
    const parts = fields.map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
    if (!file) return Buffer.from(`${parts.join('')}--${boundary}--\r\n`);
    return Buffer.concat([
      Buffer.from(`${parts.join('')}--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n`),
      file,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
  }

  /** A POST form signed for the staging bucket, with `policy` as its (any) policy document. */
  function signedForm(key: string, policy?: unknown): Record<string, string> {
    const { fields } = driver.presignPost({ key, contentType: 'image/png', maxSize: 1000, expiresIn: 60 });
    if (policy === undefined) return fields;
    const encoded = Buffer.from(JSON.stringify(policy)).toString('base64');
    const signingKey = scopeKey(credentials, fields['X-Amz-Date']!.slice(0, 8), 'local', 's3').signingKey;
    return { ...fields, Policy: encoded, 'X-Amz-Signature': createHmac('sha256', signingKey).update(encoded).digest('hex') };
  }

  it('answers every hostile request with a 4xx and an S3 error code, and writes nothing', async () => {
    const existing = newKey('public.png');
    const existingBody = bytes(100);
    await stage(existing, existingBody);
    await driver.copy({ bucket: 'staging', key: existing }, { bucket: 'public', key: existing }, { contentType: 'image/png' });
    const key = newKey('hostile.png');
    const png = { 'Content-Type': 'image/png' };
    const putUrl = new URL(driver.presignPut({ key, contentType: 'image/png', contentLength: 4, expiresIn: 60 }).url);
    const signedPut = `${putUrl.pathname}${putUrl.search}`;
    const withParam = (name: string, value: string) => signedPut.replace(new RegExp(`${name}=[^&]*`), `${name}=${value}`);
    const privateGet = new URL(driver.presignGet('private', existing, { expiresIn: 60 }));
    const boundary = 'hostileBoundary';
    const form = (fields: Record<string, string> | [string, string][], file: Buffer | null = bytes(10)) =>
      http1('POST', '/storage/staging', { 'Content-Type': `multipart/form-data; boundary=${boundary}` },
        formBody(boundary, Array.isArray(fields) ? fields : Object.entries(fields), file ?? undefined));
    const fields = signedForm(key);
    const expiration = new Date(Date.now() + 60_000).toISOString();
    const withConditions = (...conditions: unknown[]) =>
      signedForm(key, { expiration, conditions: [['content-length-range', 1, 1000], { bucket: 'staging' }, { key }, ...conditions] });

    const cases: [what: string, request: Buffer, status: number, code: string][] = [
      // Requests this endpoint does not take
      ['header-signed PUT (Authorization)', http1('PUT', `/storage/staging/${key}`, { ...png, Authorization: 'AWS4-HMAC-SHA256 Credential=upfront-disk/20250101/local/s3/aws4_request, SignedHeaders=host, Signature=00' }, 'evil'), 403, 'AccessDenied'],
      ['GET with a bearer token', http1('GET', `/storage/public/${existing}`, { Authorization: 'Bearer x' }), 403, 'AccessDenied'],
      ['create multipart upload', http1('POST', `/storage/staging/${key}?uploads`), 400, 'InvalidRequest'],
      ['unsigned upload part', http1('PUT', `/storage/staging/${key}?partNumber=1&uploadId=abc`, png, 'evil'), 400, 'AuthorizationQueryParametersError'],
      ['list parts', http1('GET', `/storage/staging/${key}?uploadId=abc`), 400, 'InvalidRequest'],
      ['complete multipart upload', http1('POST', `/storage/staging/${key}?uploadId=abc`, { 'Content-Type': 'application/xml' }, '<CompleteMultipartUpload/>'), 400, 'InvalidRequest'],
      ['abort multipart upload', http1('DELETE', `/storage/staging/${key}?uploadId=abc`), 400, 'InvalidRequest'],
      ['list buckets', http1('GET', '/storage'), 403, 'AccessDenied'],
      ['list objects', http1('GET', '/storage/staging?list-type=2'), 403, 'AccessDenied'],
      ['PUT on a bucket', http1('PUT', '/storage/staging', png, 'evil'), 405, 'MethodNotAllowed'],
      ...['TRACE', 'PROPFIND', 'MKCOL', 'LOCK', 'PURGE', 'PATCH', 'DELETE', 'COPY'].map(
        (method): [string, Buffer, number, string] => [`${method} an object`, http1(method, `/storage/public/${existing}`), 405, 'MethodNotAllowed'],
      ),
      // Bad encodings and names
      ['bad percent-encoding in the key', http1('GET', '/storage/public/%ZZ'), 400, 'InvalidURI'],
      ['truncated UTF-8 in the bucket', http1('GET', '/storage/%E0%A4%A/x'), 400, 'InvalidURI'],
      ['bad percent-encoding in a query name', http1('GET', `/storage/public/${existing}?%ZZ=1`), 400, 'InvalidURI'],
      ['bad percent-encoding in a query value', http1('GET', `/storage/public/${existing}?a=%E0%A4%A`), 400, 'InvalidURI'],
      ['bad percent-encoding in a signature parameter', http1('PUT', withParam('X-Amz-Credential', '%ZZ'), png, 'evil'), 400, 'InvalidURI'],
      ['control character in the key', http1('PUT', `/storage/staging/a%01b${signedPut.slice(signedPut.indexOf('?'))}`, png, 'evil'), 400, 'InvalidArgument'],
      ['key segment of 300 bytes', http1('GET', `/storage/public/${'a'.repeat(300)}`), 400, 'KeyTooLongError'],
      ...['__proto__', 'constructor', 'toString', 'hasOwnProperty'].map(
        (name): [string, Buffer, number, string] => [`bucket named ${name}`, http1('GET', `/storage/${name}/x`), 404, 'NoSuchBucket'],
      ),
      ['query names of Object.prototype', http1('GET', '/storage/public/missing?__proto__=1&constructor=2&toString=3&hasOwnProperty=4&valueOf=5'), 404, 'NoSuchKey'],
      ['anonymous overrides named like Object.prototype', http1('GET', `/storage/public/${existing}?response-__proto__=x&response-constructor=y`), 400, 'InvalidRequest'],
      ['unsigned PUT to a key named __proto__', http1('PUT', '/storage/staging/__proto__', png, 'evil'), 400, 'AuthorizationQueryParametersError'],
      // Presigned requests bent out of shape
      ['a signed header named __proto__', http1('PUT', withParam('X-Amz-SignedHeaders', '__proto__%3Bcontent-length%3Bcontent-type%3Bhost'), png, 'evil'), 403, 'SignatureDoesNotMatch'],
      ['an access key named __proto__', http1('PUT', signedPut.replace('upfront-disk%2F', '__proto__%2F'), png, 'evil'), 403, 'InvalidAccessKeyId'],
      ['an algorithm named constructor', http1('PUT', withParam('X-Amz-Algorithm', 'constructor'), png, 'evil'), 400, 'AuthorizationQueryParametersError'],
      ['a security token named toString', http1('PUT', `${signedPut}&X-Amz-Security-Token=toString`, png, 'evil'), 403, 'AccessDenied'],
      ['a malformed date', http1('PUT', withParam('X-Amz-Date', '2025-01-01'), png, 'evil'), 400, 'AuthorizationQueryParametersError'],
      ['an expiry of years', http1('PUT', withParam('X-Amz-Expires', '99999999'), png, 'evil'), 400, 'AuthorizationQueryParametersError'],
      ['the signature twice', http1('PUT', `${signedPut}&X-Amz-Signature=00`, png, 'evil'), 400, 'AuthorizationQueryParametersError'],
      ['an unsigned x-amz header', http1('PUT', signedPut, { ...png, 'x-amz-meta-evil': '1' }, 'evil'), 403, 'AccessDenied'],
      ['a malformed Content-MD5', http1('PUT', signedPut, { ...png, 'Content-MD5': 'constructor' }, 'evil'), 400, 'InvalidDigest'],
      ['a chunked body', http1('PUT', signedPut, { ...png, 'Transfer-Encoding': 'chunked' }, '4\r\nevil\r\n0\r\n\r\n'), 411, 'MissingContentLength'],
      ['a small JSON body (buffered by the adapter)', http1('PUT', `/storage/staging/${key}`, { 'Content-Type': 'application/json' }, '{"a":'), 400, 'AuthorizationQueryParametersError'],
      ['a GET signature used for a PUT', http1('PUT', `${privateGet.pathname}${privateGet.search}`, png, 'evil'), 403, 'AccessDenied'],
      ['an unsatisfiable huge range', http1('GET', `/storage/public/${existing}`, { Range: 'bytes=99999999999999999999999-' }), 416, 'InvalidRange'],
      // CORS preflights
      ['a preflight without Origin', http1('OPTIONS', `/storage/staging/${key}`), 400, 'BadRequest'],
      ['a preflight for method __proto__', http1('OPTIONS', `/storage/staging/${key}`, { Origin: ALLOWED_ORIGIN, 'Access-Control-Request-Method': '__proto__' }), 403, 'AccessForbidden'],
      // POST forms
      ['a form that is not multipart', http1('POST', '/storage/staging', { 'Content-Type': 'text/plain' }, 'key=a'), 412, 'PreconditionFailed'],
      ['a boundary of 71 characters', http1('POST', '/storage/staging', { 'Content-Type': `multipart/form-data; boundary=${'b'.repeat(71)}` }, 'x'), 412, 'PreconditionFailed'],
      ['garbage after the boundary line', http1('POST', '/storage/staging', { 'Content-Type': `multipart/form-data; boundary=${boundary}` }, `--${boundary}garbage\r\n\r\n`), 400, 'MalformedPOSTRequest'],
      ['a form that ends early', http1('POST', '/storage/staging', { 'Content-Type': `multipart/form-data; boundary=${boundary}` }, `--${boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\nab`), 400, 'IncompleteBody'],
      ['a part header of 9 KB', http1('POST', '/storage/staging', { 'Content-Type': `multipart/form-data; boundary=${boundary}` }, `--${boundary}\r\nX-Pad: ${'p'.repeat(9000)}\r\n\r\n`), 400, 'MalformedPOSTRequest'],
      ['a part without a name', http1('POST', '/storage/staging', { 'Content-Type': `multipart/form-data; boundary=${boundary}` }, `--${boundary}\r\nContent-Disposition: form-data; name=""\r\n\r\nx\r\n--${boundary}--\r\n`), 400, 'MalformedPOSTRequest'],
      ['a form without a file', form(fields, null), 400, 'InvalidArgument'],
      ['a file before any field', form([], bytes(10)), 400, 'MissingFields'],
      ['a signed form with a field named __proto__', form([...Object.entries(fields), ['__proto__', 'x']]), 403, 'AccessDenied'],
      ...['constructor', 'toString', 'hasOwnProperty', 'valueOf'].map(
        (name): [string, Buffer, number, string] => [`a signed form with a field named ${name}`, form([...Object.entries(fields), [name, 'x']]), 403, 'AccessDenied'],
      ),
      ['a signed form with its key field twice', form([...Object.entries(fields), ['KEY', newKey()]]), 400, 'InvalidArgument'],
      ['a policy whose conditions are an object', form(signedForm(key, { expiration, conditions: JSON.parse('{"__proto__": []}') as unknown })), 400, 'InvalidPolicyDocument'],
      ['a policy condition on __proto__', form(withConditions(JSON.parse('{"__proto__": "x"}') as unknown)), 403, 'AccessDenied'],
      ['a policy condition on constructor', form(withConditions(['eq', '$constructor', 'x'])), 403, 'AccessDenied'],
      ['a policy without an expiration', form(signedForm(key, { conditions: [] })), 400, 'InvalidPolicyDocument'],
      ['a policy that is no JSON object', form(signedForm(key, 'toString')), 400, 'InvalidPolicyDocument'],
    ];

    const before = await diskState(dataDir);
    for (const [what, request, status, code] of cases) {
      const answer = await exchange(request);
      assert.ok(answer, `${what}: no answer`);
      assert.deepEqual({ status: answer.status, code: s3CodeOf(answer.body) }, { status, code }, `${what}: ${answer.body}`);
    }
    // HEAD answers have no body: the code is in a header.
    const head = await exchange(http1('HEAD', `/storage/private/${existing}?__proto__=1`));
    assert.deepEqual({ status: head?.status, code: head?.headers.get('x-amz-error-code') }, { status: 403, code: 'AccessDenied' });
    assert.deepEqual(await diskState(dataDir), before, 'hostile requests wrote nothing');

    // Overrides named like Object.prototype members are no overrides: a signed GET serves the object as stored.
    const overrides = presignUrl({
      method: 'GET', url: `${objectUrl(base, 'public', existing, true)}?response-constructor=x&response-__proto__=y&response-toString=z`,
      expiresIn: 60, credentials, region: 'local',
    });
    const served = await fetch(overrides);
    assert.equal(served.status, 200);
    assert.equal(served.headers.get('content-type'), 'image/png');
    assert.deepEqual(Buffer.from(await served.arrayBuffer()), existingBody);
  });

  it('requests Node refuses before the endpoint sees them get a 4xx or no answer, never a 5xx, and write nothing', async () => {
    const before = await diskState(dataDir);
    const host = `127.0.0.1:${port}`;
    const cases: [what: string, request: string, halfClose?: boolean][] = [
      ['Content-Length not a number', `PUT /storage/staging/k HTTP/1.1\r\nHost: ${host}\r\nContent-Length: abc\r\n\r\n`],
      ['negative Content-Length', `PUT /storage/staging/k HTTP/1.1\r\nHost: ${host}\r\nContent-Length: -1\r\n\r\n`],
      ['two different Content-Lengths', `PUT /storage/staging/k HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab`],
      ['Content-Length with chunked', `PUT /storage/staging/k HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`],
      ['a body shorter than its Content-Length', `PUT /storage/staging/k HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 100\r\n\r\nshort`, true],
      ['a form shorter than its Content-Length', `POST /storage/staging HTTP/1.1\r\nHost: ${host}\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 1000\r\n\r\n--b\r\n`, true],
      ['a broken chunked body', `PUT /storage/staging/k HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`],
      ['an invalid Host', 'GET /storage/public/k HTTP/1.1\r\nHost: [::1\r\n\r\n'],
      ['no Host', 'GET /storage/public/k HTTP/1.1\r\n\r\n'],
      ['an asterisk target', `GET * HTTP/1.1\r\nHost: ${host}\r\n\r\n`],
      ['a method that is no token', `G@T /storage/public/k HTTP/1.1\r\nHost: ${host}\r\n\r\n`],
      ['CONNECT', `CONNECT /storage/public/k HTTP/1.1\r\nHost: ${host}\r\n\r\n`],
      ['a control character in a header value', `GET /storage/public/k HTTP/1.1\r\nHost: ${host}\r\nX-A: a\u0001b\r\n\r\n`],
      ['a header line without a colon', `GET /storage/public/k HTTP/1.1\r\nHost: ${host}\r\nno colon here\r\n\r\n`],
    ];
    for (const [what, request, halfClose] of cases) {
      const answer = await exchange(Buffer.from(request, 'latin1'), { halfClose: halfClose ?? false });
      if (answer) assert.ok(answer.status >= 400 && answer.status < 500, `${what}: ${answer.status}`);
    }
    assert.deepEqual(await diskState(dataDir), before);
  });

  it('the fetch handler itself refuses a bad Content-Length with an S3 error (other runtimes may pass one through)', async () => {
    const endpoint = createDiskEndpoint(driver, { corsOrigins: [] });
    const { url } = driver.presignPut({ key: newKey(), contentType: 'image/png', contentLength: 4, expiresIn: 60 });
    for (const length of ['abc', '-1', '1e3', '4.0', '0x4', '9'.repeat(16)]) {
      const request = new Request(url, { method: 'PUT', headers: { host: new URL(url).host, 'content-type': 'image/png', 'content-length': length }, body: 'evil' });
      await assertRefused(() => endpoint(request), 400, 'InvalidArgument');
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
