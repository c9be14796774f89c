/**
 * Multipart uploads on the disk driver, through real HTTP (Upfront's own Node adapter): parts PUT with
 * presigned URLs land byte-identical in the staged object with S3's composite ETag, in any order and
 * concurrently; every bent part request and every bad complete is refused with S3's status and code,
 * assembling nothing. Complete copies no bytes: the object is the very file the parts were written into,
 * proved by inode and by the bytes the process wrote during complete — for a ~1.1 GiB upload too.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { appendFile, mkdtemp, open, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type ClientRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { requestListener } from '../../packages/server/src/node.ts';
import { createDiskDriver, DISK_ACCESS_KEY_ID, type DiskDriver } from '../../packages/server/src/storage/disk-driver.ts';
import { createDiskEndpoint } from '../../packages/server/src/storage/disk-endpoint.ts';
import { InvalidPartsError, ObjectMissingError } from '../../packages/server/src/storage/errors.ts';
import { objectUrl, presignUrl } from '../../packages/server/src/storage/sigv4.ts';
import { diskState, s3CodeOf, s3Error } from '../support/disk-state.ts';

const SECRET = 'test-secret-of-the-disk-driver';
const credentials = { accessKeyId: DISK_ACCESS_KEY_ID, secretAccessKey: SECRET };
const MiB = 1024 * 1024;
// Small parts keep the tests fast; the rules are S3's with this minimum instead of 5 MiB.
const MIN_PART = 1024;

let dataDir: string;
let driver: DiskDriver;
let endpoint: (request: Request) => Promise<Response>;
let base: string; // http://127.0.0.1:PORT/storage
let port: number;
let server: Server;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'upfront-multipart-'));
  server = createServer(requestListener((request) => endpoint(request)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}/storage`;
  driver = createDiskDriver({ dataDir, baseUrl: base, secret: SECRET, minPartSize: MIN_PART });
  endpoint = createDiskEndpoint(driver, { corsOrigins: [] });
});

after(async () => {
  // A test that failed midway may leave a half-sent request open.
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(dataDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------------
// helpers

let counter = 0;
const newKey = (name = 'file.bin') => `user-1/${++counter}-${name}`;
const bytes = (length: number, seed = 7) => Buffer.from(Array.from({ length }, (_, i) => (i * 31 + seed) % 251));
const md5 = (body: Uint8Array) => createHash('md5').update(body).digest();
const md5Etag = (body: Uint8Array) => `"${md5(body).toString('hex')}"`;
const compositeEtag = (digests: Buffer[]) => `"${createHash('md5').update(Buffer.concat(digests)).digest('hex')}-${digests.length}"`;
const uploadDir = (uploadId: string) => join(dataDir, 'multipart', uploadId);
const objectFile = (bucket: string, key: string) => join(dataDir, 'objects', bucket, key);

function put(url: string, body: Uint8Array, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'PUT', body: new Uint8Array(body), headers });
}

interface PartOptions {
  md5?: string;
  contentLength?: number;
  expiresIn?: number;
}

/** A presigned part URL and the headers to send with it, from the driver. */
function signPart(key: string, uploadId: string, partNumber: number, body: Uint8Array, options: PartOptions = {}) {
  return driver.presignPart({
    key,
    uploadId,
    partNumber,
    contentLength: options.contentLength ?? body.length,
    ...(options.md5 !== undefined && { contentMd5: options.md5 }),
    expiresIn: options.expiresIn ?? 60,
  });
}

async function sendPart(key: string, uploadId: string, partNumber: number, body: Uint8Array, options: PartOptions = {}): Promise<Response> {
  const { url, headers } = signPart(key, uploadId, partNumber, body, options);
  return put(url, body, headers);
}

/** Sends the part and expects 200 with the part's quoted MD5 as ETag. */
async function uploadPart(key: string, uploadId: string, partNumber: number, body: Uint8Array): Promise<string> {
  const response = await sendPart(key, uploadId, partNumber, body);
  assert.equal(response.status, 200, await response.text());
  assert.equal(response.headers.get('etag'), md5Etag(body));
  return md5Etag(body);
}

/** A presigned part PUT for any query (for part numbers the driver refuses to sign). */
function signedPartUrl(key: string, query: string, contentLength: number, extra: { now?: Date } = {}): string {
  return presignUrl({
    method: 'PUT',
    url: `${objectUrl(base, 'staging', key, true)}?${query}`,
    expiresIn: 60,
    headers: { 'content-length': String(contentLength) },
    credentials,
    region: 'local',
    ...extra,
  });
}

/** Asserts S3's refusal, and that the upload holds the same parts as before and nothing was assembled. */
async function assertPartRefused(
  upload: { key: string; uploadId: string },
  send: () => Promise<Response>,
  status: number,
  code: string,
  { bytesArrive = false } = {},
): Promise<void> {
  const parts = await driver.listParts(upload.key, upload.uploadId);
  const disk = await diskState(dataDir);
  assert.deepEqual(await s3Error(await send()), { status, code });
  assert.deepEqual(await driver.listParts(upload.key, upload.uploadId), parts, `${code}: the parts held are the same`);
  assert.equal(await driver.head('staging', upload.key), null, `${code}: nothing assembled`);
  // Refused before the body was read: nothing at all changed on disk.
  if (!bytesArrive) assert.deepEqual(await diskState(dataDir), disk, `${code}: nothing written`);
}

/** Asserts that complete refuses the list and assembles nothing, leaving the upload as it was. */
async function assertCompleteRefused(
  upload: { key: string; uploadId: string },
  parts: { partNumber: number; etag: string }[],
  error: typeof InvalidPartsError | typeof ObjectMissingError,
  message?: RegExp,
): Promise<void> {
  const held = await driver.listParts(upload.key, upload.uploadId);
  await assert.rejects(driver.completeMultipart(upload.key, upload.uploadId, parts), (thrown: unknown) => {
    assert.ok(thrown instanceof error, String(thrown));
    if (message) assert.match(thrown.message, message);
    return true;
  });
  assert.equal(await driver.head('staging', upload.key), null, 'nothing assembled');
  assert.deepEqual(await driver.listParts(upload.key, upload.uploadId), held, 'the upload is as it was');
}

/** The data files of an upload (`data-<stride>`), by name. */
async function dataFiles(uploadId: string): Promise<string[]> {
  return (await readdir(uploadDir(uploadId))).filter((name) => name.startsWith('data-')).sort();
}

/** Bytes this process has passed to write(2) so far (files and sockets alike). */
async function writtenBytes(): Promise<number> {
  return Number(/^wchar: (\d+)$/m.exec(await readFile('/proc/self/io', 'utf8'))![1]);
}

/** A part PUT sent by hand: headers and `first` bytes now; `finish` sends the rest, `cut` breaks the connection. */
function partialPut(url: string, length: number, first: Uint8Array) {
  const req: ClientRequest = httpRequest(url, { method: 'PUT', headers: { 'content-length': String(length) } });
  const answer = new Promise<{ status: number; code: string | undefined }>((resolve, reject) => {
    req.on('response', (res: IncomingMessage) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, code: s3CodeOf(text) }));
    });
    req.on('error', reject);
  });
  req.write(first);
  return {
    answer,
    finish: (rest: Uint8Array) => req.end(rest),
    cut: () => req.destroy(),
  };
}

// Tests that wait for the answer to a half-sent request fail, rather than hang, when that answer never comes.
const WAITS_ON_A_REQUEST = { timeout: 30_000 };

/** Waits (a bounded number of times) until `check` holds: for what a concurrent request does on the server. */
async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 500; attempt++) {
    if (await check()) return;
    await sleep(10);
  }
  assert.fail(`never happened: ${what}`);
}

// ---------------------------------------------------------------------------------------------------

describe('multipart upload on disk', () => {
  it('assembles the parts into the staged object: exact bytes, composite ETag, type; head, readStart, GET and copy work on it', async () => {
    const key = newKey('movie.mp4');
    const parts = [bytes(2048, 1), bytes(2048, 2), bytes(500, 3)];
    const uploadId = await driver.createMultipart(key, 'video/mp4');
    assert.match(uploadId, /^[A-Za-z0-9_-]{20,}$/, 'a URL-safe id');
    assert.deepEqual(await driver.listParts(key, uploadId), []);
    const etags: string[] = [];
    for (const [index, part] of parts.entries()) etags.push(await uploadPart(key, uploadId, index + 1, part));
    assert.deepEqual(await driver.listParts(key, uploadId), parts.map((part, index) => ({ partNumber: index + 1, size: part.length, etag: etags[index] })));

    const [written] = await dataFiles(uploadId);
    const writtenInode = (await stat(join(uploadDir(uploadId), written!))).ino;
    await driver.completeMultipart(key, uploadId, etags.map((etag, index) => ({ partNumber: index + 1, etag })));

    const whole = Buffer.concat(parts);
    const etag = compositeEtag(parts.map(md5));
    assert.equal((await stat(objectFile('staging', key))).ino, writtenInode, 'the object is the file the parts were written into');
    assert.deepEqual(await driver.head('staging', key), { size: whole.length, contentType: 'video/mp4', etag });
    const start = await driver.readStart('staging', key, 4096);
    assert.deepEqual(start, { head: { size: whole.length, contentType: 'video/mp4', etag }, bytes: new Uint8Array(whole.subarray(0, 4096)) });
    const served = await fetch(driver.presignGet('staging', key, { expiresIn: 60 }));
    assert.equal(served.headers.get('etag'), etag);
    assert.deepEqual(Buffer.from(await served.arrayBuffer()), whole);

    assert.equal(await driver.listParts(key, uploadId), null, 'the multipart upload no longer exists');
    await assert.rejects(stat(uploadDir(uploadId)), { code: 'ENOENT' });

    await driver.copy({ bucket: 'staging', key }, { bucket: 'public', key }, { contentType: 'video/mp4', ifMatch: etag, size: whole.length });
    assert.equal((await stat(objectFile('public', key))).ino, writtenInode, 'promoted by link');
    assert.deepEqual(await driver.head('public', key), { size: whole.length, contentType: 'video/mp4', etag });
  });

  it('takes parts in any order and concurrently, the last one first too', async () => {
    const key = newKey();
    const parts = [1, 2, 3, 4, 5, 6].map((seed) => bytes(seed === 6 ? 777 : 1500, seed));
    const uploadId = await driver.createMultipart(key, 'application/octet-stream');
    // The last (shorter) part before any other: it cannot know where it belongs yet.
    await uploadPart(key, uploadId, 6, parts[5]!);
    await Promise.all([4, 2, 1, 5, 3].map((partNumber) => uploadPart(key, uploadId, partNumber, parts[partNumber - 1]!)));
    assert.deepEqual((await driver.listParts(key, uploadId))?.map((part) => part.partNumber), [1, 2, 3, 4, 5, 6]);
    await driver.completeMultipart(key, uploadId, parts.map((part, index) => ({ partNumber: index + 1, etag: md5Etag(part) })));
    assert.deepEqual(await readFile(objectFile('staging', key)), Buffer.concat(parts));
    assert.equal((await driver.head('staging', key))?.etag, compositeEtag(parts.map(md5)));
  });

  it('assembles parts of several sizes and with gaps in their numbers (S3 allows both)', async () => {
    const key = newKey();
    const parts = new Map([[2, bytes(1100, 1)], [5, bytes(1300, 2)], [9, bytes(1200, 3)], [10, bytes(10, 4)]]);
    const uploadId = await driver.createMultipart(key, 'application/octet-stream');
    await Promise.all([...parts].map(([partNumber, part]) => uploadPart(key, uploadId, partNumber, part)));
    await driver.completeMultipart(key, uploadId, [...parts].map(([partNumber, part]) => ({ partNumber, etag: md5Etag(part) })));
    assert.deepEqual(await readFile(objectFile('staging', key)), Buffer.concat([...parts.values()]));
    assert.equal((await driver.head('staging', key))?.etag, compositeEtag([...parts.values()].map(md5)));
  });

  it('a completed upload leaves out the parts not listed', async () => {
    const key = newKey();
    const parts = [bytes(1024, 1), bytes(1024, 2), bytes(1024, 3), bytes(1024, 4)];
    const uploadId = await driver.createMultipart(key, 'application/octet-stream');
    for (const [index, part] of parts.entries()) await uploadPart(key, uploadId, index + 1, part);
    await driver.completeMultipart(key, uploadId, [1, 2].map((partNumber) => ({ partNumber, etag: md5Etag(parts[partNumber - 1]!) })));
    assert.deepEqual(await readFile(objectFile('staging', key)), Buffer.concat(parts.slice(0, 2)));
  });

  it('a re-sent part replaces the one held; a complete naming the old one is refused', async () => {
    const key = newKey();
    const uploadId = await driver.createMultipart(key, 'application/octet-stream');
    const [first, second, last] = [bytes(1024, 1), bytes(1024, 2), bytes(10, 3)];
    const old = await uploadPart(key, uploadId, 1, first);
    const replaced = await uploadPart(key, uploadId, 1, second);
    const tail = await uploadPart(key, uploadId, 2, last);
    assert.deepEqual(await driver.listParts(key, uploadId), [{ partNumber: 1, size: 1024, etag: replaced }, { partNumber: 2, size: 10, etag: tail }]);
    await assertCompleteRefused({ key, uploadId }, [{ partNumber: 1, etag: old }, { partNumber: 2, etag: tail }], InvalidPartsError);
    await driver.completeMultipart(key, uploadId, [{ partNumber: 1, etag: replaced }, { partNumber: 2, etag: tail }]);
    assert.deepEqual(await readFile(objectFile('staging', key)), Buffer.concat([second, last]));
  });

  it('a part PUT that fails leaves no half part; the part sent again is held', WAITS_ON_A_REQUEST, async () => {
    const key = newKey();
    const uploadId = await driver.createMultipart(key, 'application/octet-stream');
    const part = bytes(4096, 5);
    const { url } = signPart(key, uploadId, 1, part);
    const cut = partialPut(url, part.length, part.subarray(0, 1000));
    try {
      await eventually('the first bytes of the part reach its data file', async () =>
        (await dataFiles(uploadId)).length > 0 && (await stat(join(uploadDir(uploadId), (await dataFiles(uploadId))[0]!))).size >= 1000);
    } finally {
      cut.cut();
    }
    await cut.answer.catch(() => undefined);
    assert.deepEqual(await driver.listParts(key, uploadId), []);
    await assertCompleteRefused({ key, uploadId }, [{ partNumber: 1, etag: md5Etag(part) }], InvalidPartsError);
    await uploadPart(key, uploadId, 1, part);
    await driver.completeMultipart(key, uploadId, [{ partNumber: 1, etag: md5Etag(part) }]);
    assert.deepEqual(await readFile(objectFile('staging', key)), part);
  });

  it('a newer PUT of a part cuts off one still running (409 OperationAborted); the newer one is held', WAITS_ON_A_REQUEST, async () => {
    const key = newKey();
    const uploadId = await driver.createMultipart(key, 'application/octet-stream');
    await uploadPart(key, uploadId, 1, bytes(2048, 1));
    const slow = bytes(2048, 2);
    const running = partialPut(signPart(key, uploadId, 1, slow).url, slow.length, slow.subarray(0, 500));
    const newer = bytes(2048, 3);
    let etag: string;
    try {
      await eventually('the running PUT dropped the part held before', async () => (await driver.listParts(key, uploadId))?.length === 0);
      etag = await uploadPart(key, uploadId, 1, newer);
      assert.deepEqual(await running.answer, { status: 409, code: 'OperationAborted' });
    } finally {
      running.cut();
    }
    assert.deepEqual(await driver.listParts(key, uploadId), [{ partNumber: 1, size: 2048, etag }]);
    await driver.completeMultipart(key, uploadId, [{ partNumber: 1, etag }]);
    assert.deepEqual(await readFile(objectFile('staging', key)), newer);
  });

  it('complete ends a PUT of a part it leaves out (404 NoSuchUpload) and places only the listed parts', WAITS_ON_A_REQUEST, async () => {
    const key = newKey();
    const uploadId = await driver.createMultipart(key, 'application/octet-stream');
    const parts = [bytes(2048, 1), bytes(2048, 2)];
    for (const [index, part] of parts.entries()) await uploadPart(key, uploadId, index + 1, part);
    await uploadPart(key, uploadId, 3, bytes(2048, 3));
    const resent = bytes(2048, 4);
    const running = partialPut(signPart(key, uploadId, 3, resent).url, resent.length, resent.subarray(0, 100));
    try {
      await eventually('the running PUT of part 3 has started', async () => (await driver.listParts(key, uploadId))?.length === 2);
      await driver.completeMultipart(key, uploadId, parts.map((part, index) => ({ partNumber: index + 1, etag: md5Etag(part) })));
      assert.deepEqual(await running.answer, { status: 404, code: 'NoSuchUpload' });
    } finally {
      running.cut();
    }
    assert.deepEqual(await readFile(objectFile('staging', key)), Buffer.concat(parts));
  });

  it('abort drops the upload and its parts; parts sent after it are NoSuchUpload; an unknown id is no error', async () => {
    const key = newKey();
    const uploadId = await driver.createMultipart(key, 'application/octet-stream');
    const part = bytes(2048);
    const etag = await uploadPart(key, uploadId, 1, part);
    const later = signPart(key, uploadId, 2, part);
    await driver.abortMultipart(key, uploadId);
    await assert.rejects(stat(uploadDir(uploadId)), { code: 'ENOENT' });
    assert.equal(await driver.listParts(key, uploadId), null);
    await assertPartRefused({ key, uploadId }, () => put(later.url, part, later.headers), 404, 'NoSuchUpload');
    await assertCompleteRefused({ key, uploadId }, [{ partNumber: 1, etag }], ObjectMissingError);
    await driver.abortMultipart(key, uploadId);
    await driver.abortMultipart(key, 'never-created-never-created-0000');
    await driver.abortMultipart(key, '../../objects');
  });

  it('an upload is bound to its key: another key neither lists, completes, aborts nor takes its parts', async () => {
    const key = newKey();
    const other = newKey();
    const uploadId = await driver.createMultipart(key, 'application/octet-stream');
    const part = bytes(2048);
    const etag = await uploadPart(key, uploadId, 1, part);
    assert.equal(await driver.listParts(other, uploadId), null);
    await assertCompleteRefused({ key: other, uploadId }, [{ partNumber: 1, etag }], ObjectMissingError);
    await driver.abortMultipart(other, uploadId);
    assert.equal((await driver.listParts(key, uploadId))?.length, 1, 'not aborted by another key');
    const signedForOther = signPart(other, uploadId, 2, part);
    await assertPartRefused({ key, uploadId }, () => put(signedForOther.url, part, signedForOther.headers), 404, 'NoSuchUpload');
    assert.equal(await driver.head('staging', other), null);
  });
});

describe('part PUTs refused as S3 refuses them', () => {
  let key: string;
  let uploadId: string;
  const part = bytes(2048, 9);
  const upload = () => ({ key, uploadId });

  before(async () => {
    key = newKey();
    uploadId = await driver.createMultipart(key, 'application/octet-stream');
    await uploadPart(key, uploadId, 1, bytes(2048, 1));
  });

  it('part numbers 0, 10001 and x: 400 InvalidArgument', async () => {
    for (const partNumber of ['0', '10001', 'x', '1.5', '-1']) {
      const url = signedPartUrl(key, `partNumber=${partNumber}&uploadId=${uploadId}`, part.length);
      await assertPartRefused(upload(), () => put(url, part), 400, 'InvalidArgument');
    }
    const noId = signedPartUrl(key, 'partNumber=2', part.length);
    await assertPartRefused(upload(), () => put(noId, part), 400, 'InvalidArgument');
    assert.throws(() => signPart(key, uploadId, 0, part), RangeError);
    assert.throws(() => signPart(key, uploadId, 10_001, part), RangeError);
    assert.throws(() => signPart('../escape', uploadId, 1, part));
  });

  it('a body longer or shorter than the signed length: 403 SignatureDoesNotMatch', async () => {
    const { url } = signPart(key, uploadId, 2, part);
    await assertPartRefused(upload(), () => put(url, bytes(2049)), 403, 'SignatureDoesNotMatch');
    await assertPartRefused(upload(), () => put(url, bytes(2047)), 403, 'SignatureDoesNotMatch');
  });

  it('a body shorter or longer than its signed Content-Length: 400 IncompleteBody; the next part is untouched', async () => {
    // Straight to the fetch handler, as another runtime could deliver such a body; Node's server never would.
    const send = (body: Uint8Array, length = part.length) => {
      const { url } = signPart(key, uploadId, 2, part, { contentLength: length });
      return endpoint(new Request(url, {
        method: 'PUT',
        headers: { host: new URL(url).host, 'content-length': String(length) },
        body: new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(body), c.close()) }),
        duplex: 'half',
      } as RequestInit));
    };
    const next = bytes(2048, 3);
    const nextEtag = await uploadPart(key, uploadId, 3, next);
    await assertPartRefused(upload(), () => send(part.subarray(0, 100)), 400, 'IncompleteBody', { bytesArrive: true });
    await assertPartRefused(upload(), () => send(Buffer.concat([part, bytes(700, 4)])), 400, 'IncompleteBody', { bytesArrive: true });
    // A part is never bigger than S3 allows (5 GiB), whatever was signed: refused before any byte is read.
    await assertPartRefused(upload(), () => send(part, 5 * 1024 ** 3 + 1), 400, 'EntityTooLarge');

    const other = await driver.createMultipart(key, 'application/octet-stream');
    const neighbours = [bytes(2048, 5), bytes(2048, 6)];
    const etags = [await uploadPart(key, other, 1, neighbours[0]!), await uploadPart(key, other, 2, neighbours[1]!)];
    const { url } = signPart(key, other, 1, neighbours[0]!);
    const tooLong = new Request(url, {
      method: 'PUT',
      headers: { host: new URL(url).host, 'content-length': '2048' },
      body: new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(bytes(2048 + 1000, 7)), c.close()) }),
      duplex: 'half',
    } as RequestInit);
    assert.deepEqual(await s3Error(await endpoint(tooLong)), { status: 400, code: 'IncompleteBody' });
    await uploadPart(key, other, 1, neighbours[0]!);
    await driver.completeMultipart(key, other, etags.map((etag, index) => ({ partNumber: index + 1, etag })));
    assert.deepEqual(await readFile(objectFile('staging', key)), Buffer.concat(neighbours), 'part 2 is whole: part 1 never wrote past its slot');
    await driver.delete('staging', key);
    assert.equal((await driver.listParts(key, uploadId))?.find((held) => held.partNumber === 3)?.etag, nextEtag);
  });

  it('bytes that do not match the signed Content-MD5: 400 BadDigest; a malformed one: 400 InvalidDigest', async () => {
    const signedMd5 = md5(bytes(2048, 10)).toString('base64');
    const { url, headers } = signPart(key, uploadId, 2, part, { md5: signedMd5 });
    assert.deepEqual(headers, { 'Content-MD5': signedMd5 });
    await assertPartRefused(upload(), () => put(url, part, headers), 400, 'BadDigest', { bytesArrive: true });
    const malformed = signPart(key, uploadId, 2, part, { md5: 'not-an-md5' });
    await assertPartRefused(upload(), () => put(malformed.url, part, malformed.headers), 400, 'InvalidDigest');
    await assertPartRefused(upload(), () => put(url, part, { 'Content-MD5': md5(part).toString('base64') }), 403, 'SignatureDoesNotMatch');
    const right = signPart(key, uploadId, 2, part, { md5: md5(part).toString('base64') });
    assert.equal((await put(right.url, part, right.headers)).status, 200);
  });

  it('an expired URL: 403 AccessDenied; a tampered signature: 403 SignatureDoesNotMatch', async () => {
    const expired = signedPartUrl(key, `partNumber=3&uploadId=${uploadId}`, part.length, { now: new Date(Date.now() - 3600_000) });
    await assertPartRefused(upload(), () => put(expired, part), 403, 'AccessDenied');
    const { url } = signPart(key, uploadId, 3, part);
    const signature = /X-Amz-Signature=([0-9a-f]+)/.exec(url)![1]!;
    const tampered = url.replace(signature, signature.slice(0, -1) + (signature.endsWith('0') ? '1' : '0'));
    await assertPartRefused(upload(), () => put(tampered, part), 403, 'SignatureDoesNotMatch');
  });

  it('a URL signed for part 2 used for part 3, for another upload id or another key: 403 SignatureDoesNotMatch', async () => {
    const { url } = signPart(key, uploadId, 2, part);
    await assertPartRefused(upload(), () => put(url.replace('partNumber=2', 'partNumber=3'), part), 403, 'SignatureDoesNotMatch');
    const otherId = await driver.createMultipart(key, 'application/octet-stream');
    await assertPartRefused(upload(), () => put(url.replace(uploadId, otherId), part), 403, 'SignatureDoesNotMatch');
    assert.deepEqual(await driver.listParts(key, otherId), []);
    const otherKey = newKey();
    await assertPartRefused(upload(), () => put(url.replace(encodeURI(key), encodeURI(otherKey)), part), 403, 'SignatureDoesNotMatch');
    assert.equal(await driver.head('staging', otherKey), null);
  });

  it('an unknown upload id (validly signed): 404 NoSuchUpload; the public bucket and an unsigned length: 403 AccessDenied', async () => {
    for (const unknown of ['AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'abc', '..']) {
      const { url } = signPart(key, unknown, 2, part);
      await assertPartRefused(upload(), () => put(url, part), 404, 'NoSuchUpload');
    }
    const publicUrl = presignUrl({
      method: 'PUT', url: `${objectUrl(base, 'public', key, true)}?partNumber=2&uploadId=${uploadId}`, expiresIn: 60,
      headers: { 'content-length': String(part.length) }, credentials, region: 'local',
    });
    await assertPartRefused(upload(), () => put(publicUrl, part), 403, 'AccessDenied');
    const unsignedLength = presignUrl({
      method: 'PUT', url: `${objectUrl(base, 'staging', key, true)}?partNumber=2&uploadId=${uploadId}`, expiresIn: 60, credentials, region: 'local',
    });
    await assertPartRefused(upload(), () => put(unsignedLength, part), 403, 'AccessDenied');
  });

  it('the other multipart requests go through the API, not the endpoint: 400 InvalidRequest, even signed', async () => {
    const target = `${objectUrl(base, 'staging', key, true)}`;
    const sign = (method: string, query: string) => presignUrl({ method, url: `${target}?${query}`, expiresIn: 60, credentials, region: 'local' });
    const requests: [string, string][] = [
      ['POST', 'uploads'],
      ['GET', `uploadId=${uploadId}`],
      ['POST', `uploadId=${uploadId}`],
      ['DELETE', `uploadId=${uploadId}`],
      ['PUT', `uploads&partNumber=2&uploadId=${uploadId}`],
    ];
    for (const [method, query] of requests) {
      await assertPartRefused(upload(), () => fetch(sign(method, query), { method }), 400, 'InvalidRequest');
    }
  });
});

describe('complete refused as S3 refuses it, assembling nothing', () => {
  it('a missing part, a wrong ETag, a too small part before the last, parts out of order or twice, no parts', async () => {
    const key = newKey();
    const uploadId = await driver.createMultipart(key, 'application/octet-stream');
    const parts = [bytes(2048, 1), bytes(2048, 2), bytes(100, 3), bytes(50, 4)];
    const etags: string[] = [];
    for (const [index, part] of parts.entries()) etags.push(await uploadPart(key, uploadId, index + 1, part));
    const listed = (...numbers: number[]) => numbers.map((partNumber) => ({ partNumber, etag: etags[partNumber - 1]! }));
    const upload = { key, uploadId };

    await assertCompleteRefused(upload, [...listed(1, 2), { partNumber: 7, etag: etags[2]! }], InvalidPartsError, /InvalidPart\b/);
    await assertCompleteRefused(upload, [...listed(1), { partNumber: 2, etag: etags[0]! }], InvalidPartsError, /InvalidPart\b/);
    await assertCompleteRefused(upload, listed(1, 3, 4), InvalidPartsError, /EntityTooSmall/);
    await assertCompleteRefused(upload, listed(2, 1, 3), InvalidPartsError, /InvalidPartOrder/);
    await assertCompleteRefused(upload, listed(1, 1, 3), InvalidPartsError, /InvalidPartOrder/);
    await assertCompleteRefused(upload, [], InvalidPartsError);
    // Unquoted ETags name the same parts (S3 takes both).
    await driver.completeMultipart(key, uploadId, listed(1, 2, 3).map(({ partNumber, etag }) => ({ partNumber, etag: etag.slice(1, -1) })));
    assert.deepEqual(await readFile(objectFile('staging', key)), Buffer.concat(parts.slice(0, 3)));
  });

  it('an unknown, aborted or completed upload id: ObjectMissingError', async () => {
    const key = newKey();
    const part = bytes(100);
    await assertCompleteRefused({ key, uploadId: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, [{ partNumber: 1, etag: md5Etag(part) }], ObjectMissingError);
    await assertCompleteRefused({ key, uploadId: '../x' }, [{ partNumber: 1, etag: md5Etag(part) }], ObjectMissingError);
    const aborted = await driver.createMultipart(key, 'application/octet-stream');
    await uploadPart(key, aborted, 1, part);
    await driver.abortMultipart(key, aborted);
    await assertCompleteRefused({ key, uploadId: aborted }, [{ partNumber: 1, etag: md5Etag(part) }], ObjectMissingError);

    const completed = await driver.createMultipart(key, 'application/octet-stream');
    await uploadPart(key, completed, 1, part);
    await driver.completeMultipart(key, completed, [{ partNumber: 1, etag: md5Etag(part) }]);
    await assert.rejects(driver.completeMultipart(key, completed, [{ partNumber: 1, etag: md5Etag(part) }]), ObjectMissingError);
  });
});

/** Changes the upload's manifest as a crash or a forger could have left it. */
async function rewriteManifest(uploadId: string, change: (manifest: Record<string, unknown>) => void): Promise<void> {
  const file = join(uploadDir(uploadId), 'upload.json');
  const manifest = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  change(manifest);
  await writeFile(file, JSON.stringify(manifest));
}

/** Appends raw text to the upload's parts log (the driver's on-disk format: a JSON record per line). */
async function appendToPartsLog(uploadId: string, text: string): Promise<void> {
  await appendFile(join(uploadDir(uploadId), 'parts.log'), text);
}

describe('uploads at the limits (state forged: no test writes terabytes)', () => {
  it('a part whose slot lies past 5 TiB is kept in a file of its own, and completes', async () => {
    const key = newKey();
    const uploadId = await driver.createMultipart(key, 'application/octet-stream');
    // As if a 5 GiB part had been sent: part 10000's slot would start at ~48.8 TiB, past what ext4 can hold.
    await rewriteManifest(uploadId, (manifest) => (manifest.stride = 5 * 1024 ** 3));
    const part = bytes(3000, 2);
    const etag = await uploadPart(key, uploadId, 10_000, part);
    await driver.completeMultipart(key, uploadId, [{ partNumber: 10_000, etag }]);
    assert.deepEqual(await readFile(objectFile('staging', key)), part);
  });

  it('refuses parts that add up to more than 5 TiB, the largest object', async () => {
    const key = newKey();
    const uploadId = await driver.createMultipart(key, 'application/octet-stream');
    const etags = [await uploadPart(key, uploadId, 1, bytes(2048, 1)), await uploadPart(key, uploadId, 2, bytes(2048, 2))];
    for (const [index, etag] of etags.entries()) {
      const held = { size: 3 * 1024 ** 4, md5: etag.slice(1, -1), file: 'data-2048', offset: index * 2048 };
      await appendToPartsLog(uploadId, `\n${JSON.stringify({ part: index + 1, held })}`);
    }
    await assertCompleteRefused({ key, uploadId }, etags.map((etag, index) => ({ partNumber: index + 1, etag })), InvalidPartsError, /EntityTooLarge/);
  });
});

describe('crashes and the sweep', () => {
  /** Builds an upload with two parts, ready to complete. */
  async function readyUpload(): Promise<{ key: string; uploadId: string; listed: { partNumber: number; etag: string }[]; whole: Buffer }> {
    const key = newKey();
    const uploadId = await driver.createMultipart(key, 'image/png');
    const parts = [bytes(2048, 1), bytes(99, 2)];
    const listed = [];
    for (const [index, part] of parts.entries()) listed.push({ partNumber: index + 1, etag: await uploadPart(key, uploadId, index + 1, part) });
    return { key, uploadId, listed, whole: Buffer.concat(parts) };
  }

  it('a record of the parts log torn by a crash is skipped: the part keeps its previous state, later records count', async () => {
    const { key, uploadId, listed, whole } = await readyUpload();
    const held = await driver.listParts(key, uploadId);
    await appendToPartsLog(uploadId, '\n{"part":1,"held":nu'); // a crash in the middle of writing "part 1 is not held"
    assert.deepEqual(await driver.listParts(key, uploadId), held);
    // The next record must not be lost to the torn line: a re-send of part 1 that fails after writing its
    // bytes leaves part 1 not held (else its old ETag would name the new bytes).
    const other = bytes(2048, 8);
    const badMd5 = signPart(key, uploadId, 1, other, { md5: md5(bytes(2048, 9)).toString('base64') });
    assert.deepEqual(await s3Error(await put(badMd5.url, other, badMd5.headers)), { status: 400, code: 'BadDigest' });
    assert.deepEqual((await driver.listParts(key, uploadId))?.map((part) => part.partNumber), [2]);
    await uploadPart(key, uploadId, 1, whole.subarray(0, 2048));
    const third = bytes(10, 3);
    await uploadPart(key, uploadId, 2, bytes(2048, 4)); // the last part becomes a middle one
    const etag = await uploadPart(key, uploadId, 3, third);
    assert.equal((await driver.listParts(key, uploadId))?.length, 3, 'records after the torn one are read');
    await driver.completeMultipart(key, uploadId, [listed[0]!, { partNumber: 2, etag: md5Etag(bytes(2048, 4)) }, { partNumber: 3, etag }]);
    assert.deepEqual(await readFile(objectFile('staging', key)), Buffer.concat([whole.subarray(0, 2048), bytes(2048, 4), third]));
  });

  it('a complete that fails after cutting the file leaves the upload completable, without the parts it cut off', async () => {
    const blocker = newKey();
    const blocked = await driver.createMultipart(blocker, 'application/octet-stream'); // an upload is no object yet
    const key = `${blocker}/child`;
    const uploadId = await driver.createMultipart(key, 'application/octet-stream');
    const parts = [bytes(2048, 1), bytes(2048, 2), bytes(2048, 3)];
    const etags = [];
    for (const [index, part] of parts.entries()) etags.push(await uploadPart(key, uploadId, index + 1, part));
    const first = await uploadPart(blocker, blocked, 1, bytes(50, 4));
    await driver.completeMultipart(blocker, blocked, [{ partNumber: 1, etag: first }]);
    // An object at `blocker` leaves no room for `blocker/child`: placing it fails after the file was cut to two parts.
    const listed = etags.slice(0, 2).map((etag, index) => ({ partNumber: index + 1, etag }));
    await assert.rejects(driver.completeMultipart(key, uploadId, listed), { code: 'KeyConflict' });
    assert.deepEqual((await driver.listParts(key, uploadId))?.map((part) => part.partNumber), [1, 2], 'part 3 was cut off: no longer held');
    await driver.delete('staging', blocker);
    await driver.completeMultipart(key, uploadId, listed);
    assert.deepEqual(await readFile(objectFile('staging', key)), Buffer.concat(parts.slice(0, 2)));
  });

  it('a crash after complete recorded its file, before placing it: the upload is still there and completes', async () => {
    const { key, uploadId, listed, whole } = await readyUpload();
    const [file] = await dataFiles(uploadId);
    await rewriteManifest(uploadId, (manifest) => (manifest.assembling = file));
    assert.equal((await driver.listParts(key, uploadId))?.length, 2);
    await driver.completeMultipart(key, uploadId, listed);
    assert.deepEqual(await readFile(objectFile('staging', key)), whole);
  });

  it('a crash after the object was placed, before the upload was removed: the upload no longer exists, and the sweep removes it', async () => {
    const { key, uploadId, listed } = await readyUpload();
    const [file] = await dataFiles(uploadId);
    await rewriteManifest(uploadId, (manifest) => (manifest.assembling = file));
    await rm(join(uploadDir(uploadId), file!)); // what placing it did (renamed it away)
    assert.equal(await driver.listParts(key, uploadId), null);
    await assertPartRefused({ key, uploadId }, () => sendPart(key, uploadId, 3, bytes(10)), 404, 'NoSuchUpload');
    await assert.rejects(driver.completeMultipart(key, uploadId, listed), ObjectMissingError);

    createDiskDriver({ dataDir, baseUrl: base, secret: SECRET }); // a restart: its start-up sweep
    await eventually('the sweep removed the leftovers', () => stat(uploadDir(uploadId)).then(() => false, () => true));
  });

  it('the start-up sweep removes uploads idle for more than 7 days, and keeps the others', async () => {
    const idle = await readyUpload();
    const active = await readyUpload();
    const eightDaysAgo = new Date(Date.now() - 8 * 24 * 3600_000);
    await utimes(uploadDir(idle.uploadId), eightDaysAgo, eightDaysAgo);
    createDiskDriver({ dataDir, baseUrl: base, secret: SECRET });
    await eventually('the idle upload was removed', () => stat(uploadDir(idle.uploadId)).then(() => false, () => true));
    assert.equal((await driver.listParts(active.key, active.uploadId))?.length, 2);
    assert.equal(await driver.listParts(idle.key, idle.uploadId), null);
  });
});

describe('a ~1.1 GiB upload in 3 parts', () => {
  const PART = 512 * MiB;
  const SIZE = 2 * PART + 100 * MiB;
  // Distinct bytes at the start, around both part boundaries and at the end; zeros (holes) between.
  const marks = [0, PART - 16, PART, 2 * PART - 16, 2 * PART, SIZE - 16];
  let source: string;

  before(async () => {
    source = join(dataDir, 'sparse-source.bin');
    const handle = await open(source, 'w');
    await handle.truncate(SIZE);
    for (const [index, position] of marks.entries()) await handle.write(bytes(16, index + 1), 0, 16, position);
    await handle.close();
  });

  /** MD5 of bytes `start..end` (exclusive) of the source, streamed. */
  async function md5Of(start: number, end: number): Promise<Buffer> {
    const hash = createHash('md5');
    for await (const chunk of createReadStream(source, { start, end: end - 1, highWaterMark: 4 * MiB })) hash.update(chunk as Buffer);
    return hash.digest();
  }

  /** PUTs bytes `start..end` of `file` as part `partNumber`, streamed from disk with node:http. */
  async function streamPart(key: string, uploadId: string, partNumber: number, file: string, start: number, end: number): Promise<string> {
    const { url } = driver.presignPart({ key, uploadId, partNumber, contentLength: end - start, expiresIn: 600 });
    const req = httpRequest(url, { method: 'PUT', headers: { 'content-length': String(end - start) } });
    const answered = new Promise<IncomingMessage>((resolve, reject) => {
      req.on('response', resolve);
      req.on('error', reject);
    });
    createReadStream(file, { start, end: end - 1, highWaterMark: MiB }).pipe(req);
    const response = await answered;
    response.resume();
    assert.equal(response.statusCode, 200);
    return String(response.headers.etag);
  }

  /** Uploads `file` in parts of `partSize` (parts 1 and 2 together, then the rest), to be completed. */
  async function uploadFile(file: string, size: number, partSize: number) {
    const key = newKey();
    const uploadId = await driver.createMultipart(key, 'application/zip');
    const ranges = Array.from({ length: Math.ceil(size / partSize) }, (_, index) => [index * partSize, Math.min(size, (index + 1) * partSize)] as const);
    const send = (index: number) => streamPart(key, uploadId, index + 1, file, ...ranges[index]!);
    const etags = await Promise.all([send(0), send(1)]);
    for (let index = 2; index < ranges.length; index++) etags.push(await send(index));
    const [dataFile] = await dataFiles(uploadId);
    const inode = (await stat(join(uploadDir(uploadId), dataFile!))).ino;
    return { key, uploadId, ranges, listed: etags.map((etag, index) => ({ partNumber: index + 1, etag })), inode };
  }

  /** Completes, returning the time it took and the bytes the process wrote meanwhile. */
  async function timedComplete(upload: Awaited<ReturnType<typeof uploadFile>>): Promise<{ ms: number; written: number }> {
    const before = await writtenBytes();
    const started = performance.now();
    await driver.completeMultipart(upload.key, upload.uploadId, upload.listed);
    const ms = performance.now() - started;
    return { ms, written: (await writtenBytes()) - before };
  }

  it('streams in and completes without copying: the object is the file written, and complete writes no part of it', async (t) => {
    const small = join(dataDir, 'small-source.bin');
    await writeFile(small, bytes(15 * MiB, 5));
    const smallUpload = await uploadFile(small, 15 * MiB, 5 * MiB);
    const bigUpload = await uploadFile(source, SIZE, PART);
    const rssAfterUploads = process.memoryUsage().rss;

    const smallComplete = await timedComplete(smallUpload);
    const bigComplete = await timedComplete(bigUpload);
    t.diagnostic(`complete: 15 MB in 3 parts ${smallComplete.ms.toFixed(1)} ms (${smallComplete.written} bytes written); `
      + `${(SIZE / 1024 ** 3).toFixed(2)} GiB in 3 parts ${bigComplete.ms.toFixed(1)} ms (${bigComplete.written} bytes written); `
      + `rss after the uploads ${(rssAfterUploads / MiB).toFixed(0)} MiB`);

    for (const [upload, complete] of [[smallUpload, smallComplete], [bigUpload, bigComplete]] as const) {
      assert.equal((await stat(objectFile('staging', upload.key))).ino, upload.inode, 'the object is the file the parts were written into');
      assert.ok(complete.written < 64 * 1024, `complete wrote ${complete.written} bytes: it copied part of the object`);
    }
    assert.ok(rssAfterUploads < 1024 ** 3, 'the parts were streamed, not held in memory');

    const partMd5s = await Promise.all(bigUpload.ranges.map(([start, end]) => md5Of(start, end)));
    assert.deepEqual(bigUpload.listed.map(({ etag }) => etag), partMd5s.map((digest) => `"${digest.toString('hex')}"`));
    assert.deepEqual(await driver.head('staging', bigUpload.key), { size: SIZE, contentType: 'application/zip', etag: compositeEtag(partMd5s) });
    const object = await open(objectFile('staging', bigUpload.key), 'r');
    try {
      for (const [index, position] of marks.entries()) {
        const found = Buffer.alloc(16);
        await object.read(found, 0, 16, position);
        assert.deepEqual(found, bytes(16, index + 1), `bytes at ${position}`);
      }
    } finally {
      await object.close();
    }
    assert.deepEqual(await readFile(objectFile('staging', smallUpload.key)), bytes(15 * MiB, 5));
    await driver.delete('staging', bigUpload.key);
  });
});
