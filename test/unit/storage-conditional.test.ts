/**
 * Verification and promotion are bound to one ETag: a staged object overwritten after it was checked
 * (its signed PUT is still valid) must never be promoted. Both drivers, against real storage.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createDiskDriver } from '../../packages/server/src/storage/disk-driver.ts';
import { ObjectChangedError, ObjectMissingError } from '../../packages/server/src/storage/errors.ts';
import { createS3Driver } from '../../packages/server/src/storage/s3-driver.ts';
import type { StorageDriver } from '../../packages/server/src/storage/types.ts';
import { rgwConfig } from '../support/rgw-env.ts';

type Stage = (key: string, bytes: Buffer) => Promise<void>;

const setups: Record<string, () => Promise<{ driver: StorageDriver; stage: Stage; cleanup(): Promise<void> }>> = {
  async disk() {
    const dataDir = await mkdtemp(join(tmpdir(), 'upfront-cond-'));
    const driver = createDiskDriver({ dataDir, baseUrl: 'http://127.0.0.1:1/storage', secret: 'test-secret' });
    const stage: Stage = async (key, bytes) => {
      await driver.writeObject('staging', key, (async function* () { yield new Uint8Array(bytes); })(), { contentType: 'image/png' }, { minSize: 0, maxSize: bytes.length });
    };
    return { driver, stage, cleanup: () => rm(dataDir, { recursive: true, force: true }) };
  },
  async s3() {
    const config = rgwConfig();
    const client = new S3Client({
      endpoint: config.endpoint,
      region: config.region,
      forcePathStyle: config.forcePathStyle,
      credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    const stage: Stage = async (key, bytes) => {
      await client.send(new PutObjectCommand({ Bucket: config.buckets.staging, Key: key, Body: bytes, ContentType: 'image/png' }));
    };
    return { driver: createS3Driver(config), stage, cleanup: async () => client.destroy() };
  },
};

for (const [name, setup] of Object.entries(setups)) {
  describe(`conditional read and copy on ${name}`, () => {
    let env: Awaited<ReturnType<typeof setup>>;
    before(async () => {
      env = await setup();
    });
    after(() => env?.cleanup());

    it('reads a version with its ETag, copies only that version, and refuses once it was overwritten', async () => {
      const key = `cond/${randomUUID()}.png`;
      const first = Buffer.from('first version of the bytes');
      const second = Buffer.from('other version of the bytes');
      await env.stage(key, first);
      const start = await env.driver.readStart('staging', key, 5);
      const head = start?.head;
      assert.ok(head?.etag, 'readStart reports an ETag');
      assert.deepEqual(Buffer.from(start!.bytes), first.subarray(0, 5));
      assert.equal(head.size, first.length);

      await env.stage(key, second); // same length: only the content changed
      const again = await env.driver.readStart('staging', key, 5);
      assert.notEqual(again?.head.etag, head.etag, 'another version, another ETag');
      assert.deepEqual(Buffer.from(again!.bytes), second.subarray(0, 5));
      await assert.rejects(
        env.driver.copy({ bucket: 'staging', key }, { bucket: 'public', key }, { contentType: 'image/png', ifMatch: head.etag }),
        ObjectChangedError,
      );
      assert.equal(await env.driver.head('public', key), null, 'nothing promoted');

      const now = await env.driver.head('staging', key);
      await env.driver.copy({ bucket: 'staging', key }, { bucket: 'public', key }, { contentType: 'image/png', ifMatch: now!.etag! });
      assert.deepEqual(Buffer.from((await env.driver.readStart('public', key, 100))!.bytes), second);
      await env.driver.delete('public', key);
      await env.driver.delete('staging', key);
    });

    it('refuses a staged object overwritten with another length, after both the read and the copy were bound', async () => {
      const key = `cond/${randomUUID()}.png`;
      const verified = Buffer.from('the verified bytes');
      await env.stage(key, verified);
      const { head, bytes } = (await env.driver.readStart('staging', key, 100))!;
      assert.deepEqual(Buffer.from(bytes), verified);
      await env.stage(key, Buffer.from('longer bytes that were never verified'));
      await assert.rejects(
        env.driver.copy({ bucket: 'staging', key }, { bucket: 'private', key }, { contentType: 'image/png', ifMatch: head.etag! }),
        ObjectChangedError,
      );
      assert.equal(await env.driver.head('private', key), null, 'nothing promoted');
      await env.driver.delete('staging', key);
    });

    it('keeps the promoted bytes when the staged object is overwritten or deleted afterwards', async () => {
      const key = `cond/${randomUUID()}.png`;
      const promoted = Buffer.from('promoted version of it');
      await env.stage(key, promoted);
      const head = await env.driver.head('staging', key);
      await env.driver.copy({ bucket: 'staging', key }, { bucket: 'public', key }, { contentType: 'image/png', ifMatch: head!.etag! });
      await env.stage(key, Buffer.from('replaced version of it'));
      assert.deepEqual(await env.driver.readStart('public', key, 100), { head: { size: promoted.length, contentType: 'image/png', etag: head!.etag }, bytes: new Uint8Array(promoted) });
      await env.driver.delete('staging', key);
      assert.deepEqual(await env.driver.head('public', key), { size: promoted.length, contentType: 'image/png', etag: head!.etag });
      await env.driver.delete('public', key);
    });

    it('a missing object is ObjectMissingError for copy, and null for head and readStart', async () => {
      const key = `cond/${randomUUID()}.png`;
      assert.equal(await env.driver.head('staging', key), null);
      assert.equal(await env.driver.readStart('staging', key, 10), null);
      await assert.rejects(env.driver.copy({ bucket: 'staging', key }, { bucket: 'public', key }, { contentType: 'image/png' }), ObjectMissingError);
      await assert.rejects(
        env.driver.copy({ bucket: 'staging', key }, { bucket: 'public', key }, { contentType: 'image/png', ifMatch: '"d41d8cd98f00b204e9800998ecf8427e"' }),
        ObjectMissingError,
      );
      assert.equal(await env.driver.head('public', key), null);
    });
  });
}
