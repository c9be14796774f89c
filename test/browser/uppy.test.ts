/**
 * @upfront/uppy in real headless Chromium, per storage driver: a page bundled with esbuild from real
 * @uppy/core, @uppy/dashboard and @uppy/aws-s3 (inside the adapter) adds files through the Dashboard's
 * file input and uploads them through a real Upfront server: a small file in one signed PUT, a large
 * one in parts, one in a POST policy form, one the route refuses (Uppy shows the API's sentence), and a
 * multipart upload paused and resumed, and one cancelled. Every request is recorded: the bytes go to
 * storage, never to the API.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { build } from 'esbuild';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, recordPageTrouble, limitUploadSpeed } from '../support/browser.ts';
import { makePng } from '../support/png.ts';
import { startTestServer, type Driver, type TestServer } from '../support/server.ts';

const MiB = 1024 * 1024;
const routes = {
  photos: { types: ['image/png'], maxSize: '40MB', visibility: 'public', multipartThreshold: '6MB', partSize: '5MB' },
  scans: { types: ['image/png'], maxSize: '10MB', visibility: 'public', strategy: 'post' },
};

interface Picked {
  name: string;
  mimeType: string;
  buffer: Buffer;
}

const png = (name: string, bytes: number): Picked => ({ name, mimeType: 'image/png', buffer: makePng({ minBytes: bytes }) });
const sha256 = (bytes: Buffer | Uint8Array) => createHash('sha256').update(bytes).digest('hex');

interface Described {
  name: string;
  error: string | null;
  stored: { id: string; url: string; size: number; filename: string } | null;
  uploadURL: string | null;
}

interface Recorded {
  method: string;
  url: string;
  /** Bytes of the request body, where Chromium reports it (large bodies may not be). */
  bodySize: number;
  status?: number;
}

let browser: Browser;
let pageServer: Server;
let pageUrl: string;

/** Serves the bundled page over real HTTP (Chromium lets a loopback page, not a made-up one, reach loopback storage). */
async function servePage(js: string, css: string): Promise<void> {
  const html = '<!doctype html><meta charset="utf-8"><link rel="stylesheet" href="page.css"><div id="dashboard"></div><script type="module" src="page.js"></script>';
  pageServer = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://page').pathname;
    const [type, body] = path === '/page.js' ? ['text/javascript', js] : path === '/page.css' ? ['text/css', css] : ['text/html', html];
    response.writeHead(200, { 'content-type': `${type}; charset=utf-8` }).end(body);
  });
  await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
  pageUrl = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}/`;
}

before(async () => {
  const built = await build({
    entryPoints: [fileURLToPath(new URL('./uppy-page.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    conditions: ['upfront-source'],
    outdir: 'out',
    write: false,
    logLevel: 'warning',
  });
  const output = (extension: string) => built.outputFiles.find((file) => file.path.endsWith(extension))?.text ?? '';
  await servePage(output('.js'), output('.css'));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  pageServer?.close();
});

for (const driver of ['disk', 's3'] as Driver[]) {
  describe(`Uppy through Upfront (${driver} storage)`, () => {
    let server: TestServer;
    let storageBase: string;
    const contexts: BrowserContext[] = [];

    before(async () => {
      server = await startTestServer({ driver, routes });
      storageBase = driver === 's3' ? new URL(process.env.S3_ENDPOINT!).origin : `${server.url}/storage/`;
    });

    after(async () => {
      for (const context of contexts) await context.close();
      await server?.close();
    });

    /** Opens the Uppy page (at an origin of its own, as an app's) for a new user, recording every request. */
    async function openPage(route: string) {
      const user = `uppy-${randomUUID().slice(0, 8)}`;
      const token = await server.token(user);
      const context = await browser.newContext();
      contexts.push(context);
      context.setDefaultTimeout(60_000);
      const page = await context.newPage();
      const trouble = recordPageTrouble(page);
      const requests: Recorded[] = [];
      page.on('request', (request) => {
        if (request.url().startsWith('http')) requests.push({ method: request.method(), url: request.url(), bodySize: request.postDataBuffer()?.length ?? 0 });
      });
      page.on('requestfinished', async (request) => {
        const recorded = requests.find((entry) => entry.url === request.url() && entry.method === request.method() && entry.status === undefined);
        if (recorded) recorded.status = (await request.response())?.status();
      });
      const query = new URLSearchParams({ endpoint: server.url, route, token });
      await page.goto(`${pageUrl}?${query}`);
      await page.waitForFunction(() => 'uppy' in window);
      const explain = (what: string) => `${what}\nbrowser log:\n${trouble.join('\n') || '(empty)'}`;
      return { page, token, requests, explain };
    }

    /** Adds files as a user would: through the Dashboard's (hidden) file input. */
    async function addFiles(page: Page, files: Picked[]): Promise<void> {
      await page.locator('input.uppy-Dashboard-input[name="files[]"]').first().setInputFiles(files);
      await page.waitForFunction((count) => (window as unknown as { uppy: { getFiles(): unknown[] } }).uppy.getFiles().length === count, files.length);
    }

    async function uploadAndWait(page: Page): Promise<{ successful: Described[]; failed: Described[] }> {
      await page.click('.uppy-StatusBar-actionBtn--upload');
      await page.waitForFunction(() => 'uppyResult' in window);
      return page.evaluate(() => (window as unknown as { uppyResult: { successful: Described[]; failed: Described[] } }).uppyResult);
    }

    async function listFiles(token: string) {
      const response = await server.api('/v1/files', { token });
      assert.equal(response.status, 200);
      return ((await response.json()) as { files: { id: string; filename: string; size: number; url: string; sha256: string | null }[] }).files;
    }

    async function assertStored(token: string, successful: Described[], picked: Picked[]): Promise<void> {
      const listed = await listFiles(token);
      for (const file of picked) {
        const entry = listed.find((candidate) => candidate.filename === file.name);
        assert.ok(entry, `${file.name} is listed by the API`);
        assert.equal(entry.size, file.buffer.length, `${file.name}: size`);
        const bytes = Buffer.from(await (await fetch(entry.url)).arrayBuffer());
        assert.equal(sha256(bytes), sha256(file.buffer), `${file.name}: the bytes at its URL are the file's`);
        // Uppy's file carries the stored file, as the API answered complete.
        const uppyFile = successful.find((candidate) => candidate.name === file.name);
        assert.equal(uppyFile?.stored?.id, entry.id, `${file.name}: file.response.body is the stored file`);
        assert.equal(uppyFile?.uploadURL, entry.url);
      }
    }

    /** Requests that sent bytes: to storage only; the API got small JSON bodies. */
    function assertBytesWentToStorage(requests: Recorded[]): void {
      for (const request of requests.filter((entry) => new URL(entry.url).pathname.startsWith('/v1/'))) {
        assert.ok(request.bodySize < 4096, `${request.method} ${request.url} carried ${request.bodySize} bytes to the API`);
      }
      for (const request of requests.filter((entry) => entry.method === 'PUT' || (entry.method === 'POST' && !new URL(entry.url).pathname.startsWith('/v1/')))) {
        assert.ok(request.url.startsWith(storageBase), `${request.method} ${request.url} goes to storage (${storageBase})`);
      }
    }

    const partNumber = (request: Recorded) => Number(new URL(request.url).searchParams.get('partNumber')) || 0;
    const apiCalls = (requests: Recorded[], method: string, pattern: RegExp) =>
      requests.filter((entry) => entry.method === method && pattern.test(new URL(entry.url).pathname));

    it('sends a small file in one signed PUT and a large one in parts, straight to storage, and shows the route refusing a file', async () => {
      const { page, token, requests, explain } = await openPage('photos');
      const small = png('small.png', 300_000);
      const big = png('big.png', 16 * MiB + 4321);
      const refused: Picked = { name: 'anim.gif', mimeType: 'image/gif', buffer: Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1') };
      await addFiles(page, [small, big, refused]);
      const { successful, failed } = await uploadAndWait(page);

      assert.deepEqual(successful.map((file) => file.name).sort(), ['big.png', 'small.png'], explain(JSON.stringify(failed)));
      await assertStored(token, successful, [small, big]);

      // The refusal is the API's own: its code on the error, its sentence on the file and in the Dashboard.
      const answer = await server.api('/v1/uploads', { token, json: { route: 'photos', filename: 'anim.gif', contentType: 'image/gif', size: refused.buffer.length } });
      const problem = (await answer.json()) as { code: string; detail: string };
      assert.equal(problem.code, 'type_not_allowed');
      assert.deepEqual(failed.map((file) => [file.name, file.error]), [['anim.gif', problem.detail]]);
      const errors = await page.evaluate(() => (window as unknown as { uppyErrors: unknown[] }).uppyErrors);
      assert.deepEqual(errors, [{ name: 'anim.gif', code: 'type_not_allowed', message: problem.detail }]);
      assert.equal(await page.getAttribute('.uppy-Dashboard-Item-errorDetails', 'aria-label'), problem.detail);

      // One PUT of the small file, and the big one's 4 parts, all to storage; created, signed and completed through the API.
      const puts = requests.filter((entry) => entry.method === 'PUT');
      assert.deepEqual(puts.filter((entry) => !partNumber(entry)).length, 1, 'one single PUT');
      assert.deepEqual(puts.map(partNumber).filter(Boolean).sort(), [1, 2, 3, 4]);
      assert.ok(puts.every((entry) => entry.status === 200), JSON.stringify(puts));
      assertBytesWentToStorage(requests);
      assert.equal(apiCalls(requests, 'POST', /^\/v1\/uploads$/).length, 3);
      assert.equal(apiCalls(requests, 'POST', /^\/v1\/uploads\/[^/]+\/parts$/).length, 4);
      assert.equal(apiCalls(requests, 'POST', /^\/v1\/uploads\/[^/]+\/complete$/).length, 2);
      // The token function is asked before every API call.
      assert.equal(await page.evaluate(() => (window as unknown as { tokenCalls(): number }).tokenCalls()), requests.filter((entry) => new URL(entry.url).pathname.startsWith('/v1/')).length);
    });

    it('sends a file in the POST policy form a route requires', async () => {
      const { page, token, requests, explain } = await openPage('scans');
      const scan = png('scan.png', 200_000);
      await addFiles(page, [scan]);
      const { successful, failed } = await uploadAndWait(page);
      assert.deepEqual(successful.map((file) => file.name), ['scan.png'], explain(JSON.stringify(failed)));
      await assertStored(token, successful, [scan]);
      const posts = requests.filter((entry) => entry.method === 'POST' && entry.url.startsWith(storageBase));
      assert.equal(posts.length, 1, JSON.stringify(requests));
      assert.equal(posts[0]!.status, 204);
      assert.equal(requests.filter((entry) => entry.method === 'PUT').length, 0);
      assertBytesWentToStorage(requests);
    });

    /** Waits until `condition()` holds; a broken upload then fails the test instead of hanging it. */
    async function until(condition: () => boolean, what: string): Promise<void> {
      const deadline = Date.now() + 60_000;
      while (!condition()) {
        if (Date.now() > deadline) throw new Error(`Gave up waiting for ${what}`);
        await sleep(20);
      }
    }

    const landedParts = (requests: Recorded[]) => requests.filter((entry) => partNumber(entry) && entry.status === 200).map(partNumber);

    it('pauses a multipart upload and resumes it, sending only the parts storage lacks', async () => {
      const { page, token, requests, explain } = await openPage('photos');
      const big = png('paused.png', 16 * MiB + 99);
      await limitUploadSpeed(page, 4 * MiB);
      await addFiles(page, [big]);
      await page.click('.uppy-StatusBar-actionBtn--upload');
      await until(() => landedParts(requests).length > 0, 'a part to land');
      await page.click('[data-cy="togglePauseResume"]');
      await page.waitForFunction(() => (window as unknown as { uppy: { getFiles(): { isPaused?: boolean }[] } }).uppy.getFiles()[0]?.isPaused === true);
      const landedBeforePause = new Set(landedParts(requests));
      const askedBefore = apiCalls(requests, 'GET', /^\/v1\/uploads\/[^/]+$/).length;
      await page.click('[data-cy="togglePauseResume"]');
      await page.waitForFunction(() => 'uppyResult' in window);
      const { successful, failed } = await page.evaluate(() => (window as unknown as { uppyResult: { successful: Described[]; failed: Described[] } }).uppyResult);
      assert.deepEqual(successful.map((file) => file.name), ['paused.png'], explain(JSON.stringify(failed)));
      await assertStored(token, successful, [big]);
      // Resuming asked Upfront which parts storage holds (Uppy's ListParts), and sent each of those only once.
      assert.ok(apiCalls(requests, 'GET', /^\/v1\/uploads\/[^/]+$/).length > askedBefore, 'the resume listed the stored parts');
      assert.deepEqual([...new Set(landedParts(requests))].sort(), [1, 2, 3, 4]);
      for (const part of landedBeforePause) {
        assert.equal(requests.filter((entry) => partNumber(entry) === part).length, 1, `part ${part} landed before the pause and was not sent again`);
      }
      assertBytesWentToStorage(requests);
    });

    it('cancels a multipart upload: Upfront aborts it and stores nothing', async () => {
      const { page, token, requests } = await openPage('photos');
      await limitUploadSpeed(page, 4 * MiB);
      await addFiles(page, [png('cancelled.png', 16 * MiB + 7)]);
      await page.click('.uppy-StatusBar-actionBtn--upload');
      await until(() => landedParts(requests).length > 0, 'a part to land');
      await page.click('[data-cy="cancel"]');
      const deletes = () => apiCalls(requests, 'DELETE', /^\/v1\/uploads\/[^/]+$/);
      await until(() => deletes().some((entry) => entry.status === 204), 'the abort');
      const id = decodeURIComponent(new URL(deletes()[0]!.url).pathname.split('/')[3]!);
      const upload = (await (await server.api(`/v1/uploads/${encodeURIComponent(id)}`, { token })).json()) as { state: string; filename: string };
      assert.deepEqual([upload.filename, upload.state], ['cancelled.png', 'aborted']);
      assert.equal(deletes().length, 1, 'aborted once, though both Uppy and the removed file ask');
      assert.deepEqual(await listFiles(token), []);
      assertBytesWentToStorage(requests);
    });
  });
}
