/**
 * The demo app in real headless Chromium against a real API server, once per storage driver:
 * sign in, upload a real PNG straight to storage (signed PUT) with progress, see it in the gallery
 * with its thumbnail (the image processor's variant) loading, be told precisely why a text file
 * named .png is refused, upload a PDF with a POST policy form to the private route and download it
 * by its signed link, cancel an upload in flight, and delete a file.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildWeb } from '../../apps/web/build.ts';
import { launchBrowser, recordPageTrouble, signIn, limitUploadSpeed } from '../support/browser.ts';
import { DROP_INPUT, galleryCard, loadedWidth, progressValues, queueRow, recordProgress, rowText, uploadOutcome } from '../support/demo-app.ts';
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

    it('uploads a real PNG with progress, shows it in the gallery, and its thumbnail and file load', async (t) => {
      const png = makePng({ width: 64, height: 64, minBytes: 400_000 });
      await recordProgress(page, 'cat.png');
      const liftSpeedLimit = await limitUploadSpeed(page, 256 * 1024);
      let outcome: string;
      try {
        await page.setInputFiles(DROP_INPUT, { name: 'cat.png', mimeType: 'image/png', buffer: png });
        outcome = await uploadOutcome(page, 'cat.png');
      } finally {
        await liftSpeedLimit();
      }
      assert.equal(outcome, 'done', explain(`upload failed: ${await rowText(page, 'cat.png')}`));

      const values = await progressValues(page, 'cat.png');
      t.diagnostic(`progress values: ${values.join(', ')}`);
      assert.equal(values.at(-1), 100, `progress ended at ${values.at(-1)}`);
      assert.ok(values.some((value) => value > 0 && value < 100), 'the bar moved through intermediate values');
      assert.deepEqual([...values].sort((a, b) => a - b), values, 'progress never goes backwards');
      assert.match(await rowText(page, 'cat.png'), /100%/);

      const card = page.locator(galleryCard('cat.png'));
      await card.waitFor();
      assert.equal(await card.getAttribute('data-visibility'), 'public');
      const fileUrl = await card.getByRole('link', { name: 'cat.png' }).getAttribute('href');
      assert.ok(fileUrl, 'the gallery links to the file');
      assert.deepEqual(Buffer.from(await (await fetch(fileUrl)).arrayBuffer()), png, 'the public URL serves the bytes sent');
      const thumb = `${galleryCard('cat.png')} img[data-thumb="variant"]`;
      assert.notEqual(await page.getAttribute(thumb, 'src'), fileUrl, 'the thumbnail is the variant, not the file');
      assert.equal(await loadedWidth(page, thumb), 64, explain('the thumbnail did not load (a variant is never enlarged)'));
    });

    it('explains that a text file named .png is not a PNG', async () => {
      const text = Buffer.from('This is plain text pretending to be a picture.\n'.repeat(40));
      await page.setInputFiles(DROP_INPUT, { name: 'notes.png', mimeType: 'image/png', buffer: text });

      assert.equal(await uploadOutcome(page, 'notes.png'), 'content_type_mismatch', explain(await rowText(page, 'notes.png')));
      const detail = (await page.textContent(`${queueRow('notes.png')} [role=alert] [data-part=detail]`)) ?? '';
      assert.ok(detail.trim().length > 10, `the page shows a sentence, not just a code: "${detail}"`);
      assert.ok(await page.isVisible(`${queueRow('notes.png')} [role=alert]`));
      assert.equal(await page.locator(galleryCard('notes.png')).count(), 0);
    });

    it('sends a PDF through a POST policy form to the private route, and its signed link downloads it', async () => {
      const pdf = Buffer.from(MINIMAL_PDF, 'latin1');
      await page.setInputFiles(DROP_INPUT, { name: 'report.pdf', mimeType: 'application/pdf', buffer: pdf });

      assert.equal(await uploadOutcome(page, 'report.pdf'), 'done', explain(await rowText(page, 'report.pdf')));
      assert.match(await rowText(page, 'report.pdf'), /document/, 'it went to the route that takes PDFs');
      const card = page.locator(galleryCard('report.pdf'));
      await card.waitFor();
      assert.equal(await card.getAttribute('data-visibility'), 'private');
      assert.match((await card.textContent()) ?? '', /private/);

      const signedUrl = await card.getByRole('link', { name: 'report.pdf' }).getAttribute('href');
      assert.ok(signedUrl);
      const download = await fetch(signedUrl);
      assert.equal(download.status, 200, `GET ${signedUrl}`);
      assert.deepEqual(Buffer.from(await download.arrayBuffer()), pdf);
    });

    it('cancels an upload in flight', async () => {
      const liftSpeedLimit = await limitUploadSpeed(page, 64 * 1024);
      try {
        await page.setInputFiles(DROP_INPUT, { name: 'slow.png', mimeType: 'image/png', buffer: makePng({ minBytes: 400_000 }) });
        await page.waitForFunction((css) => Number(document.querySelector(css)?.getAttribute('value')) > 0, `${queueRow('slow.png')} progress`);
        await page.getByRole('button', { name: 'Cancel slow.png' }).click();
        assert.equal(await uploadOutcome(page, 'slow.png'), 'aborted', explain(await rowText(page, 'slow.png')));
        assert.match(await rowText(page, 'slow.png'), /Cancelled/);
      } finally {
        await liftSpeedLimit();
      }
      assert.equal(await page.locator(galleryCard('slow.png')).count(), 0);
    });

    it('deletes a file, and it stays deleted after a reload', async () => {
      const card = page.locator(galleryCard('cat.png'));
      await page.getByRole('button', { name: 'Delete cat.png' }).click();
      await card.waitFor({ state: 'detached' });

      await page.reload();
      await page.waitForSelector('.gallery[data-state=ready], .gallery[data-state=empty]');
      assert.equal(await page.locator(galleryCard('report.pdf')).count(), 1, 'the other file is still listed');
      assert.equal(await card.count(), 0, explain('the deleted file came back'));
    });
  });
}
