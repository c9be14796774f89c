/**
 * @upfront/react in real headless Chromium against a real API, once per storage driver: a page
 * (pages/react-app.tsx, bundled here with esbuild from the sources, React in development mode) uploads
 * real PNGs through useUpload() and a useUploads() queue behind <UploadDropzone>: every stage in order,
 * pause/resume, cancel (aborted on the server too), a refused file's code and sentence, the dropzone
 * worked by keyboard and by a drop, and what its live region says.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { build, type BuildOptions } from 'esbuild';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, recordPageTrouble, limitUploadSpeed, dropFiles } from '../support/browser.ts';
import { makePng } from '../support/png.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** index.html, app.js (the page with React and @upfront/react from sources) and hash-worker.js next to it. */
async function buildPage(dir: string): Promise<void> {
  const common: BuildOptions = { bundle: true, conditions: ['upfront-source'], platform: 'browser', target: 'es2022', logLevel: 'warning' };
  await build({ ...common, entryPoints: [source('./pages/react-app.tsx')], outfile: join(dir, 'app.js'), format: 'esm', jsx: 'automatic', define: { 'process.env.NODE_ENV': '"development"' } });
  await build({ ...common, entryPoints: [source('../../packages/client/src/hash-worker.ts')], outfile: join(dir, 'hash-worker.js'), format: 'iife', minify: true });
  await writeFile(join(dir, 'index.html'), '<!doctype html><html lang="en"><title>react test</title><div id="root"></div><script type="module" src="/app.js"></script>');
}

const pngFile = (name: string, minBytes = 40_000) => ({ name, mimeType: 'image/png', buffer: makePng({ minBytes }) });
const stateOf = (page: Page) => page.getAttribute('#single', 'data-state');

let browser: Browser;
let pageDir: string;

before(async () => {
  pageDir = await mkdtemp(join(tmpdir(), 'upfront-react-page-'));
  await buildPage(pageDir);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  if (pageDir) await rm(pageDir, { recursive: true, force: true });
});

for (const driver of ['disk', 's3'] as const) {
  describe(`@upfront/react in headless Chromium (${driver} storage)`, () => {
    let server: TestServer;
    let token: string;
    let context: BrowserContext;
    let page: Page;
    let trouble: string[];
    const explain = (what: string) => `${what}\nbrowser log:\n${trouble.join('\n') || '(empty)'}`;
    const upload = async (id: string) => (await server.api(`/v1/uploads/${id}`, { token })).json() as Promise<{ state: string }>;

    before(async () => {
      server = await startTestServer({ driver, staticDir: pageDir });
      token = await server.token(`react-${randomUUID().slice(0, 8)}`);
      context = await browser.newContext();
      context.setDefaultTimeout(20_000);
      page = await context.newPage();
      trouble = recordPageTrouble(page);
      // File chooser interception is switched on by the first listener, asynchronously: switch it on now,
      // not in a race with the key press that opens the picker.
      page.on('filechooser', () => {});
      await page.goto(`${server.url}/#${encodeURIComponent(token)}`);
      await page.waitForSelector('#single[data-state="idle"]');
    });

    after(async () => {
      await context?.close();
      await server?.close();
    });

    it('useUpload goes idle → starting → uploading → finishing → done, and gives the stored file', async () => {
      const png = pngFile('cat.png', 300_000);
      const lift = await limitUploadSpeed(page, 512 * 1024);
      try {
        await page.setInputFiles('#single-input', png);
        await page.waitForSelector('#single[data-state="done"], #single[data-state="error"]');
      } finally {
        await lift();
      }
      assert.equal(await stateOf(page), 'done', explain(`upload failed: ${await page.textContent('#single-error')}`));
      assert.deepEqual(await page.evaluate(() => (window as unknown as { stagesSeen: string[] }).stagesSeen), ['idle', 'starting', 'uploading', 'finishing', 'done']);
      assert.equal(await page.getAttribute('#single-progress', 'value'), '100');
      const id = (await page.getAttribute('#single-file', 'data-id'))!;
      const stored = (await (await server.api(`/v1/files/${id}`, { token })).json()) as { filename: string; size: number };
      assert.deepEqual([stored.filename, stored.size], ['cat.png', png.buffer.length]);
    });

    it('pauses an upload in flight (its request is cut) and resumes it to the end', async () => {
      const lift = await limitUploadSpeed(page, 64 * 1024);
      try {
        await page.setInputFiles('#single-input', pngFile('slow.png', 400_000));
        await page.waitForFunction(() => Number(document.getElementById('single')?.dataset.loaded) > 0);
        const cut = page.waitForEvent('requestfailed', (request) => !new URL(request.url()).pathname.startsWith('/v1/'));
        await page.click('#single-pause');
        await page.waitForSelector('#single[data-paused="true"]');
        assert.equal((await cut).failure()?.errorText, 'net::ERR_ABORTED', explain('the request in flight is cut at the pause'));
        assert.equal(await stateOf(page), 'uploading');
      } finally {
        await lift();
      }
      await page.click('#single-resume');
      await page.waitForSelector('#single[data-state="done"], #single[data-state="error"]');
      assert.equal(await stateOf(page), 'done', explain(`${await page.textContent('#single-error')}`));
      assert.equal(await page.getAttribute('#single', 'data-paused'), 'false');
    });

    it('cancels an upload in flight: error `aborted`, and the upload is aborted on the server', async () => {
      const lift = await limitUploadSpeed(page, 64 * 1024);
      try {
        await page.setInputFiles('#single-input', pngFile('cancelled.png', 400_000));
        await page.waitForFunction(() => Number(document.getElementById('single')?.dataset.loaded) > 0);
        await page.click('#single-cancel');
        await page.waitForSelector('#single[data-state="error"]');
      } finally {
        await lift();
      }
      assert.equal(await page.getAttribute('#single-error', 'data-code'), 'aborted');
      assert.equal(await page.textContent('#single-error'), 'The upload was cancelled.');
      const id = (await page.getAttribute('#single', 'data-upload-id'))!;
      assert.equal((await upload(id)).state, 'aborted');
    });

    it('a refused file ends in its error code and a sentence', async () => {
      const text = Buffer.from('This is plain text pretending to be a picture.\n'.repeat(40));
      await page.setInputFiles('#single-input', { name: 'notes.png', mimeType: 'image/png', buffer: text });
      await page.waitForSelector('#single[data-state="error"]');
      assert.equal(await page.getAttribute('#single-error', 'data-code'), 'content_type_mismatch');
      const detail = (await page.textContent('#single-error')) ?? '';
      assert.ok(detail.length > 20 && /\.$/.test(detail), `a sentence: "${detail}"`);
    });

    it('the dropzone works by keyboard (Tab, Enter), and its live region says how the uploads stand', async () => {
      await page.evaluate(() => {
        const seen: string[] = [];
        Object.assign(window, { statusSeen: seen });
        const status = document.querySelector('#queue [role="status"]')!;
        new MutationObserver(() => seen.push(status.textContent ?? '')).observe(status, { childList: true, characterData: true, subtree: true });
      });
      const button = page.getByRole('button', { name: 'Choose files or drop them here' });
      assert.equal(await button.getAttribute('aria-describedby'), await page.locator('#queue [role="status"]').getAttribute('id'));
      assert.equal(await page.locator('#queue [role="status"]').getAttribute('aria-live'), 'polite');

      // Tab from the element before it reaches the button: it is in the tab order.
      await page.focus('#single-cancel');
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement?.className), 'upfront-dropzone-button');
      const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.keyboard.press('Enter')]);
      assert.equal(chooser.isMultiple(), true);
      const files = [pngFile('one.png'), pngFile('two.png', 60_000)];
      await chooser.setFiles(files);
      await page.waitForFunction(() => document.getElementById('queue-total')?.dataset.done === '2');
      await page.waitForFunction(() => document.querySelector('#queue [role="status"]')?.textContent === 'Uploaded 2 files.');
      const said = await page.evaluate(() => (window as unknown as { statusSeen: string[] }).statusSeen);
      assert.equal(said[0], 'Uploading 2 files.', `live region said: ${said.join(' | ')}`);
      assert.equal(said.at(-1), 'Uploaded 2 files.');
      const size = String(files[0]!.buffer.length + files[1]!.buffer.length);
      assert.deepEqual(await page.$eval('#queue-total', (total) => [(total as HTMLElement).dataset.loaded, (total as HTMLElement).dataset.total]), [size, size]);
      const ids = await page.$$eval('#queue-items li', (items) => items.map((item) => item.getAttribute('data-file-id')));
      for (const id of ids) assert.equal((await server.api(`/v1/files/${id}`, { token })).status, 200);

      // Space opens the picker too.
      const [again] = await Promise.all([page.waitForEvent('filechooser'), page.keyboard.press('Space')]);
      await again.setFiles([]);
    });

    it('takes dropped files, and says why one was refused', async () => {
      await dropFiles(page.locator('.upfront-dropzone'), [
        { name: 'dropped.png', mimeType: 'image/png', buffer: makePng({ minBytes: 30_000 }) },
        { name: 'fake.png', mimeType: 'image/png', buffer: Buffer.from('not a picture at all, just words. '.repeat(20)) },
      ]);
      await page.waitForFunction(() => {
        const states = [...document.querySelectorAll<HTMLElement>('#queue-items li')].slice(2).map((item) => item.dataset.state);
        return states.length === 2 && states.every((state) => state === 'done' || state === 'error');
      });
      const states = await page.$$eval('#queue-items li', (items) => items.slice(2).map((item) => [item.dataset.name, item.dataset.state]));
      assert.deepEqual(states, [['dropped.png', 'done'], ['fake.png', 'error']], explain('dropped files'));
      const status = (await page.textContent('#queue [role="status"]')) ?? '';
      assert.match(status, /^Uploaded 3 files, 1 failed\. fake\.png failed: .{20,}$/);
    });

    it('the page logged no errors or React warnings (failed requests aside)', () => {
      const logged = trouble.filter((line) => line.startsWith('page error') || (line.startsWith('console.') && !line.includes('Failed to load resource')));
      assert.deepEqual(logged, []);
    });
  });
}
