/**
 * The demo page in real headless Chromium against a real API server, once per storage driver:
 * sign in, upload a real PNG straight to storage (signed PUT) with progress, see it listed and
 * loading, be told precisely why a text file named .png is refused, upload a PDF with a POST policy
 * form to a private route, cancel an upload in flight, and delete a file.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildWeb } from '../../apps/web/build.ts';
import { launchBrowser, recordPageTrouble, signIn } from '../support/browser.ts';
import { makePng } from '../support/png.ts';
import { startTestServer } from '../support/server.ts';

/** A tiny one-page PDF: enough for magic-byte sniffing and for lenient readers. */
const MINIMAL_PDF = [
  '%PDF-1.4',
  '1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj',
  '2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj',
  '3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >> endobj',
  'trailer << /Root 1 0 R >>',
  '%%EOF',
  '',
].join('\n');

let browser: Browser;

before(async () => {
  await buildWeb();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

/** Keeps every value the progress bar takes (its `value` attribute reflects the property). */
async function recordProgress(page: Page): Promise<void> {
  await page.evaluate(() => {
    const bar = document.getElementById('upload-progress')!;
    const seen: string[] = [];
    Object.assign(window, { progressSeen: seen });
    new MutationObserver((records) => {
      for (const record of records) seen.push(record.oldValue ?? '');
    }).observe(bar, { attributes: true, attributeFilter: ['value'], attributeOldValue: true });
  });
}

async function progressValues(page: Page): Promise<number[]> {
  return page.evaluate(() => {
    const seen = (window as unknown as { progressSeen: string[] }).progressSeen;
    return [...seen.slice(1), document.getElementById('upload-progress')!.getAttribute('value') ?? ''].map(Number);
  });
}

/**
 * Slows this page's uploads (DevTools network emulation) so a few hundred KB take a second or two
 * and the browser fires real intermediate progress events even on localhost. The limit lasts as long
 * as the DevTools session; the returned function lifts it.
 */
async function limitUploadSpeed(context: BrowserContext, page: Page, bytesPerSecond: number): Promise<() => Promise<void>> {
  const devtools = await context.newCDPSession(page);
  await devtools.send('Network.enable');
  await devtools.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: bytesPerSecond });
  return () => devtools.detach();
}

/** Waits until the page reports the upload of `filename` as done, or any upload as failed. */
async function waitForOutcome(page: Page, filename: string): Promise<string> {
  await page.waitForFunction((name) => {
    const state = document.getElementById('upload-status')?.dataset.state;
    const message = document.getElementById('upload-message')?.textContent ?? '';
    return state === 'error' || state === 'aborted' || (state === 'success' && message.includes(name));
  }, filename);
  return page.$eval('#upload-status', (status) => (status as HTMLElement).dataset.state ?? '');
}

async function pageError(page: Page): Promise<string> {
  return page.$eval('#upload-error', (error) => (error as HTMLElement).innerText);
}

/** Waits for an <img> to finish (load or fail) and returns its decoded width (0 when it failed). */
async function loadedWidth(page: Page, selector: string): Promise<number> {
  await page.waitForFunction((css) => {
    const image = document.querySelector<HTMLImageElement>(css);
    return image !== null && image.complete;
  }, selector);
  return page.$eval(selector, (image) => (image as HTMLImageElement).naturalWidth);
}

for (const driver of ['disk', 's3'] as const) {
  describe(`web page uploads in headless Chromium (${driver} storage)`, () => {
    let server: { url: string; close(): Promise<void> };
    let context: BrowserContext;
    let page: Page;
    let trouble: string[];
    const explain = (what: string) => `${what}\nbrowser log:\n${trouble.join('\n') || '(empty)'}`;

    before(async () => {
      server = await startTestServer({ driver, web: true });
      context = await browser.newContext();
      context.setDefaultTimeout(20_000);
      page = await context.newPage();
      trouble = recordPageTrouble(page);
      await page.goto(server.url);
      await signIn(page, `user-${randomUUID().slice(0, 8)}`);
    });

    after(async () => {
      await context?.close();
      await server?.close();
    });

    it('uploads a real PNG with progress, shows it, lists it, and the image loads', async (t) => {
      const png = makePng({ width: 64, height: 64, minBytes: 400_000 });
      await page.selectOption('#route-select', 'image');
      await recordProgress(page);
      const liftSpeedLimit = await limitUploadSpeed(context, page, 256 * 1024);
      let state: string;
      try {
        await page.setInputFiles('#file-input', { name: 'cat.png', mimeType: 'image/png', buffer: png });
        state = await waitForOutcome(page, 'cat.png');
      } finally {
        await liftSpeedLimit();
      }
      assert.equal(state, 'success', explain(`upload failed: ${await pageError(page)}`));

      const values = await progressValues(page);
      t.diagnostic(`progress values: ${values.join(', ')}`);
      assert.equal(values.at(-1), 100, `progress ended at ${values.at(-1)}`);
      assert.ok(values.some((value) => value > 0 && value < 100), 'the bar moved through intermediate values');
      assert.deepEqual([...values].sort((a, b) => a - b), values, 'progress never goes backwards');
      assert.ok(values.every((value) => value >= 0 && value <= 100));
      assert.equal(await page.textContent('#upload-percent'), '100%');

      assert.match((await page.textContent('#upload-message')) ?? '', /^Uploaded cat\.png \(\d+ KB\)\.$/);
      const fileUrl = await page.getAttribute('#upload-link', 'href');
      assert.ok(fileUrl, 'the result links to the file');
      assert.equal(await loadedWidth(page, '#upload-thumb'), 64, explain(`thumbnail ${fileUrl} did not load`));

      const item = page.locator('#file-list li', { hasText: 'cat.png' });
      await item.waitFor();
      assert.equal(await item.locator('a').getAttribute('href'), fileUrl);
      const id = await item.getAttribute('data-file-id');
      assert.equal(await loadedWidth(page, `#file-list li[data-file-id="${id}"] img`), 64, explain(`listed image ${fileUrl} did not load`));
    });

    it('explains that a text file named .png is not a PNG', async () => {
      const text = Buffer.from('This is plain text pretending to be a picture.\n'.repeat(40));
      await page.setInputFiles('#file-input', { name: 'notes.png', mimeType: 'image/png', buffer: text });

      const state = await waitForOutcome(page, 'notes.png');
      assert.equal(state, 'error', explain('a text file was accepted as a PNG'));
      assert.equal(await page.textContent('#upload-error-code'), 'content_type_mismatch', explain(await pageError(page)));
      const detail = (await page.textContent('#upload-error-detail')) ?? '';
      assert.ok(detail.trim().length > 10, `the page shows a sentence, not just a code: "${detail}"`);
      assert.ok(await page.isVisible('#upload-error'));
      assert.equal(await page.locator('#file-list li', { hasText: 'notes.png' }).count(), 0);
    });

    it('uploads a PDF through a POST policy form to the private route, and its signed link downloads it', async () => {
      const pdf = Buffer.from(MINIMAL_PDF, 'latin1');
      await page.selectOption('#route-select', 'document');
      await page.setInputFiles('#file-input', { name: 'report.pdf', mimeType: 'application/pdf', buffer: pdf });

      const state = await waitForOutcome(page, 'report.pdf');
      assert.equal(state, 'success', explain(`upload failed: ${await pageError(page)}`));
      const item = page.locator('#file-list li', { hasText: 'report.pdf' });
      await item.waitFor();
      assert.match((await item.textContent()) ?? '', /private/);

      const signedUrl = await item.locator('a').getAttribute('href');
      assert.ok(signedUrl);
      const download = await fetch(signedUrl);
      assert.equal(download.status, 200, `GET ${signedUrl}`);
      assert.deepEqual(Buffer.from(await download.arrayBuffer()), pdf);
      await page.selectOption('#route-select', 'image');
    });

    it('cancels an upload in flight', async () => {
      const liftSpeedLimit = await limitUploadSpeed(context, page, 64 * 1024);
      try {
        await page.setInputFiles('#file-input', { name: 'slow.png', mimeType: 'image/png', buffer: makePng({ minBytes: 400_000 }) });
        await page.waitForFunction(() => Number(document.getElementById('upload-progress')?.getAttribute('value')) > 0);
        await page.click('#cancel-button');
        const state = await waitForOutcome(page, 'slow.png');
        assert.equal(state, 'aborted', explain(await pageError(page)));
        assert.equal(await page.textContent('#upload-error-code'), 'aborted');
      } finally {
        await liftSpeedLimit();
      }
      assert.equal(await page.locator('#file-list li', { hasText: 'slow.png' }).count(), 0);
    });

    it('deletes a file, and it stays deleted after a reload', async () => {
      const item = page.locator('#file-list li', { hasText: 'cat.png' });
      await page.click('#file-list button[aria-label="Delete cat.png"]');
      await item.waitFor({ state: 'detached' });

      await page.reload();
      await page.waitForFunction(() => !document.getElementById('files-section')?.hidden);
      await page.waitForFunction(() => !document.getElementById('files-empty')?.hidden || document.querySelectorAll('#file-list li').length > 0);
      assert.equal(await item.count(), 0, explain('the deleted file came back'));
    });
  });
}
