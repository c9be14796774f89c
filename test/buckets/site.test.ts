/**
 * The website bucket on Ceph RGW, served by RGW's s3website endpoint (`<bucket>.s3-website.localhost`):
 * setup makes it a website anyone may read; `upfront site deploy` uploads a built front end with each
 * file's Content-Type and Cache-Control (hashed names a year, immutable; the rest revalidated), fills in
 * the API's URL, skips dotfiles, and a later deploy removes what the earlier one left; the endpoint
 * answers a missing page with the error document. Then the demo app, deployed there, runs in headless
 * Chromium and uploads a real PNG through an API on the RGW driver, from the website's origin.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Browser } from 'playwright-core';
import { buildWeb } from '../../apps/web/build.ts';
import { browserGet } from '../../packages/server/src/buckets/browser-get.ts';
import { DEFAULT_BUCKET_SETTINGS, deploySite, diagnose, setupBuckets, type BucketSettings, type SiteConfig } from '../../packages/server/src/buckets/index.ts';
import { cacheControlOf } from '../../packages/server/src/buckets/site-deploy.ts';
import type { S3DriverConfig } from '../../packages/server/src/storage/s3-config.ts';
import { createS3Client } from '../../packages/server/src/storage/s3-driver.ts';
import { launchBrowser, recordPageTrouble, signIn } from '../support/browser.ts';
import { DROP_INPUT, galleryCard, loadedWidth, rowText, uploadOutcome } from '../support/demo-app.ts';
import { freshBuckets, removeBuckets, siteUrlOf } from '../support/buckets.ts';
import { makePng } from '../support/png.ts';
import { ownBucketsEnv, rgwAdminConfig } from '../support/rgw-env.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const cli = fileURLToPath(new URL('../../packages/cli/src/bin.ts', import.meta.url));

describe('which deployed files are cached for a year', () => {
  it('names with a content hash (letters and digits, 8 or more, before the extension); not words, not the page', () => {
    const immutable = ['assets/index-B7xq2k9Z.js', 'app.3f9a1c2e.js', 'main.0123abcd4567ef89.css', 'chunk-X4TQFKQ3.mjs', 'fonts/inter.5f2b9a71.woff2'];
    const revalidated = ['index.html', 'app.js', 'app-settings.js', 'hash-worker.js', 'logo.svg', 'v2/page.html', 'release-20261207.txt', 'deadbeef.js'];
    assert.deepEqual(immutable.map(cacheControlOf), immutable.map(() => 'public, max-age=31536000, immutable'));
    assert.deepEqual(revalidated.map(cacheControlOf), revalidated.map(() => 'no-cache'));
  });
});

describe('the website bucket and `upfront site deploy` (Ceph RGW s3website)', () => {
  const buckets = freshBuckets('site');
  let config: S3DriverConfig;
  let s3: S3Client;
  let site: SiteConfig;
  let settings: BucketSettings;
  let fixture: string;

  before(async () => {
    config = { ...rgwAdminConfig(), buckets };
    s3 = createS3Client(config);
    site = { bucket: buckets.site, url: siteUrlOf(config, buckets.site), indexDocument: 'index.html', errorDocument: '404.html' };
    settings = { origins: [new URL(site.url).origin], ...DEFAULT_BUCKET_SETTINGS, site };
    fixture = await mkdtemp(join(tmpdir(), 'upfront-site-'));
    await mkdir(join(fixture, 'assets'));
    await writeFile(
      join(fixture, 'index.html'),
      '<!doctype html><meta name="upfront-api" content=""><meta name="upfront-oidc-issuer" content=""><meta name="upfront-oidc-client-id" content=""><title>Fixture</title><script type="module" src="assets/app.3f9a1c2e.js"></script>',
    );
    await writeFile(join(fixture, '404.html'), '<!doctype html><title>Not here</title><p>Nothing at this address.</p>');
    await writeFile(join(fixture, 'assets/app.3f9a1c2e.js'), 'console.log("fixture");');
    await writeFile(join(fixture, 'assets/logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>');
    await writeFile(join(fixture, 'data.json'), '{"fixture":true}');
    await writeFile(join(fixture, '.env'), 'SECRET=never-deployed');
  });
  after(async () => {
    await removeBuckets(s3, Object.values(buckets));
    s3?.destroy();
    await rm(fixture, { recursive: true, force: true });
  });

  const get = (path: string) => browserGet(new URL(path, site.url).href);

  it('setup makes the site bucket a website anyone may read (and nobody list); a second run has nothing to change', async () => {
    const done = await setupBuckets(config, settings);
    const site = done.changes.filter((change) => change.role === 'site');
    assert.deepEqual(site.map((change) => `${change.setting}: ${change.summary}`), [
      'bucket: create the bucket',
      `policy: set the bucket policy: allow anyone s3:GetObject on arn:aws:s3:::${buckets.site}/*`,
      'website: serve it as a website (index document index.html, error document 404.html)',
    ]);
    assert.deepEqual((await setupBuckets(config, settings, { dryRun: true })).changes, []);
    const listing = await fetch(`${config.endpoint}/${buckets.site}`);
    assert.equal(listing.status, 403, 'anonymous listing refused');
    // Nothing deployed yet: RGW answers its own error page (with bytes past its Content-Length).
    const website = (await diagnose(config, settings)).find((finding) => finding.check === 'website');
    assert.equal(website?.status, 'fail');
    assert.match(website?.fix ?? '', /upfront site deploy/);
  });

  it('deploys a directory: each file with its type and caching (hashed names immutable, the rest no-cache), the API URL and OIDC provider filled in, dotfiles left out', async () => {
    const { code, stdout, stderr } = await deploy([fixture, '--api', 'https://api.example.test', '--oidc-issuer', 'https://login.example.test/realms/a&b', '--oidc-client-id', 'upfront-$&-demo']);
    assert.equal(code, 0, stderr);
    const lines = stdout.trimEnd().split('\n');
    assert.equal(lines[0], `Deployed ${fixture} to ${buckets.site}:`);
    assert.deepEqual(lines.slice(1, -2).map((line) => line.trim().split(/\s{2,}/).slice(0, 3)), [
      ['404.html', 'text/html; charset=utf-8', 'no-cache'],
      ['assets/app.3f9a1c2e.js', 'text/javascript; charset=utf-8', 'public, max-age=31536000, immutable'],
      ['assets/logo.svg', 'image/svg+xml', 'no-cache'],
      ['data.json', 'application/json; charset=utf-8', 'no-cache'],
      ['index.html', 'text/html; charset=utf-8', 'no-cache'],
    ]);
    assert.match(lines.at(-2)!, /^5 files, \d+ B\.$/);
    assert.equal(lines.at(-1), `The site: ${site.url}`);

    const index = await get('/');
    assert.equal(index.status, 200);
    assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(index.headers['cache-control'], 'no-cache');
    assert.match(index.body.toString(), /<meta name="upfront-api" content="https:\/\/api\.example\.test">/);
    assert.match(index.body.toString(), /<meta name="upfront-oidc-issuer" content="https:\/\/login\.example\.test\/realms\/a&amp;b">/);
    assert.match(index.body.toString(), /<meta name="upfront-oidc-client-id" content="upfront-\$&amp;-demo">/, 'written as given, escaped for HTML');

    const script = await get('/assets/app.3f9a1c2e.js');
    assert.equal(script.status, 200);
    assert.equal(script.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(script.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(script.body.toString(), 'console.log("fixture");');
    assert.equal((await get('/assets/logo.svg')).headers['content-type'], 'image/svg+xml');

    // Without the right to list, a missing key is refused (403) rather than not found: either way, the error document.
    for (const path of ['/no/such/page', '/.env']) {
      const missing = await get(path);
      assert.ok([403, 404].includes(missing.status), `${path}: ${missing.status}`);
      assert.equal(missing.headers['content-type'], 'text/html; charset=utf-8');
      assert.match(missing.body.toString(), /Nothing at this address/);
    }
  });

  describe('the demo app, deployed there, in headless Chromium', () => {
    let server: TestServer;
    let browser: Browser;

    before(async () => {
      server = await startTestServer({
        driver: 's3',
        env: { ...ownBucketsEnv(buckets), CORS_ORIGINS: new URL(site.url).origin },
      });
      browser = await launchBrowser();
    });
    after(async () => {
      await browser?.close();
      await server?.close();
    });

    it('a later deploy (the demo app) replaces the site and removes only what the earlier one left', async () => {
      const result = await deploySite(config, site, await buildWeb(), { api: server.url });
      // Vite's build: the page, its error document, and hashed assets (the bundle, its map and styles, the client's hashing worker).
      assert.deepEqual(
        result.files.map((file) => file.key.replace(/-[0-9a-f]{12}\./, '-<hash>.')).sort(),
        ['404.html', 'assets/hash-worker-<hash>.js', 'assets/index-<hash>.css', 'assets/index-<hash>.js', 'assets/index-<hash>.js.map', 'index.html'],
      );
      assert.deepEqual(result.removed, ['assets/app.3f9a1c2e.js', 'assets/logo.svg', 'data.json']);
      assert.deepEqual(result.warnings, []);
      assert.ok([403, 404].includes((await get('/assets/app.3f9a1c2e.js')).status), 'the old asset is gone');
      const bundle = result.files.find((file) => /^assets\/index-\w+\.js$/.test(file.key))!;
      assert.equal(bundle.cacheControl, cacheControlOf(bundle.key), 'hashed names are cached as their name says');
      const served = await get(`/${bundle.key}`);
      assert.equal(served.status, 200);
      assert.equal(served.headers['cache-control'], bundle.cacheControl);
      assert.equal((await get('/index.html')).headers['cache-control'], 'no-cache', 'the page is revalidated');
    });

    it('opens from the website endpoint and uploads a PNG through the API, straight to storage', async () => {
      const context = await browser.newContext();
      context.setDefaultTimeout(20_000);
      const page = await context.newPage();
      const trouble = recordPageTrouble(page);
      try {
        await page.goto(site.url);
        assert.equal(new URL(page.url()).origin, new URL(site.url).origin);
        const user = `site-${randomUUID().slice(0, 8)}`;
        await signIn(page, user);
        await page.setInputFiles(DROP_INPUT, { name: 'from-the-site.png', mimeType: 'image/png', buffer: makePng({ width: 32, height: 32 }) });
        const outcome = await uploadOutcome(page, 'from-the-site.png');
        assert.equal(outcome, 'done', `upload failed: ${await rowText(page, 'from-the-site.png')}\n${trouble.join('\n')}`);
        assert.equal(await loadedWidth(page, `${galleryCard('from-the-site.png')} img`), 32, 'the uploaded image\'s thumbnail loads from the public bucket');
        const files = (await (await server.api('/v1/files', { token: await server.token(user) })).json()) as { files: { filename: string }[] };
        assert.deepEqual(files.files.map((file) => file.filename), ['from-the-site.png']);
      } finally {
        await context.close();
      }
    });
  });

  /** `upfront site deploy` as a user runs it, on this test's buckets. */
  async function deploy(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const env = {
      ...process.env,
      STORAGE_DRIVER: 's3',
      S3_BUCKET_STAGING: buckets.staging,
      S3_BUCKET_PUBLIC: buckets.public,
      S3_BUCKET_PRIVATE: buckets.private,
      S3_BUCKET_SITE: site.bucket,
      S3_SITE_URL: site.url,
    };
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--conditions=upfront-source', '--import', 'tsx', cli, 'site', 'deploy', ...args], {
        env,
        cwd: fileURLToPath(new URL('../../', import.meta.url)),
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
      return { code, stdout, stderr };
    }
  }
});
