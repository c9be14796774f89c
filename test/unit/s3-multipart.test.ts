/**
 * Multipart uploads and copies in parts on the s3 driver, against a real Ceph RGW (scripts/rgw/start.sh).
 * Parts travel through presigned part URLs with plain fetch, and every refusal asserted here is RGW's own
 * (its status and S3 code), with nothing assembled.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ListMultipartUploadsCommand, ListPartsCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { InvalidPartsError, ObjectChangedError, ObjectMissingError } from '../../packages/server/src/storage/errors.ts';
import { createS3Client, createS3Driver } from '../../packages/server/src/storage/s3-driver.ts';
import type { Bucket, CopyOptions } from '../../packages/server/src/storage/types.ts';
import { rgwAdminConfig, rgwConfig } from '../support/rgw-env.ts';

const config = rgwConfig();
const driver = createS3Driver(config);
const client = createS3Client(config);
/** The buckets' owner, to look into storage: the API's credential may not list multipart uploads. */
const owner = createS3Client(rgwAdminConfig());
const run = `s3-multipart-test/${randomUUID()}`;
/** Keys with spaces, unicode and characters SigV4 encodes specially. */
const key = (name: string): string => `${run}/${name} ünïcødé 😀 (1)+[x].bin`;

const MiB = 1024 ** 2;
const PART = 5 * MiB; // S3's smallest part but the last

const uploads: { key: string; uploadId: string }[] = [];
const written: { bucket: Bucket; key: string }[] = [];
after(async () => {
  await Promise.all(uploads.map(({ key, uploadId }) => driver.abortMultipart(key, uploadId)));
  await Promise.all(written.map(({ bucket, key }) => driver.delete(bucket, key)));
  client.destroy();
  owner.destroy();
});

const md5 = (bytes: Uint8Array): Buffer => createHash('md5').update(bytes).digest();
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const concat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));
/** S3's multipart ETag: the MD5 of the parts' binary MD5s, then the number of parts. */
const compositeEtag = (parts: Uint8Array[]): string => `"${md5(Buffer.concat(parts.map(md5))).toString('hex')}-${parts.length}"`;

async function createUpload(name: string, contentType = 'application/octet-stream'): Promise<{ key: string; uploadId: string }> {
  const k = key(name);
  const uploadId = await driver.createMultipart(k, contentType);
  uploads.push({ key: k, uploadId });
  written.push({ bucket: 'staging', key: k });
  return { key: k, uploadId };
}

interface SendOptions {
  /** Sign the part's Content-MD5 (default true). */
  md5?: boolean;
  /** Sign for this many bytes instead of the body's length. */
  signedLength?: number;
  /** Sign for these bytes' MD5 instead of the body's. */
  signedMd5Of?: Uint8Array;
  expiresIn?: number;
  /** Alter the signed URL before sending. */
  alter?: (url: string) => string;
}

/** One part through its presigned URL, exactly as a browser sends it. */
async function sendPart(
  upload: { key: string; uploadId: string },
  partNumber: number,
  body: Uint8Array,
  options: SendOptions = {},
): Promise<Response> {
  const signed = await driver.presignPart({
    key: upload.key,
    uploadId: upload.uploadId,
    partNumber,
    contentLength: options.signedLength ?? body.length,
    ...(options.md5 !== false && { contentMd5: md5(options.signedMd5Of ?? body).toString('base64') }),
    expiresIn: options.expiresIn ?? 60,
  });
  const url = options.alter ? options.alter(signed.url) : signed.url;
  return fetch(url, { method: signed.method, headers: signed.headers, body: new Uint8Array(body) });
}

/** Sends a part that storage must accept; returns its ETag. */
async function putPart(upload: { key: string; uploadId: string }, partNumber: number, body: Uint8Array): Promise<string> {
  const response = await sendPart(upload, partNumber, body);
  assert.equal(response.status, 200, await response.text());
  const etag = response.headers.get('etag');
  assert.equal(etag, `"${md5(body).toString('hex')}"`, 'a part ETag is the MD5 of its bytes');
  return etag;
}

/** Status and S3 error code of a refused request. */
async function refusal(response: Response): Promise<[number, string | undefined]> {
  return [response.status, /<Code>([^<]+)<\/Code>/.exec(await response.text())?.[1]];
}

/** An assert.rejects check: the driver's error, caused by storage answering this status and S3 code. */
function refusedAs(type: new (...args: never[]) => Error, status: number, code: string) {
  return (error: unknown): true => {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    assert.ok(error.cause instanceof S3ServiceException, 'caused by storage answer');
    assert.deepEqual([error.cause.$metadata.httpStatusCode, error.cause.name], [status, code]);
    return true;
  };
}

async function download(bucket: Bucket, k: string): Promise<Uint8Array> {
  const response = await fetch(await driver.presignGet(bucket, k, { expiresIn: 60 }));
  assert.equal(response.status, 200);
  return new Uint8Array(await response.arrayBuffer());
}

describe('multipart upload through presigned part URLs', () => {
  test('three parts land byte-identical, with the composite ETag and the upload type', async () => {
    const upload = await createUpload('three-parts', 'video/mp4');
    const parts = [randomBytes(PART), randomBytes(PART + 1), randomBytes(1000)];
    // Sent together and in any order, as a browser's parallel parts arrive.
    const etags = await Promise.all([2, 0, 1].map(async (i) => [i, await putPart(upload, i + 1, parts[i]!)] as const));
    const sent = etags.sort(([a], [b]) => a - b).map(([i, etag]) => ({ partNumber: i + 1, etag }));

    assert.deepEqual(await driver.listParts(upload.key, upload.uploadId), sent.map(({ partNumber, etag }) => ({
      partNumber, etag, size: parts[partNumber - 1]!.length,
    })));
    await driver.completeMultipart(upload.key, upload.uploadId, sent);

    const head = await driver.head('staging', upload.key);
    assert.deepEqual(head, { size: 2 * PART + 1 + 1000, contentType: 'video/mp4', etag: compositeEtag(parts) });
    assert.equal(sha256(await download('staging', upload.key)), sha256(concat(...parts)));
    assert.equal(await driver.listParts(upload.key, upload.uploadId), null, 'a completed upload is gone');

    // Completing again (a retried request) succeeds on RGW 16 when it names the same parts; other parts
    // find no upload (RGW answers 500 InternalError "already in progress" for it).
    await driver.completeMultipart(upload.key, upload.uploadId, sent);
    await assert.rejects(driver.completeMultipart(upload.key, upload.uploadId, sent.slice(0, 2)), refusedAs(ObjectMissingError, 500, 'InternalError'));
    assert.deepEqual(await driver.head('staging', upload.key), head, 'the object is as first assembled');
  });

  test('listParts pages through more than 1,000 parts', async () => {
    const upload = await createUpload('many-parts');
    const count = 1001;
    let next = 1;
    await Promise.all(Array.from({ length: 16 }, async () => {
      for (let n = next++; n <= count; n = next++) {
        const response = await sendPart(upload, n, Uint8Array.of(n % 256), { md5: false });
        assert.equal(response.status, 200, await response.text());
      }
    }));
    const firstPage = await client.send(new ListPartsCommand({ Bucket: config.buckets.staging, Key: upload.key, UploadId: upload.uploadId }));
    assert.equal(firstPage.Parts?.length, 1000, 'RGW answers 1,000 parts a page');
    assert.equal(firstPage.IsTruncated, true);

    const parts = await driver.listParts(upload.key, upload.uploadId);
    assert.deepEqual(parts?.map((p) => p.partNumber), Array.from({ length: count }, (_, i) => i + 1));
    assert.deepEqual(parts?.at(-1), { partNumber: count, size: 1, etag: `"${md5(Uint8Array.of(count % 256)).toString('hex')}"` });
    await driver.abortMultipart(upload.key, upload.uploadId);
    assert.equal(await driver.listParts(upload.key, upload.uploadId), null);
  });

  test('a part sent again replaces the earlier one', async () => {
    const upload = await createUpload('resent');
    const first = randomBytes(PART);
    const before = randomBytes(300);
    const again = randomBytes(200);
    const etag1 = await putPart(upload, 1, first);
    const stale = await putPart(upload, 2, before);
    const fresh = await putPart(upload, 2, again);
    assert.deepEqual(await driver.listParts(upload.key, upload.uploadId), [
      { partNumber: 1, size: PART, etag: etag1 },
      { partNumber: 2, size: 200, etag: fresh },
    ]);
    await assert.rejects(
      driver.completeMultipart(upload.key, upload.uploadId, [{ partNumber: 1, etag: etag1 }, { partNumber: 2, etag: stale }]),
      refusedAs(InvalidPartsError, 400, 'InvalidPart'),
    );
    await driver.completeMultipart(upload.key, upload.uploadId, [{ partNumber: 1, etag: etag1 }, { partNumber: 2, etag: fresh }]);
    assert.equal(sha256(await download('staging', upload.key)), sha256(concat(first, again)));
  });
});

describe('RGW refuses part requests other than the signed ones', () => {
  test('another length, other bytes than the signed MD5, a tampered or expired URL, another part or upload', async () => {
    const upload = await createUpload('refused-parts');
    const other = await createUpload('refused-parts-other');
    const first = randomBytes(PART);
    const etag1 = await putPart(upload, 1, first);
    const body = randomBytes(1000);
    const expiring = await driver.presignPart({
      key: upload.key, uploadId: upload.uploadId, partNumber: 2, contentLength: body.length, contentMd5: md5(body).toString('base64'), expiresIn: 1,
    });
    const flipSignature = (url: string): string => url.replace(/X-Amz-Signature=(.)/, (_, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`);

    const cases: [string, () => Promise<Response>, number, string][] = [
      ['a longer body than signed', () => sendPart(upload, 2, randomBytes(1001), { signedLength: 1000, md5: false }), 403, 'SignatureDoesNotMatch'],
      ['a shorter body than signed', () => sendPart(upload, 2, randomBytes(999), { signedLength: 1000, md5: false }), 403, 'SignatureDoesNotMatch'],
      ['bytes other than the signed Content-MD5', () => sendPart(upload, 2, body, { signedMd5Of: randomBytes(1000) }), 400, 'BadDigest'],
      ['a tampered signature', () => sendPart(upload, 2, body, { alter: flipSignature }), 403, 'SignatureDoesNotMatch'],
      ['the URL of part 2 sent as part 3', () => sendPart(upload, 2, body, { alter: (url) => url.replace('partNumber=2', 'partNumber=3') }), 403, 'SignatureDoesNotMatch'],
      ['the URL of one upload sent to another', () => sendPart(upload, 2, body, { alter: (url) => url.replace(upload.uploadId, other.uploadId) }), 403, 'SignatureDoesNotMatch'],
    ];
    for (const [what, send, status, code] of cases) assert.deepEqual(await refusal(await send()), [status, code], what);

    await sleep(2100); // past the 1 s expiry
    const late = await fetch(expiring.url, { method: expiring.method, headers: expiring.headers, body: new Uint8Array(body) });
    assert.deepEqual(await refusal(late), [403, 'AccessDenied'], 'an expired URL');

    assert.deepEqual(await driver.listParts(upload.key, upload.uploadId), [{ partNumber: 1, size: PART, etag: etag1 }], 'no refused part stored');
    assert.deepEqual(await driver.listParts(other.key, other.uploadId), []);
    assert.equal(await driver.head('staging', upload.key), null, 'nothing assembled');
  });

  test('parts after an abort find no upload (404 NoSuchUpload); abort is idempotent', async () => {
    const upload = await createUpload('aborted');
    await putPart(upload, 1, randomBytes(100));
    await driver.abortMultipart(upload.key, upload.uploadId);
    assert.deepEqual(await refusal(await sendPart(upload, 2, randomBytes(100))), [404, 'NoSuchUpload']);
    assert.equal(await driver.listParts(upload.key, upload.uploadId), null);
    await driver.abortMultipart(upload.key, upload.uploadId);
    assert.equal(await driver.head('staging', upload.key), null);
  });
});

describe('completion is refused unless it names the stored parts', () => {
  test('a missing part, a wrong ETag, a too-small middle part, parts out of order, some parts left out; then the right list completes', async () => {
    const upload = await createUpload('complete-refused', 'application/zip');
    const parts = [randomBytes(PART), randomBytes(100), randomBytes(PART)];
    const etags = await Promise.all(parts.map((bytes, i) => putPart(upload, i + 1, bytes)));
    const named = (...numbers: number[]): { partNumber: number; etag: string }[] => numbers.map((n) => ({ partNumber: n, etag: etags[n - 1]! }));
    const complete = (list: { partNumber: number; etag: string }[]): Promise<void> => driver.completeMultipart(upload.key, upload.uploadId, list);

    await assert.rejects(complete([...named(1), { partNumber: 4, etag: etags[1]! }]), refusedAs(InvalidPartsError, 400, 'InvalidPart'), 'a part never sent');
    await assert.rejects(complete([...named(1), { partNumber: 3, etag: etags[0]! }]), refusedAs(InvalidPartsError, 400, 'InvalidPart'), 'another ETag');
    await assert.rejects(complete(named(1, 2, 3)), refusedAs(InvalidPartsError, 400, 'EntityTooSmall'), 'a 100-byte middle part');
    // S3 assembles any subset of the stored parts; RGW 16 only all of them (it walks both lists in step).
    await assert.rejects(complete(named(1, 3)), refusedAs(InvalidPartsError, 400, 'InvalidPart'), 'a stored part left out');
    assert.equal(await driver.head('staging', upload.key), null, 'nothing assembled');

    // The upload is intact after the refusals: a full-size part 2 sent again completes it.
    parts[1] = randomBytes(PART);
    etags[1] = await putPart(upload, 2, parts[1]);
    // S3 refuses these (InvalidPartOrder; MalformedXML for none). RGW 16 sorts parts and keeps the last of a pair,
    // and would assemble them: the driver refuses them itself.
    for (const list of [named(2, 1, 3), named(1, 2, 2, 3), []]) await assert.rejects(complete(list), InvalidPartsError, JSON.stringify(list));
    assert.equal(await driver.head('staging', upload.key), null, 'nothing assembled');
    await complete(named(1, 2, 3));
    assert.equal(sha256(await download('staging', upload.key)), sha256(concat(...parts)));
    assert.equal((await driver.head('staging', upload.key))?.etag, compositeEtag(parts));
  });

  test('completing an aborted upload is ObjectMissingError (RGW answers 500 InternalError)', async () => {
    const upload = await createUpload('complete-aborted');
    const etag = await putPart(upload, 1, randomBytes(100));
    await driver.abortMultipart(upload.key, upload.uploadId);
    await assert.rejects(
      driver.completeMultipart(upload.key, upload.uploadId, [{ partNumber: 1, etag }]),
      refusedAs(ObjectMissingError, 500, 'InternalError'),
    );
    assert.equal(await driver.head('staging', upload.key), null);
  });
});

// ---------------------------------------------------------------------------------------------------

const THRESHOLD = 6 * MiB;
const SIZE = 12 * MiB + 12_345; // parts of 6 MiB, 6 MiB and 12,345 bytes

/** Stages `bytes` with a presigned PUT; returns the PUT so a test can overwrite the object as its uploader could. */
async function stage(name: string, bytes: Uint8Array): Promise<{ key: string; etag: string; overwrite(with_: Uint8Array): Promise<void> }> {
  const k = key(name);
  const put = await driver.presignPut({ key: k, contentType: 'application/octet-stream', contentLength: bytes.length, expiresIn: 600 });
  const overwrite = async (with_: Uint8Array): Promise<void> => {
    const response = await fetch(put.url, { method: put.method, headers: put.headers, body: new Uint8Array(with_) });
    assert.equal(response.status, 200, await response.text());
  };
  await overwrite(bytes);
  written.push({ bucket: 'staging', key: k });
  return { key: k, etag: (await driver.head('staging', k))!.etag!, overwrite };
}

const PUBLIC_OPTIONS: CopyOptions = {
  contentType: 'image/png',
  cacheControl: 'public, max-age=31536000, immutable',
  contentDisposition: `inline; filename="photo.png"; filename*=UTF-8''ph%C3%B6to.png`,
};

async function leftoverUploads(bucket: Bucket, k: string): Promise<number> {
  const answer = await owner.send(new ListMultipartUploadsCommand({ Bucket: config.buckets[bucket], Prefix: k }));
  return answer.Uploads?.length ?? 0;
}

/** Asserts that a refused copy left nothing at the target: no object, no multipart upload. */
async function assertNothingAt(k: string): Promise<void> {
  assert.equal(await driver.head('public', k), null, 'no object at the target');
  assert.equal(await leftoverUploads('public', k), 0, 'no multipart upload left on the target');
}

/**
 * An HTTP proxy in front of RGW that runs `onPartCopy` hooks before and after it relays each
 * UploadPartCopy, so a test can change the source at an exact point of a copy. Requests are relayed
 * unchanged (Host included), so their signatures stay valid.
 */
async function partCopyProxy(hooks: { before?(partNumber: number): Promise<void>; after?(partNumber: number): Promise<void> }) {
  const upstream = new URL(config.endpoint);
  const failures: unknown[] = [];
  const server = createServer(async (incoming, outgoing) => {
    try {
      const partNumber = incoming.headers['x-amz-copy-source'] ? Number(new URL(incoming.url!, upstream).searchParams.get('partNumber')) : 0;
      if (partNumber) await hooks.before?.(partNumber);
      const body = Buffer.concat(await incoming.toArray());
      const answer = await new Promise<IncomingMessage>((resolve, reject) => {
        const relay = request({ host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers: incoming.headers }, resolve);
        relay.on('error', reject).end(body);
      });
      const answerBody = Buffer.concat(await answer.toArray());
      if (partNumber) await hooks.after?.(partNumber);
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers).end(answerBody);
    } catch (error) {
      failures.push(error);
      outgoing.destroy();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    driver: createS3Driver({ ...config, endpoint, partCopyThreshold: THRESHOLD }),
    async close(): Promise<void> {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      assert.deepEqual(failures, [], 'the proxy relayed every request');
    },
  };
}

describe('copy in parts (UploadPartCopy) above partCopyThreshold', () => {
  const partCopier = createS3Driver({ ...config, partCopyThreshold: THRESHOLD });

  /** Copies the verified source in parts through a proxy that runs `hooks` around each part copy; the copy must fail with `error`. */
  async function assertCopyRefused(source: { key: string; etag: string }, target: string, hooks: Parameters<typeof partCopyProxy>[0], error: new (...args: never[]) => Error) {
    const proxy = await partCopyProxy(hooks);
    try {
      await assert.rejects(
        proxy.driver.copy({ bucket: 'staging', key: source.key }, { bucket: 'public', key: target }, { ...PUBLIC_OPTIONS, ifMatch: source.etag, size: SIZE }),
        error,
      );
    } finally {
      await proxy.close();
    }
  }

  test('promotes byte-identical with the new metadata, served anonymously from the public bucket', async () => {
    const bytes = randomBytes(SIZE);
    const source = await stage('part-copy', bytes);
    const target = key('part-copied');
    written.push({ bucket: 'public', key: target });
    await partCopier.copy({ bucket: 'staging', key: source.key }, { bucket: 'public', key: target }, { ...PUBLIC_OPTIONS, ifMatch: source.etag, size: SIZE });

    const response = await fetch(driver.publicUrl(target));
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), PUBLIC_OPTIONS.contentType);
    assert.equal(response.headers.get('cache-control'), PUBLIC_OPTIONS.cacheControl);
    assert.equal(response.headers.get('content-disposition'), PUBLIC_OPTIONS.contentDisposition);
    assert.equal(sha256(new Uint8Array(await response.arrayBuffer())), sha256(bytes));
    const parts = [bytes.subarray(0, THRESHOLD), bytes.subarray(THRESHOLD, 2 * THRESHOLD), bytes.subarray(2 * THRESHOLD)];
    assert.equal((await driver.head('public', target))?.etag, compositeEtag(parts), 'copied as three parts');
    assert.equal(await leftoverUploads('public', target), 0);
  });

  test('copies at or below the threshold, or of an unknown size, stay one CopyObject', async () => {
    const bytes = randomBytes(SIZE);
    const source = await stage('single-copy', bytes);
    for (const size of [undefined, THRESHOLD]) {
      const target = key(`single-copied-${size}`);
      written.push({ bucket: 'public', key: target });
      await partCopier.copy({ bucket: 'staging', key: source.key }, { bucket: 'public', key: target }, { ...PUBLIC_OPTIONS, ...(size && { size }) });
      assert.equal((await driver.head('public', target))?.etag, source.etag, 'a plain copy keeps the MD5 ETag');
    }
  });

  test('refuses a source changed after its ETag was taken (ObjectChangedError), leaving nothing at the target', async () => {
    const source = await stage('changed-before', randomBytes(SIZE));
    await source.overwrite(randomBytes(SIZE));
    const target = key('changed-before-target');
    await assert.rejects(
      partCopier.copy({ bucket: 'staging', key: source.key }, { bucket: 'public', key: target }, { ...PUBLIC_OPTIONS, ifMatch: source.etag, size: SIZE }),
      ObjectChangedError,
    );
    await assertNothingAt(target);
  });

  test('refuses a source rewritten during the copy, which RGW itself does not notice', async () => {
    const source = await stage('changed-during', randomBytes(SIZE));
    const target = key('changed-during-target');
    await assertCopyRefused(source, target, { before: async (partNumber) => { if (partNumber === 1) await source.overwrite(randomBytes(SIZE)); } }, ObjectChangedError);
    await assertNothingAt(target);
  });

  test('refuses a source rewritten during the copy and then restored to the verified bytes', async () => {
    const original = randomBytes(SIZE);
    const source = await stage('restored-during', original);
    await sleep(1100); // Last-Modified counts whole seconds: the restored copy must be a later one
    const target = key('restored-during-target');
    await assertCopyRefused(source, target, {
      before: async (partNumber) => { if (partNumber === 1) await source.overwrite(randomBytes(SIZE)); },
      after: async (partNumber) => { if (partNumber === 1) await source.overwrite(original); },
    }, ObjectChangedError);
    assert.equal((await driver.head('staging', source.key))?.etag, source.etag, 'the source has its verified ETag again');
    await assertNothingAt(target);
  });

  test('a source that is missing, or deleted during the copy, is ObjectMissingError, leaving nothing at the target', async () => {
    const target = key('missing-target');
    await assert.rejects(
      partCopier.copy({ bucket: 'staging', key: key('never-staged') }, { bucket: 'public', key: target }, { ...PUBLIC_OPTIONS, size: SIZE }),
      ObjectMissingError,
    );
    await assertNothingAt(target);

    const source = await stage('deleted-during', randomBytes(SIZE));
    await assertCopyRefused(source, target, { before: async (partNumber) => { if (partNumber === 2) await driver.delete('staging', source.key); } }, ObjectMissingError);
    await assertNothingAt(target);
  });
});
