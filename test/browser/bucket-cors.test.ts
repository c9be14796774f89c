/**
 * Issue 8's first acceptance, in headless Chromium on Ceph RGW: on new empty buckets, `upfront setup`
 * then `upfront doctor` reports nothing failing; the demo app uploads from the origin setup was given,
 * and the same page from another origin is refused by the staging bucket's CORS (the API answers both
 * origins, so only storage refuses).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { S3Client } from '@aws-sdk/client-s3';
import { buildWeb } from '../../apps/web/build.ts';
import { DEFAULT_BUCKET_SETTINGS, diagnose, setupBuckets, type BucketSettings } from '../../packages/server/src/buckets/index.ts';
import { createS3Client } from '../../packages/server/src/storage/s3-driver.ts';
import { launchBrowser, recordPageTrouble, signIn } from '../support/browser.ts';
import { DROP_INPUT, rowText, uploadOutcome } from '../support/demo-app.ts';
import { freshBuckets, removeBuckets } from '../support/buckets.ts';
import { makePng } from '../support/png.ts';
import { ownBucketsEnv, rgwAdminConfig } from '../support/rgw-env.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

describe('buckets from `upfront setup`: a configured origin uploads, another is refused by CORS (Chromium, Ceph RGW)', () => {
  const buckets = freshBuckets('cors');
  let s3: S3Client;
  let server: TestServer;
  let browser: Browser;
  let port: string;

  before(async () => {
    await buildWeb();
    const config = { ...rgwAdminConfig(), buckets };
    s3 = createS3Client(config);
    server = await startTestServer({
      driver: 's3',
      web: true,
      env: { ...ownBucketsEnv(buckets) },
    });
    port = new URL(server.url).port;
    const settings: BucketSettings = { origins: [`http://127.0.0.1:${port}`], ...DEFAULT_BUCKET_SETTINGS };
    await setupBuckets(config, settings);
    const failing = (await diagnose(config, settings)).filter((finding) => finding.status === 'fail');
    assert.deepEqual(failing, [], 'doctor finds nothing failing right after setup');
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    if (s3) await removeBuckets(s3, Object.values(buckets));
    s3?.destroy();
  });

  /** Uploads a PNG from the demo app served at `origin`; its outcome (`done` or the error code) and the row's words. */
  async function uploadFrom(origin: string): Promise<{ state: string; error: string; trouble: string[] }> {
    const context = await browser.newContext();
    context.setDefaultTimeout(20_000);
    try {
      const page: Page = await context.newPage();
      const trouble = recordPageTrouble(page);
      await page.goto(`${origin}/`);
      await signIn(page, 'cors-user');
      await page.setInputFiles(DROP_INPUT, { name: 'dot.png', mimeType: 'image/png', buffer: makePng({ width: 8, height: 8, minBytes: 10_000 }) });
      const state = await uploadOutcome(page, 'dot.png');
      return { state, error: await rowText(page, 'dot.png'), trouble };
    } finally {
      await context.close();
    }
  }

  it('uploads from the configured origin', async () => {
    const outcome = await uploadFrom(`http://127.0.0.1:${port}`);
    assert.equal(outcome.state, 'done', `${outcome.error}\n${outcome.trouble.join('\n')}`);
  });

  it('is refused by storage from an origin setup was not given', async () => {
    const outcome = await uploadFrom(`http://localhost:${port}`);
    assert.notEqual(outcome.state, 'done', 'the upload must fail');
    assert.ok(
      outcome.trouble.some((line) => /CORS|Access-Control-Allow-Origin/i.test(line)),
      `the browser names CORS as the reason:\n${outcome.trouble.join('\n')}`,
    );
  });
});
