/**
 * Storage events finalize uploads (Ceph RGW, real notifications): `upfront setup` points the staging
 * bucket of buckets of this test's own at the API's hook, then bytes sent with a presigned PUT or a POST
 * form become a file without the browser calling complete; wrong bytes end rejected with their staged
 * copy gone; an event racing the browser's complete makes one file. The hook refuses a wrong secret
 * (401) and a body that is no event (400), ignores keys no upload owns, and is off (404) without a secret.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DEFAULT_BUCKET_SETTINGS, diagnose, setupBuckets, type BucketSettings } from '../../packages/server/src/buckets/index.ts';
import { pushUrl } from '../../packages/server/src/events/config.ts';
import type { S3DriverConfig } from '../../packages/server/src/storage/s3-config.ts';
import { createS3Client } from '../../packages/server/src/storage/s3-driver.ts';
import { freshBuckets, removeBuckets } from '../support/buckets.ts';
import { makePng } from '../support/png.ts';
import { ownBucketsEnv, rgwAdminConfig } from '../support/rgw-env.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { removeStorageEvents } from '../support/storage-events.ts';
import { sendToStorage, type CreatedUpload } from '../support/transfer.ts';

const png = makePng({ width: 16, height: 16, minBytes: 4_000 });
const pdf = Buffer.from('%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n');
const routes = {
  'image-put': { types: ['image/png'], maxSize: '64KB', visibility: 'public', strategy: 'put' },
  'doc-post': { types: ['application/pdf'], maxSize: '64KB', visibility: 'private', strategy: 'post' },
};
const HOOK = '/v1/hooks/storage';

interface UploadJson {
  id: string;
  key: string;
  state: string;
  fileId: string | null;
  errorCode: string | null;
}

describe('storage events finalize uploads (Ceph RGW)', () => {
  const buckets = freshBuckets('events');
  const secret = randomBytes(24).toString('hex');
  let server: TestServer;
  let config: S3DriverConfig;
  let settings: BucketSettings;
  let s3: S3Client;
  let alice: string;

  before(async () => {
    config = { ...rgwAdminConfig(), buckets };
    s3 = createS3Client(config);
    server = await startTestServer({ driver: 's3', routes, env: { ...ownBucketsEnv(buckets), STORAGE_EVENTS_SECRET: secret, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' } });
    // Staged objects outlive the test where a lifecycle day lasts seconds (RGW_LC_DEBUG_INTERVAL).
    settings = { origins: ['http://localhost:*'], ...DEFAULT_BUCKET_SETTINGS, stagingExpiryDays: 100, events: { pushUrl: pushUrl({ secret, url: server.url + HOOK }) } };
    alice = await server.token(`alice-${randomUUID().slice(0, 8)}`);
  });
  after(async () => {
    await server?.close();
    if (config) await removeStorageEvents(config);
    if (s3) await removeBuckets(s3, Object.values(buckets));
    s3?.destroy();
  });

  const create = async (route: string, filename: string, contentType: string, size: number): Promise<CreatedUpload> => {
    const res = await server.api('/v1/uploads', { token: alice, json: { route, filename, contentType, size } });
    assert.equal(res.status, 201, await res.clone().text());
    return (await res.json()) as CreatedUpload;
  };
  const uploadOf = async (id: string): Promise<UploadJson> => (await server.api(`/v1/uploads/${id}`, { token: alice })).json() as Promise<UploadJson>;
  const listedKeys = async (): Promise<string[]> => ((await (await server.api('/v1/files', { token: alice })).json()) as { files: { key: string }[] }).files.map((file) => file.key);
  /** Polls the upload until it leaves the states an event moves it out of (or the attempts run out). */
  async function settled(id: string): Promise<UploadJson> {
    let upload = await uploadOf(id);
    for (let attempt = 0; attempt < 300 && ['pending', 'uploaded', 'verified'].includes(upload.state); attempt++) {
      await sleep(100);
      upload = await uploadOf(id);
    }
    return upload;
  }
  /** Records the hook has handled, by any outcome. */
  const hookEvents = async (): Promise<number> => {
    const text = await (await server.api('/metrics')).text();
    return [...text.matchAll(/^upfront_storage_events_total\{outcome="(?:completed|rejected|ignored|refused)"\} (\d+)/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
  };

  /** An object of a key nobody owns reaches the hook (ignored) once RGW notifies it. */
  async function deliveryStarted(): Promise<void> {
    const before = await hookEvents();
    for (let attempt = 0; attempt < 90 && (await hookEvents()) === before; attempt++) {
      await s3.send(new PutObjectCommand({ Bucket: buckets.staging, Key: `nobody/${randomUUID()}`, Body: 'x' }));
      await sleep(1000);
    }
    assert.ok((await hookEvents()) > before, 'RGW delivers events to the hook');
  }

  it('setup plans the notification (secret not shown), applies it, then has nothing to change; RGW then delivers', async () => {
    const dry = await setupBuckets(config, settings, { dryRun: true });
    const planned = dry.changes.filter((change) => change.setting === 'notifications');
    assert.equal(planned.length, 1, JSON.stringify(dry.changes));
    assert.match(planned[0]!.summary, /^notify http:\/\/127\.0\.0\.1:\d+\/v1\/hooks\/storage\?secret=\*\*\* of objects created/);
    assert.ok(!JSON.stringify(dry).includes(secret), 'the plan never shows the secret');
    assert.equal((await setupBuckets(config, settings)).applied, true);
    assert.deepEqual((await setupBuckets(config, settings, { dryRun: true })).changes, []);
    await deliveryStarted();
  });

  for (const [route, bytes, type] of [['image-put', png, 'image/png'], ['doc-post', pdf, 'application/pdf']] as const) {
    it(`bytes sent with ${route === 'image-put' ? 'a presigned PUT' : 'a POST form'} become a file without complete`, async () => {
      const upload = await create(route, `a.${type.split('/')[1]}`, type, bytes.length);
      assert.ok(route === 'image-put' ? upload.put : upload.post);
      const sent = await sendToStorage(upload, bytes, type);
      assert.ok(sent.ok, await sent.text());
      const done = await settled(upload.id);
      assert.equal(done.state, 'ready', JSON.stringify(done));
      assert.ok((await listedKeys()).includes(upload.key), 'listed among the files');
      assert.ok(await server.upfront.services.storage.head(route === 'image-put' ? 'public' : 'private', upload.key), 'promoted');
    });
  }

  it('wrong bytes sent the same way end rejected, and their staged copy is gone', async () => {
    const upload = await create('image-put', 'not.png', 'image/png', pdf.length);
    assert.ok((await sendToStorage(upload, pdf, 'image/png')).ok);
    const done = await settled(upload.id);
    assert.equal(done.state, 'rejected', JSON.stringify(done));
    assert.equal(done.errorCode, 'content_type_mismatch');
    assert.equal(await server.upfront.services.storage.head('staging', upload.key), null, 'the staged bytes are deleted');
    assert.equal(await server.upfront.services.storage.head('public', upload.key), null, 'nothing promoted');
  });

  it('an event racing the browser\'s complete makes exactly one file', async () => {
    const handledBefore = await hookEvents();
    const upload = await create('image-put', 'race.png', 'image/png', png.length);
    // RGW pushes the event while the PUT waits for it; the browser's complete is retried from the start
    // until the bytes are there, so the two finalize at the same time.
    const completeOnceSent = async (): Promise<Response> => {
      for (let attempt = 0; attempt < 2000; attempt++) {
        const res = await server.api(`/v1/uploads/${upload.id}/complete`, { method: 'POST', token: alice });
        if (res.status !== 409) return res;
        await res.arrayBuffer();
      }
      throw new Error('complete never found the bytes');
    };
    const [sent, completed] = await Promise.all([sendToStorage(upload, png, 'image/png'), completeOnceSent()]);
    assert.ok(sent.ok);
    assert.equal(completed.status, 200, await completed.clone().text());
    const file = (await completed.json()) as { id: string };
    // Whichever came first, the event is handled once the hook counts it (completed, or ignored: already a file).
    for (let attempt = 0; attempt < 300 && (await hookEvents()) === handledBefore; attempt++) await sleep(100);
    assert.equal(await hookEvents(), handledBefore + 1, 'the event was handled');
    const done = await uploadOf(upload.id);
    assert.equal(done.state, 'ready');
    assert.equal(done.fileId, file.id, 'the browser and the event name the same file');
    assert.equal((await listedKeys()).filter((key) => key === upload.key).length, 1, 'one file');
  });

  const event = (key: string, bucket = buckets.staging) => ({
    Records: [{ eventVersion: '2.1', eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: bucket }, object: { key: encodeURIComponent(key), size: 10 } } }],
  });
  const hook = (body: string, query = `?secret=${secret}`, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${HOOK}${query}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  it('refuses a wrong or missing secret (401) and a body that is no event (400)', async () => {
    const body = JSON.stringify(event('nobody/x.png'));
    for (const query of ['', '?secret=wrong', `?secret=${secret}x`]) {
      const res = await hook(body, query);
      assert.equal(res.status, 401, query);
      assert.equal(((await res.json()) as { code: string }).code, 'unauthorized');
    }
    assert.equal((await hook(body, '', { 'x-upfront-hook-secret': secret })).status, 200, 'the secret as a header');
    assert.equal((await hook(body, '', { authorization: `Bearer ${secret}` })).status, 200, 'the secret as a bearer token');
    for (const malformed of ['{"Records": [', 'not json', '[]', '{"hello": "world"}']) {
      const res = await hook(malformed);
      assert.equal(res.status, 400, malformed);
      assert.equal(((await res.json()) as { code: string }).code, 'invalid_request');
    }
  });

  it('an event for a key no upload owns, or another bucket, changes nothing (200)', async () => {
    const upload = await create('image-put', 'other.png', 'image/png', png.length);
    const keysBefore = await listedKeys();
    for (const body of [event(`${upload.key}-nobody`), event(upload.key, buckets.public)]) {
      const res = await hook(JSON.stringify(body));
      assert.equal(res.status, 200);
      const { records } = (await res.json()) as { records: { outcome: string }[] };
      assert.deepEqual(records.map((record) => record.outcome), ['ignored']);
    }
    assert.equal((await uploadOf(upload.id)).state, 'pending');
    assert.deepEqual(await listedKeys(), keysBefore);
  });

  it('doctor reports a missing notification, and setup puts it back', async () => {
    await removeStorageEvents(config);
    const findings = await diagnose(config, settings, { admin: config });
    assert.ok(findings.some((finding) => finding.check === 'staging notifications' && finding.status === 'fail'), JSON.stringify(findings));
    assert.deepEqual((await setupBuckets(config, settings)).changes.map((change) => change.setting), ['notifications']);
    const again = await diagnose(config, settings, { admin: config });
    assert.ok(again.some((finding) => finding.check === 'buckets' && finding.status === 'ok'), JSON.stringify(again));
  });
});

describe('the storage hook without a secret', () => {
  it('is off: 404', async () => {
    const server = await startTestServer({ driver: 'disk' });
    try {
      const res = await fetch(`${server.url}${HOOK}?secret=anything`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"Records": []}' });
      assert.equal(res.status, 404);
      assert.equal(((await res.json()) as { code: string }).code, 'not_found');
    } finally {
      await server.close();
    }
  });
});
