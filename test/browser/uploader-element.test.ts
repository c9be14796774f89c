/**
 * <upfront-uploader> in real headless Chromium against a real API, once per storage driver: a plain
 * HTML page with the standalone bundle's script tag (built here by scripts/build-uploader.ts, the
 * hashing worker inside) and the element. Files picked by keyboard and dropped, with per-file and total
 * progress and the CustomEvents; pause/resume; cancel (aborted on the server); a refused file's error
 * in words; the token as an attribute, a property function, and missing.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildUploader } from '../../scripts/build-uploader.ts';
import { launchBrowser, recordPageTrouble, limitUploadSpeed, dropFiles } from '../support/browser.ts';
import { makePng } from '../support/png.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

interface Seen {
  type: string;
  name: string;
  state: string;
  loaded: number;
  total: number;
  code?: string;
  fileId?: string;
  uploadId?: string;
}

const pngFile = (name: string, minBytes = 40_000) => ({ name, mimeType: 'image/png', buffer: makePng({ minBytes }) });
/** An item's row (Playwright's CSS locators pierce the open shadow root). */
const row = (page: Page, name: string) => page.locator('upfront-uploader li', { hasText: name });

/** Waits until every file of the element is done or failed. */
const settled = (page: Page, count: number) =>
  page.waitForFunction((n) => {
    const states = [...document.querySelector('upfront-uploader')!.shadowRoot!.querySelectorAll<HTMLElement>('li')].map((li) => li.dataset.state);
    return states.length === n && states.every((state) => state === 'done' || state === 'error');
  }, count);

let browser: Browser;
let pageDir: string;

before(async () => {
  pageDir = await mkdtemp(join(tmpdir(), 'upfront-uploader-page-'));
  await buildUploader(join(pageDir, 'upfront-uploader.js'));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  if (pageDir) await rm(pageDir, { recursive: true, force: true });
});

for (const driver of ['disk', 's3'] as const) {
  describe(`<upfront-uploader> in headless Chromium (${driver} storage)`, () => {
    let server: TestServer;
    let token: string;
    let context: BrowserContext;
    let page: Page;
    let trouble: string[];
    const explain = (what: string) => `${what}\nbrowser log:\n${trouble.join('\n') || '(empty)'}`;
    const seen = (): Promise<Seen[]> => page.evaluate(() => (window as unknown as { seen: Seen[] }).seen);

    before(async () => {
      server = await startTestServer({ driver, staticDir: pageDir });
      token = await server.token(`element-${randomUUID().slice(0, 8)}`);
      // The page as a site would write it: one script tag and the element.
      await writeFile(
        join(pageDir, `${driver}.html`),
        `<!doctype html>\n<html lang="en"><title>Uploads</title>\n<script src="/upfront-uploader.js"></script>\n` +
          `<upfront-uploader endpoint="${server.url}" route="image" token="${token}" accept="image/png" multiple>Add pictures</upfront-uploader>\n`,
      );
      context = await browser.newContext();
      context.setDefaultTimeout(20_000);
      page = await context.newPage();
      trouble = recordPageTrouble(page);
      // File chooser interception is switched on by the first listener, asynchronously: switch it on now,
      // not in a race with the key press that opens the picker.
      page.on('filechooser', () => {});
      await page.goto(`${server.url}/${driver}.html`);
      await page.evaluate(() => {
        const seen: unknown[] = [];
        Object.assign(window, { seen });
        for (const type of ['upfront-progress', 'upfront-done', 'upfront-error']) {
          document.addEventListener(type, (event) => {
            const { item } = (event as CustomEvent).detail;
            seen.push({ type, name: item.name, state: item.state, loaded: item.loaded, total: item.total, code: item.error?.code, fileId: item.file?.id, uploadId: item.uploadId });
          });
        }
      });
    });

    after(async () => {
      await context?.close();
      await server?.close();
    });

    it('takes files by keyboard (Tab, Enter on its button), with per-file and total progress and events', async () => {
      const button = page.getByRole('button', { name: 'Add pictures' });
      await page.keyboard.press('Tab');
      assert.equal(await button.evaluate((node) => node === (node.getRootNode() as ShadowRoot).activeElement), true, 'the button is the first tab stop');
      assert.equal(await page.getByRole('status').getAttribute('aria-live'), 'polite');
      const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.keyboard.press('Enter')]);
      assert.equal(chooser.isMultiple(), true);
      const files = [pngFile('one.png', 200_000), pngFile('two.png', 300_000)];
      const lift = await limitUploadSpeed(page, 512 * 1024);
      try {
        await chooser.setFiles(files);
        await page.waitForFunction(() => document.querySelector('upfront-uploader')!.shadowRoot!.querySelector('[role=status]')!.textContent === 'Uploading 2 files.');
        await settled(page, 2);
      } finally {
        await lift();
      }
      assert.equal(await page.getByRole('status').textContent(), 'Uploaded 2 files.', explain('both uploaded'));
      for (const [index, file] of files.entries()) {
        assert.equal(await row(page, file.name).getAttribute('data-state'), 'done');
        assert.equal(await row(page, file.name).locator('[part~=percent]').textContent(), '100%');
        const events = (await seen()).filter((event) => event.name === file.name);
        const progress = events.filter((event) => event.type === 'upfront-progress');
        assert.deepEqual(
          progress.map((event) => event.loaded),
          [...progress.map((event) => event.loaded)].sort((a, b) => a - b),
          'progress never goes backwards',
        );
        assert.ok(progress.some((event) => event.loaded > 0 && event.loaded < file.buffer.length), `${file.name} reported progress on the way`);
        const done = events.filter((event) => event.type === 'upfront-done');
        assert.equal(done.length, 1);
        const stored = (await (await server.api(`/v1/files/${done[0]!.fileId}`, { token })).json()) as { filename: string; size: number };
        assert.deepEqual([stored.filename, stored.size], [file.name, files[index]!.buffer.length]);
      }
      const total = page.getByRole('progressbar', { name: 'All files' });
      const size = files[0]!.buffer.length + files[1]!.buffer.length;
      assert.deepEqual([Number(await total.getAttribute('max')), await total.evaluate((bar) => (bar as HTMLProgressElement).value)], [size, size]);
    });

    it('pauses an upload in flight (its request is cut) and resumes it', async () => {
      const lift = await limitUploadSpeed(page, 64 * 1024);
      try {
        await page.setInputFiles('upfront-uploader input[type=file]', pngFile('slow.png', 400_000));
        await page.waitForFunction(() => [...(window as unknown as { seen: Seen[] }).seen].some((event) => event.name === 'slow.png' && event.loaded > 0));
        const cut = page.waitForEvent('requestfailed', (request) => !new URL(request.url()).pathname.startsWith('/v1/'));
        await page.getByRole('button', { name: 'Pause slow.png' }).click();
        assert.equal((await cut).failure()?.errorText, 'net::ERR_ABORTED', explain('the request in flight is cut'));
        assert.match((await row(page, 'slow.png').getAttribute('part')) ?? '', /item-paused/);
      } finally {
        await lift();
      }
      await page.getByRole('button', { name: 'Resume slow.png' }).click();
      await settled(page, 3);
      assert.equal(await row(page, 'slow.png').getAttribute('data-state'), 'done', explain('resumed'));
    });

    it('cancels an upload in flight: an `aborted` error event, in words, and aborted on the server', async () => {
      const lift = await limitUploadSpeed(page, 64 * 1024);
      try {
        await page.setInputFiles('upfront-uploader input[type=file]', pngFile('cancelled.png', 400_000));
        await page.waitForFunction(() => [...(window as unknown as { seen: Seen[] }).seen].some((event) => event.name === 'cancelled.png' && event.loaded > 0));
        await page.getByRole('button', { name: 'Cancel cancelled.png' }).click();
        await settled(page, 4);
      } finally {
        await lift();
      }
      const [error] = (await seen()).filter((event) => event.type === 'upfront-error' && event.name === 'cancelled.png');
      assert.equal(error?.code, 'aborted');
      assert.equal(await row(page, 'cancelled.png').locator('[part~=error]').textContent(), 'The upload was cancelled.');
      assert.equal(await page.getByRole('status').textContent(), 'Uploaded 3 files, 1 failed. cancelled.png was cancelled.');
      const onServer = (await (await server.api(`/v1/uploads/${error!.uploadId}`, { token })).json()) as { state: string };
      assert.equal(onServer.state, 'aborted');
      const retry = page.getByRole('button', { name: 'Retry cancelled.png' });
      assert.equal(await retry.isVisible(), true);
      assert.equal(await retry.evaluate((node) => node === (node.getRootNode() as ShadowRoot).activeElement), true, 'focus moved from Cancel to Retry');
      assert.equal(await page.getByRole('button', { name: 'Cancel cancelled.png' }).isVisible(), false);

      // Retry by keyboard (focus is on it): uploaded after all.
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => document.querySelector('upfront-uploader')!.shadowRoot!.querySelector('li:nth-child(4)')?.getAttribute('data-state') === 'done');
      assert.equal(await page.getByRole('status').textContent(), 'Uploaded 4 files.');
    });

    it('takes dropped files and says in words why one was refused', async () => {
      await dropFiles(page.locator('upfront-uploader [part~=dropzone]'), [
        { name: 'dropped.png', mimeType: 'image/png', buffer: makePng({ minBytes: 30_000 }) },
        { name: 'fake.png', mimeType: 'image/png', buffer: Buffer.from('plain words, not a picture. '.repeat(20)) },
      ]);
      await settled(page, 6);
      assert.equal(await row(page, 'dropped.png').getAttribute('data-state'), 'done');
      assert.equal(await row(page, 'fake.png').getAttribute('data-state'), 'error');
      const [error] = (await seen()).filter((event) => event.type === 'upfront-error' && event.name === 'fake.png');
      assert.equal(error?.code, 'content_type_mismatch');
      const words = (await row(page, 'fake.png').locator('[part~=error]').textContent()) ?? '';
      assert.ok(words.length > 20 && words.endsWith('.'), `in words: "${words}"`);
      assert.equal(await page.getByRole('status').textContent(), `Uploaded 5 files, 1 failed. fake.png failed: ${words}`);
    });

    it('takes the token as a property function, and says so when there is none', async () => {
      await page.evaluate((value) => {
        const uploader = document.querySelector('upfront-uploader') as HTMLElement & { token: unknown; queue: { clearFinished(): void } };
        uploader.queue.clearFinished();
        uploader.removeAttribute('token');
        uploader.token = () => Promise.resolve(value);
      }, token);
      await page.setInputFiles('upfront-uploader input[type=file]', pngFile('by-function.png'));
      await settled(page, 1);
      assert.equal(await row(page, 'by-function.png').getAttribute('data-state'), 'done');

      await page.evaluate(() => {
        const uploader = document.querySelector('upfront-uploader') as HTMLElement & { token: unknown; queue: { clearFinished(): void } };
        uploader.queue.clearFinished();
        uploader.token = undefined;
      });
      await page.setInputFiles('upfront-uploader input[type=file]', pngFile('no-token.png'));
      await settled(page, 1);
      assert.equal(await row(page, 'no-token.png').locator('[part~=error]').textContent(), 'The uploader has no token: set its token property or attribute.');
      // A token set on the element before it was upgraded (made in another document, adopted here) still counts.
      const outcome = await page.evaluate(
        async ({ value, endpoint }) => {
          const late = document.implementation.createHTMLDocument('').createElement('upfront-uploader') as HTMLElement & { token: unknown; add(files: File[]): void };
          late.token = () => value;
          late.setAttribute('endpoint', endpoint);
          late.setAttribute('route', 'image');
          document.body.append(document.adoptNode(late));
          const settled = new Promise<string>((resolve) => {
            late.addEventListener('upfront-done', () => resolve('done'));
            late.addEventListener('upfront-error', (event) => resolve((event as CustomEvent).detail.item.error.detail));
          });
          const dot = Uint8Array.from(atob('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='), (char) => char.charCodeAt(0));
          late.add([new File([dot], 'late.png', { type: 'image/png' })]);
          const result = await settled;
          late.remove();
          return result;
        },
        { value: token, endpoint: server.url },
      );
      assert.equal(outcome, 'done');
    });

    it('the page logged no errors (failed requests aside)', () => {
      const logged = trouble.filter((line) => line.startsWith('page error') || (line.startsWith('console.') && !line.includes('Failed to load resource')));
      assert.deepEqual(logged, []);
    });
  });
}
