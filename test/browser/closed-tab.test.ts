/**
 * A tab closed at 100 %: in real headless Chromium the page creates an upload and sends the file
 * straight to Ceph RGW with its signed PUT, then the tab is closed before it can call complete.
 * RGW's object-created notification reaches the API's hook, which finalizes the upload as complete
 * would: the file is ready seconds later, and the route's webhook arrives signed (checked with
 * standardwebhooks' verify by a real receiver).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Browser } from 'playwright-core';
import { DEFAULT_BUCKET_SETTINGS, setupBuckets } from '../../packages/server/src/buckets/index.ts';
import { pushUrl } from '../../packages/server/src/events/config.ts';
import type { S3DriverConfig } from '../../packages/server/src/storage/s3-config.ts';
import { createS3Client } from '../../packages/server/src/storage/s3-driver.ts';
import { freePort } from '../support/api-process.ts';
import { launchBrowser, recordPageTrouble } from '../support/browser.ts';
import { freshBuckets, removeBuckets } from '../support/buckets.ts';
import { makePng } from '../support/png.ts';
import { ownBucketsEnv, rgwAdminConfig } from '../support/rgw-env.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { removeStorageEvents } from '../support/storage-events.ts';
import { webhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

const png = makePng({ width: 64, height: 64, minBytes: 200_000 });

describe('the browser is closed before complete (Chromium, RGW events, webhook)', () => {
  const buckets = freshBuckets('closedtab');
  const secret = randomBytes(24).toString('hex');
  let browser: Browser;
  let receiver: WebhookReceiver;
  let server: TestServer;
  let config: S3DriverConfig;
  let s3: S3Client;

  before(async () => {
    browser = await launchBrowser();
    receiver = webhookReceiver(await freePort());
    await receiver.start();
    const routes = { image: { types: ['image/png'], maxSize: '1MB', visibility: 'public', strategy: 'put', webhook: { url: receiver.url, secret: receiver.secret } } };
    server = await startTestServer({ driver: 's3', routes, env: { ...ownBucketsEnv(buckets), STORAGE_EVENTS_SECRET: secret } });
    config = { ...rgwAdminConfig(), buckets };
    s3 = createS3Client(config);
    const events = { pushUrl: pushUrl({ secret, url: `${server.url}/v1/hooks/storage` }) };
    await setupBuckets(config, { origins: [server.url], ...DEFAULT_BUCKET_SETTINGS, events });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await receiver?.stop();
    if (config) await removeStorageEvents(config);
    if (s3) await removeBuckets(s3, Object.values(buckets));
    s3?.destroy();
  });

  it('the file is ready seconds later, and the webhook arrives signed', async () => {
    const token = await server.token('closes-tabs');
    const context = await browser.newContext();
    const page = await context.newPage();
    const trouble = recordPageTrouble(page);
    await page.goto(`${server.url}/healthz`);
    // What an app's page does: create, then send the bytes to storage; the tab is closed at 100 %.
    const sent = await page.evaluate(
      async ({ token, bytes }) => {
        const file = new File([new Uint8Array(bytes)], 'holiday.png', { type: 'image/png' });
        const res = await fetch('/v1/uploads', {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ route: 'image', filename: file.name, contentType: file.type, size: file.size }),
        });
        const upload = (await res.json()) as { id: string; put: { url: string; headers: Record<string, string> } };
        const put = await fetch(upload.put.url, { method: 'PUT', headers: upload.put.headers, body: file });
        return { id: upload.id, status: put.status };
      },
      { token, bytes: [...png] },
    );
    assert.equal(sent.status, 200, trouble.join('\n'));
    await context.close();

    let upload = { state: 'pending', fileId: null as string | null };
    for (let attempt = 0; attempt < 200 && upload.state !== 'ready'; attempt++) {
      upload = (await (await server.api(`/v1/uploads/${sent.id}`, { token })).json()) as typeof upload;
      if (upload.state !== 'ready') await sleep(50);
    }
    assert.equal(upload.state, 'ready', 'the upload was finalized without the browser');
    const file = (await (await server.api(`/v1/files/${upload.fileId}`, { token })).json()) as { id: string; url: string };
    assert.deepEqual(Buffer.from(await (await fetch(file.url)).arrayBuffer()), png, 'the public file serves the bytes the browser sent');

    const [delivery] = await receiver.until('upload.completed', (accepted) => accepted.some((d) => d.event.data.uploadId === sent.id));
    assert.equal(delivery!.event.type, 'upload.completed');
    assert.equal((delivery!.event.data.file as { id: string }).id, file.id);
    assert.deepEqual(receiver.forged, [], 'every delivery verified with the route\'s secret');
  });
});
