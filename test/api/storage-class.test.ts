/**
 * A route's storageClass: verified files are promoted into that class, on RGW's own second class
 * (COLD, defined by scripts/rgw/start.sh), by CopyObject and by UploadPartCopy (the part-copy
 * threshold lowered); RGW refuses classes it does not have, so the class is real. The disk driver has
 * no classes: the same route works there and the file lands as usual.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { createClient } from '@upfront/client';
import { createS3Client } from '../../packages/server/src/storage/s3-driver.ts';
import { makePng } from '../support/png.ts';
import { rgwConfig } from '../support/rgw-env.ts';
import { startTestServer, type Driver, type TestServer } from '../support/server.ts';

const MiB = 1024 * 1024;
const routes = {
  cold: { types: ['image/png'], maxSize: '64MB', visibility: 'private', storageClass: 'COLD', multipartThreshold: '8MB', partSize: '5MB' },
};
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

for (const driver of ['s3', 'disk'] as Driver[]) {
  describe(`a route's storage class (${driver})`, () => {
    let server: TestServer;
    before(async () => {
      // 6 MiB: files above it are promoted part by part (UploadPartCopy), as files over 5 GiB are.
      server = await startTestServer({ driver, routes, env: { S3_PART_COPY_THRESHOLD: String(6 * MiB) } });
    });
    after(() => server?.close());

    for (const [how, size] of [['CopyObject', 100_000], ['UploadPartCopy', 12 * MiB]] as const) {
      it(`promotes into it by ${how}`, async () => {
        const png = makePng({ width: 8, height: 8, minBytes: size });
        const client = createClient({ endpoint: server.url, token: await server.token('cold-user') });
        const file = await client.upload(new File([new Uint8Array(png)], 'cold.png', { type: 'image/png' }), { route: 'cold' });
        assert.equal(file.sha256, sha256(png));
        const served = await fetch(file.url);
        assert.equal(sha256(new Uint8Array(await served.arrayBuffer())), sha256(png), 'byte-identical');
        if (driver === 's3') {
          const config = rgwConfig();
          const s3 = createS3Client(config);
          try {
            const head = await s3.send(new HeadObjectCommand({ Bucket: config.buckets.private, Key: file.key }));
            assert.equal(head.StorageClass, 'COLD');
          } finally {
            s3.destroy();
          }
        }
      });
    }
  });
}
