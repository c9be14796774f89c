/**
 * The s3 driver against a real Ceph RGW (scripts/rgw/start.sh): every refusal asserted here is RGW's own
 * enforcement of what the driver signed.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { objectUrl } from '../../packages/server/src/storage/sigv4.ts';
import { DEFAULT_PART_COPY_THRESHOLD, s3ConfigFromEnv } from '../../packages/server/src/storage/s3-config.ts';
import { createS3Driver, StorageUnavailableError } from '../../packages/server/src/storage/s3-driver.ts';
import { ObjectMissingError } from '../../packages/server/src/storage/errors.ts';
import type { PresignedPost } from '../../packages/server/src/storage/types.ts';
import { rgwConfig } from '../support/rgw-env.ts';

const config = rgwConfig();
const driver = createS3Driver(config);
const run = `s3-driver-test/${randomUUID()}`;
/** Keys with spaces, unicode (NFC and an emoji) and characters SigV4 encodes specially. */
const key = (name: string): string => `${run}/${name} ünïcødé 😀 (1)+[x].bin`;

const written: { bucket: 'staging' | 'public' | 'private'; key: string }[] = [];
after(async () => {
  await Promise.all(written.map(({ bucket, key }) => driver.delete(bucket, key)));
});

const bytes = (length: number, seed = 7): Uint8Array<ArrayBuffer> => Uint8Array.from({ length }, (_, i) => (i * 31 + seed) % 256);

/** The S3 error code of an error response body (`<Error><Code>…</Code>`). */
async function s3Code(response: Response): Promise<string | undefined> {
  return /<Code>([^<]+)<\/Code>/.exec(await response.text())?.[1];
}

async function putStaging(name: string, body: Uint8Array<ArrayBuffer>, contentType = 'application/octet-stream'): Promise<string> {
  const k = key(name);
  const put = await driver.presignPut({ key: k, contentType, contentLength: body.length, expiresIn: 60 });
  const response = await fetch(put.url, { method: put.method, headers: put.headers, body });
  assert.equal(response.status, 200, await response.text());
  written.push({ bucket: 'staging', key: k });
  return k;
}

function postForm(post: PresignedPost, file: Uint8Array<ArrayBuffer>, override: Record<string, string> = {}): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries({ ...post.fields, ...override })) form.append(name, value);
  form.append('file', new Blob([file]), 'upload.bin');
  return form;
}

describe('presigned PUT', () => {
  test('a plain fetch with the returned headers lands in staging', async () => {
    const body = bytes(1000);
    const k = await putStaging('put', body, 'image/png');
    const head = await driver.head('staging', k);
    assert.equal(head?.size, 1000);
    assert.equal(head?.contentType, 'image/png');
    assert.match(head?.etag ?? '', /^"[0-9a-f]{32}"$/);
    assert.equal(await driver.head('public', k), null);
  });

  test('storage refuses another length, another type, a tampered signature', async () => {
    const k = key('put-refused');
    const put = await driver.presignPut({ key: k, contentType: 'image/png', contentLength: 100, expiresIn: 60 });
    const attempts: [string, RequestInit][] = [
      ['longer body', { headers: put.headers, body: bytes(101) }],
      ['shorter body', { headers: put.headers, body: bytes(99) }],
      ['other Content-Type', { headers: { 'Content-Type': 'text/html' }, body: bytes(100) }],
    ];
    for (const [what, init] of attempts) {
      const response = await fetch(put.url, { ...init, method: 'PUT' });
      assert.equal(response.status, 403, what);
      assert.equal(await s3Code(response), 'SignatureDoesNotMatch', what);
    }
    const signature = /X-Amz-Signature=([0-9a-f]{64})/.exec(put.url)![1]!;
    const tampered = put.url.replace(signature, (signature[0] === 'a' ? 'b' : 'a') + signature.slice(1));
    const response = await fetch(tampered, { method: 'PUT', headers: put.headers, body: bytes(100) });
    assert.equal(response.status, 403);
    assert.equal(await s3Code(response), 'SignatureDoesNotMatch');
    assert.equal(await driver.head('staging', k), null);
  });

  test('storage refuses the URL once it has expired', async () => {
    const k = key('put-expired');
    const put = await driver.presignPut({ key: k, contentType: 'image/png', contentLength: 10, expiresIn: 1 });
    await sleep(2100);
    const response = await fetch(put.url, { method: 'PUT', headers: put.headers, body: bytes(10) });
    assert.equal(response.status, 403);
    assert.equal(await s3Code(response), 'AccessDenied');
    assert.equal(await driver.head('staging', k), null);
  });
});

describe('presigned POST', () => {
  test('a form within the limit lands in staging with its Content-Type', async () => {
    const k = key('post');
    const post = await driver.presignPost({ key: k, contentType: 'image/jpeg', maxSize: 64, expiresIn: 60 });
    const response = await fetch(post.url, { method: 'POST', body: postForm(post, bytes(64)) });
    assert.equal(response.status, 204, await response.text());
    written.push({ bucket: 'staging', key: k });
    const head = await driver.head('staging', k);
    assert.equal(head?.size, 64);
    assert.equal(head?.contentType, 'image/jpeg');
  });

  test('storage refuses a file over the maximum, an empty file, another type or key', async () => {
    const k = key('post-refused');
    const post = await driver.presignPost({ key: k, contentType: 'image/jpeg', maxSize: 64, expiresIn: 60 });
    const cases: [string, FormData, number, string][] = [
      ['over the maximum', postForm(post, bytes(65)), 400, 'EntityTooLarge'],
      ['empty', postForm(post, new Uint8Array()), 400, 'EntityTooSmall'],
      ['other Content-Type', postForm(post, bytes(10), { 'Content-Type': 'text/html' }), 403, 'AccessDenied'],
      ['other key', postForm(post, bytes(10), { key: `${k}.html` }), 403, 'AccessDenied'],
    ];
    for (const [what, form, status, code] of cases) {
      const response = await fetch(post.url, { method: 'POST', body: form });
      assert.equal(response.status, status, what);
      assert.equal(await s3Code(response), code, what);
    }
    assert.equal(await driver.head('staging', k), null);
    assert.equal(await driver.head('staging', `${k}.html`), null);
  });
});

describe('server-side operations', () => {
  test('head of a missing object is null', async () => {
    assert.equal(await driver.head('staging', key('missing')), null);
  });

  test('readStart reads the first bytes, fewer of a small object, none of an empty one', async () => {
    const body = bytes(300);
    const k = await putStaging('read', body);
    const start = await driver.readStart('staging', k, 16);
    assert.deepEqual(start?.bytes, body.subarray(0, 16));
    assert.deepEqual(start?.head, await driver.head('staging', k), 'size, type and ETag of the whole object');
    assert.deepEqual((await driver.readStart('staging', k, 4100))?.bytes, body);
    const empty = await putStaging('read-empty', new Uint8Array());
    const emptyStart = await driver.readStart('staging', empty, 4100);
    assert.deepEqual(emptyStart?.bytes, new Uint8Array());
    assert.equal(emptyStart?.head.size, 0);
  });

  test('copy replaces the metadata; the public copy is served with it to anyone', async () => {
    const body = bytes(500);
    const from = await putStaging('copy', body, 'application/octet-stream');
    const to = key('copied');
    const options = {
      contentType: 'image/png',
      cacheControl: 'public, max-age=31536000, immutable',
      contentDisposition: `inline; filename="photo.png"; filename*=UTF-8''ph%C3%B6to.png`,
    };
    await driver.copy({ bucket: 'staging', key: from }, { bucket: 'public', key: to }, options);
    await driver.copy({ bucket: 'staging', key: from }, { bucket: 'public', key: to }, options); // idempotent
    written.push({ bucket: 'public', key: to });

    const response = await fetch(driver.publicUrl(to));
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'image/png');
    assert.equal(response.headers.get('cache-control'), options.cacheControl);
    assert.equal(response.headers.get('content-disposition'), options.contentDisposition);
    assert.deepEqual(new Uint8Array(await response.arrayBuffer()), body);
    assert.equal((await driver.head('public', to))?.contentType, 'image/png');
  });

  test('readStart of a missing object is null', async () => {
    assert.equal(await driver.readStart('staging', key('read-missing'), 16), null);
  });

  test('copy of a missing source rejects with ObjectMissingError and writes nothing', async () => {
    const missing = key('copy-missing');
    const to = key('copy-missing-target');
    const copy = (ifMatch?: string): Promise<unknown> =>
      driver.copy({ bucket: 'staging', key: missing }, { bucket: 'public', key: to }, { contentType: 'image/png', ...(ifMatch && { ifMatch }) });
    await assert.rejects(copy(), ObjectMissingError);
    await assert.rejects(copy('"0123456789abcdef0123456789abcdef"'), ObjectMissingError);
    assert.equal(await driver.head('public', to), null);
  });

  test('delete removes the object; deleting a missing one is not an error', async () => {
    const k = await putStaging('delete', bytes(10));
    await driver.delete('staging', k);
    assert.equal(await driver.head('staging', k), null);
    await driver.delete('staging', k);
  });
});

describe('private downloads', () => {
  test('a presigned GET downloads with the asked Content-Disposition; an anonymous GET is refused', async () => {
    const body = bytes(200);
    const from = await putStaging('private-src', body);
    const k = key('private');
    await driver.copy({ bucket: 'staging', key: from }, { bucket: 'private', key: k }, { contentType: 'application/pdf' });
    written.push({ bucket: 'private', key: k });

    const disposition = `attachment; filename="report (final).pdf"; filename*=UTF-8''r%C3%A9port%20(final).pdf`;
    const signed = await fetch(await driver.presignGet('private', k, { expiresIn: 60, contentDisposition: disposition }));
    assert.equal(signed.status, 200);
    assert.equal(signed.headers.get('content-disposition'), disposition);
    assert.equal(signed.headers.get('content-type'), 'application/pdf');
    assert.deepEqual(new Uint8Array(await signed.arrayBuffer()), body);

    const anonymous = await fetch(objectUrl(config.endpoint, config.buckets.private, k, config.forcePathStyle));
    assert.equal(anonymous.status, 403);
    assert.equal(await s3Code(anonymous), 'AccessDenied');
  });
});

describe('bucket CORS (set by scripts/rgw/start.sh)', () => {
  const preflight = (origin: string): Promise<Response> =>
    fetch(objectUrl(config.endpoint, config.buckets.staging, key('cors'), config.forcePathStyle), {
      method: 'OPTIONS',
      headers: { Origin: origin, 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'content-type' },
    });

  test('a preflight from an allowed origin (any localhost port) succeeds', async () => {
    for (const origin of ['http://localhost:5173', 'http://127.0.0.1:3000']) {
      const response = await preflight(origin);
      assert.equal(response.status, 200, origin);
      assert.equal(response.headers.get('access-control-allow-origin'), origin);
      assert.match(response.headers.get('access-control-allow-methods') ?? '', /PUT/);
      assert.equal(response.headers.get('access-control-expose-headers'), 'ETag');
    }
  });

  test('a preflight from another origin fails', async () => {
    for (const origin of ['https://evil.example', 'http://localhost.evil.example:5173']) {
      const response = await preflight(origin);
      assert.equal(response.status, 403, origin);
      assert.equal(response.headers.get('access-control-allow-origin'), null);
    }
  });
});

describe('failures and configuration', () => {
  test('an unreachable storage surfaces as StorageUnavailableError (code storage_unavailable)', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve)); // a port nobody listens on
    const down = createS3Driver({ ...config, endpoint: `http://127.0.0.1:${port}` });
    await assert.rejects(down.head('staging', 'x'), (error: unknown) => {
      assert.ok(error instanceof StorageUnavailableError);
      assert.equal(error.code, 'storage_unavailable');
      return true;
    });
    await assert.rejects(down.copy({ bucket: 'staging', key: 'a' }, { bucket: 'public', key: 'b' }, { contentType: 'x/y' }), StorageUnavailableError);
    await assert.rejects(down.copy({ bucket: 'staging', key: 'a' }, { bucket: 'public', key: 'b' }, { contentType: 'x/y', size: 6 * 1024 ** 3 }), StorageUnavailableError);
    await assert.rejects(down.createMultipart('a', 'x/y'), StorageUnavailableError);
    await assert.rejects(down.listParts('a', '2~id'), StorageUnavailableError);
    await assert.rejects(down.completeMultipart('a', '2~id', [{ partNumber: 1, etag: '"e"' }]), StorageUnavailableError);
    await assert.rejects(down.abortMultipart('a', '2~id'), StorageUnavailableError);
  });

  test('s3ConfigFromEnv names every missing variable', () => {
    assert.throws(
      () => s3ConfigFromEnv({ S3_ENDPOINT: 'http://127.0.0.1:7480', S3_REGION: 'default' }),
      /S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, S3_BUCKET_STAGING, S3_BUCKET_PUBLIC, S3_BUCKET_PRIVATE/,
    );
    assert.throws(() => s3ConfigFromEnv({ ...process.env, S3_FORCE_PATH_STYLE: 'yes' }), /S3_FORCE_PATH_STYLE/);
  });

  test('S3_PART_COPY_THRESHOLD is a size or bytes, and optional (default 5 GiB)', () => {
    const withThreshold = (value: string | undefined) => s3ConfigFromEnv({ ...process.env, S3_PART_COPY_THRESHOLD: value }).partCopyThreshold;
    assert.equal(withThreshold('6MB'), 6 * 1024 ** 2);
    assert.equal(withThreshold('1.5GB'), 1.5 * 1024 ** 3);
    assert.equal(withThreshold('6291456'), 6291456);
    assert.equal(withThreshold(undefined), undefined);
    assert.equal(DEFAULT_PART_COPY_THRESHOLD, 5 * 1024 ** 3);
    for (const bad of ['lots', '-1', '0', '5 GiB']) assert.throws(() => withThreshold(bad), /S3_PART_COPY_THRESHOLD/, bad);
  });

  test('publicUrl uses publicBaseUrl when given, with the key encoded per segment', () => {
    const cdn = createS3Driver({ ...config, publicBaseUrl: 'https://cdn.example.test/files/' });
    assert.equal(cdn.publicUrl('u1/a b/ü+.png'), 'https://cdn.example.test/files/u1/a%20b/%C3%BC%2B.png');
  });
});

describe("the AWS SDK's presigner (the benchmark's reference)", () => {
  test('signs Content-Type and Content-Length just as strictly', async () => {
    const sdk = createS3Driver({ ...config, presigner: 'aws-sdk' });
    const k = key('sdk-put');
    // The SDK presigner is async; StorageDriver's signature is not (see sdkPresigner in s3-driver.ts).
    const put = await sdk.presignPut({ key: k, contentType: 'image/png', contentLength: 20, expiresIn: 60 });
    const wrongType = await fetch(put.url, { method: 'PUT', headers: { 'Content-Type': 'text/html' }, body: bytes(20) });
    assert.equal(wrongType.status, 403);
    const wrongLength = await fetch(put.url, { method: 'PUT', headers: put.headers, body: bytes(21) });
    assert.equal(wrongLength.status, 403);
    const ok = await fetch(put.url, { method: 'PUT', headers: put.headers, body: bytes(20) });
    assert.equal(ok.status, 200, await ok.text());
    written.push({ bucket: 'staging', key: k });

    const post = await sdk.presignPost({ key: k, contentType: 'image/png', maxSize: 8, expiresIn: 60 });
    const tooLarge = await fetch(post.url, { method: 'POST', body: postForm(post, bytes(9)) });
    assert.equal(await s3Code(tooLarge), 'EntityTooLarge');
  });
});
