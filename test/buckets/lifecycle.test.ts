/**
 * Lifecycle that really runs, on Ceph RGW with `rgw lc debug interval` (npm test starts RGW with
 * RGW_LC_DEBUG_INTERVAL=5: a lifecycle "day" lasts 5 s). On buckets `upfront setup` provisioned: an
 * upload nobody completed has its staged object removed after the staging expiry, and then answers
 * upload_expired; a promoted file moves to the cold class after its transition; a multipart upload
 * left unfinished is aborted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateMultipartUploadCommand, HeadObjectCommand, ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import { createClient } from '@upfront/client';
import { setupBuckets } from '../../packages/server/src/buckets/index.ts';
import type { S3DriverConfig } from '../../packages/server/src/storage/s3-config.ts';
import { createS3Client } from '../../packages/server/src/storage/s3-driver.ts';
import { freshBuckets, removeBuckets } from '../support/buckets.ts';
import { makePng } from '../support/png.ts';
import { ownBucketsEnv, rgwAdminConfig } from '../support/rgw-env.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const routes = {
  kept: { types: ['image/png'], maxSize: '1MB', visibility: 'private', strategy: 'put' },
  // Its signed PUT, and so the upload, expires before lifecycle removes what was staged.
  abandoned: { types: ['image/png'], maxSize: '1MB', visibility: 'private', strategy: 'put', expiresIn: 2 },
};

/** Polls `check` until it holds; a lifecycle that never runs fails the test after a minute. */
async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`lifecycle never got to it: ${what}`);
    await sleep(1000);
  }
}

describe('lifecycle rules at work (Ceph RGW, a lifecycle day in seconds)', () => {
  let config: S3DriverConfig;
  let s3: S3Client;
  let server: TestServer;
  const buckets = freshBuckets('lifecycle');

  before(async () => {
    assert.ok(
      Number(process.env.RGW_LC_DEBUG_INTERVAL) > 0,
      'RGW_LC_DEBUG_INTERVAL names the seconds of a lifecycle day on the test RGW (npm test starts RGW with it); without it these rules act after days',
    );
    config = { ...rgwAdminConfig(), buckets };
    s3 = createS3Client(config);
    await setupBuckets(config, { origins: [], stagingExpiryDays: 1, abortIncompleteDays: 1, transitions: [{ days: 1, storageClass: 'COLD' }] });
    server = await startTestServer({ driver: 's3', routes, env: { ...ownBucketsEnv(buckets) } });
  });
  after(async () => {
    await server?.close();
    await removeBuckets(s3, Object.values(buckets));
    s3?.destroy();
  });

  it('a staged object nobody completed is removed, the upload answers upload_expired; a promoted file moves to COLD; an unfinished multipart upload is aborted', async () => {
    const png = makePng({ width: 8, height: 8, minBytes: 20_000 });
    const token = await server.token('lifecycle-user');
    const kept = await createClient({ endpoint: server.url, token }).upload(new File([new Uint8Array(png)], 'kept.png', { type: 'image/png' }), { route: 'kept' });

    const created = await server.api('/v1/uploads', { token, json: { route: 'abandoned', filename: 'left.png', contentType: 'image/png', size: png.length } });
    const abandoned = (await created.json()) as { id: string; key: string; put: { url: string; headers: Record<string, string> } };
    assert.equal((await fetch(abandoned.put.url, { method: 'PUT', headers: abandoned.put.headers, body: new Uint8Array(png) })).status, 200);
    await s3.send(new CreateMultipartUploadCommand({ Bucket: buckets.staging, Key: 'left/in-parts.bin' }));

    const missing = (bucket: string, key: string) => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(() => false, () => true);
    await eventually('the staged object expires', () => missing(buckets.staging, abandoned.key));
    await eventually('the promoted file moves to COLD', async () => ((await s3.send(new HeadObjectCommand({ Bucket: buckets.private, Key: kept.key }))).StorageClass as string | undefined) === 'COLD');
    await eventually('the unfinished multipart upload is aborted', async () => ((await s3.send(new ListMultipartUploadsCommand({ Bucket: buckets.staging }))).Uploads ?? []).length === 0);

    const completed = await server.api(`/v1/uploads/${abandoned.id}/complete`, { method: 'POST', token });
    const answer = await completed.text();
    assert.equal((JSON.parse(answer) as { code: string }).code, 'upload_expired', answer);
    const served = await fetch((await (await server.api(`/v1/files/${kept.id}`, { token })).json() as { url: string }).url);
    assert.equal(served.status, 200, 'a file in the cold class is still served');
  });
});
