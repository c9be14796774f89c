/**
 * The demo app's acceptance, in real headless Chromium on both storage drivers with the repository's
 * own upfront.config.json (its "image" route makes a 320 px WebP thumbnail of each image): sign in,
 * drop twenty files at once (PNGs and JPEGs of several sizes, one big enough to go in parts, PDFs,
 * and a text file named .png), pause one and resume it, cancel one, read the refused one's error in
 * words, and see the rest in the gallery, every thumbnail loading from its URL. Then a reload in the
 * middle of a large upload, and the same file dropped again: the same upload resumes.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { buildWeb } from '../../apps/web/build.ts';
import { launchBrowser, recordPageTrouble, signIn, limitUploadSpeed, dropFiles } from '../support/browser.ts';
import { DROP_INPUT, galleryCard, loadedWidth, queueRow, rowText, uploadOutcome } from '../support/demo-app.ts';
import { makePng } from '../support/png.ts';
import { startTestServer, type Driver, type TestServer } from '../support/server.ts';

const MiB = 1024 * 1024;

interface Drop {
  name: string;
  mimeType: string;
  buffer: Buffer;
}

/** A real JPEG of noisy pixels (noise keeps it from compressing away). */
const makeJpeg = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: '#3a6ea5', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).jpeg({ quality: 85 }).toBuffer();

/** A one-page PDF, padded with comment lines to about `bytes`. */
function makePdf(bytes: number): Buffer {
  const body = ['%PDF-1.4', '1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj', '2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj', '3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >> endobj'];
  const padding = '% padding to make the file larger, as real documents are\n';
  return Buffer.from(`${body.join('\n')}\n${padding.repeat(Math.max(0, Math.ceil(bytes / padding.length)))}trailer << /Root 1 0 R >>\n%%EOF\n`, 'latin1');
}

/** The twenty files of one drop; `big.png` (over the image route's 6 MB multipart threshold) first, so it starts at once. */
async function twentyFiles(): Promise<{ files: Drop[]; images: string[]; documents: string[] }> {
  const png = (name: string, width: number, height: number, minBytes = 0) => ({ name, mimeType: 'image/png', buffer: makePng({ width, height, minBytes }) });
  const jpeg = async (name: string, width: number, height: number) => ({ name, mimeType: 'image/jpeg', buffer: await makeJpeg(width, height) });
  const images: Drop[] = [
    png('big.png', 1500, 1500),
    png('icon.png', 48, 48),
    png('banner.png', 640, 160),
    png('square.png', 400, 400),
    png('padded.png', 120, 90, 600_000),
    png('wide.png', 1024, 300),
    png('tiny.png', 8, 8),
    await jpeg('photo-large.jpg', 1920, 1080),
    await jpeg('photo-medium.jpg', 1024, 768),
    await jpeg('photo-small.jpg', 320, 240),
    await jpeg('portrait.jpg', 480, 800),
    await jpeg('thumb-sized.jpg', 160, 120),
    await jpeg('panorama.jpg', 2400, 600),
  ];
  const documents: Drop[] = [1_000, 20_000, 150_000, 400_000, 900_000, 60_000].map((size, i) => ({ name: `report-${i + 1}.pdf`, mimeType: 'application/pdf', buffer: makePdf(size) }));
  const impostor = { name: 'not-a-picture.png', mimeType: 'image/png', buffer: Buffer.from('Plain text pretending to be a picture.\n'.repeat(50)) };
  const files = [...images, ...documents, impostor];
  return { files, images: images.map((file) => file.name), documents: documents.map((file) => file.name) };
}

const progressOf = (page: Page, name: string) => page.$eval(`${queueRow(name)} progress`, (bar) => Number(bar.getAttribute('value')));

let browser: Browser;
let scratch: string;

before(async () => {
  await buildWeb();
  browser = await launchBrowser();
  scratch = await mkdtemp(join(tmpdir(), 'upfront-demo-'));
});

after(async () => {
  await browser?.close();
  await rm(scratch, { recursive: true, force: true });
});

for (const driver of ['disk', 's3'] as Driver[]) {
  describe(`the demo app (Chromium, ${driver} storage)`, () => {
    let server: TestServer;
    let context: BrowserContext;
    let page: Page;
    let trouble: string[];
    const explain = (what: string) => `${what}\nbrowser log:\n${trouble.join('\n') || '(empty)'}`;

    before(async () => {
      server = await startTestServer({ driver, web: true });
    });

    after(async () => {
      await server?.close();
    });

    async function openApp(): Promise<void> {
      context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      context.setDefaultTimeout(60_000);
      page = await context.newPage();
      trouble = recordPageTrouble(page);
      await page.goto(server.url);
      await signIn(page, `demo-${randomUUID().slice(0, 8)}`);
    }

    it('twenty files dropped at once: paused and resumed, cancelled, refused in words, the rest in the gallery', async () => {
      await openApp();
      try {
        const { files, images, documents } = await twentyFiles();
        assert.equal(files.length, 20);
        await page.waitForSelector('.gallery[data-state=empty]');
        await limitUploadSpeed(page, 3 * MiB);
        // The dropzone is the element around the app's file input.
        await dropFiles(page.locator(DROP_INPUT).locator('..'), files);
        await page.waitForFunction(() => document.querySelectorAll('.queue-list li').length === 20);

        // Cancel the last PDF (still waiting its turn: three files go at a time).
        const cancelled = documents.at(-1)!;
        await page.getByRole('button', { name: `Cancel ${cancelled}` }).click();
        assert.equal(await uploadOutcome(page, cancelled), 'aborted');
        assert.match(await rowText(page, cancelled), /Cancelled/);

        // Pause the big one once bytes are moving; it holds until resumed.
        await page.waitForFunction((css) => Number(document.querySelector(css)?.getAttribute('value')) > 0, `${queueRow('big.png')} progress`);
        await page.getByRole('button', { name: 'Pause big.png' }).click();
        await page.waitForSelector(`${queueRow('big.png')}[data-paused=true]`);
        assert.match(await rowText(page, 'big.png'), /Paused/);
        const pausedAt = await progressOf(page, 'big.png');
        // Another file finishing while big.png is paused: the queue kept going, and big.png did not.
        await page.waitForSelector('.queue-list li[data-state=done]');
        assert.equal(await page.$eval(queueRow('big.png'), (row) => (row as HTMLElement).dataset.paused), 'true');
        assert.ok((await progressOf(page, 'big.png')) < 100, `big.png paused at ${pausedAt}% is not done`);
        await page.getByRole('button', { name: 'Resume big.png' }).click();

        for (const name of [...images, ...documents.slice(0, -1)]) {
          assert.equal(await uploadOutcome(page, name), 'done', explain(`${name}: ${await rowText(page, name)}`));
        }
        assert.ok(
          await page.evaluate(() => performance.getEntriesByType('resource').some((entry) => /[?&]partNumber=2\b/.test(entry.name))),
          'big.png went in parts',
        );

        assert.equal(await uploadOutcome(page, 'not-a-picture.png'), 'content_type_mismatch');
        const detail = (await page.textContent(`${queueRow('not-a-picture.png')} [role=alert] [data-part=detail]`)) ?? '';
        assert.match(detail, /image\/png/, `the refusal says what is wrong in words: "${detail}"`);
        assert.match(await page.innerText(queueRow('not-a-picture.png')), /content_type_mismatch/);
        assert.match(await page.innerText('.total'), /^18 of 20 done, 2 failed/);

        // The gallery: the eighteen stored files, images with their thumbnail variant loading from its URL.
        await page.waitForFunction(() => document.querySelectorAll('.gallery-grid li').length === 18);
        const listed = await page.$$eval('.gallery-grid li', (cards) => cards.map((card) => (card as HTMLElement).dataset.filename!).sort());
        assert.deepEqual(listed, [...images, ...documents.slice(0, -1)].sort());
        for (const name of images) {
          const thumb = `${galleryCard(name)} img[data-thumb="variant"]`;
          const width = await loadedWidth(page, thumb);
          assert.ok(width > 0 && width <= 320, explain(`${name}'s thumbnail (${await page.getAttribute(thumb, 'src')}) loaded ${width} px wide`));
        }
        for (const name of documents.slice(0, -1)) {
          assert.equal(await page.getAttribute(galleryCard(name), 'data-visibility'), 'private');
        }
        const usage = await page.$eval('section[aria-label=Usage]', (section) => Number((section as HTMLElement).dataset.files));
        assert.equal(usage, 18, 'the usage counts the stored files');
      } finally {
        await context.close();
      }
    });

    it('a reload in the middle of a large upload: the same file dropped again resumes the same upload', async () => {
      // A file on disk, so both drops hand over the same name, size and date, as a user's file would.
      const path = join(scratch, `${driver}-holiday.png`);
      await writeFile(path, makePng({ width: 1500, height: 1500 }));
      await openApp();
      try {
        await limitUploadSpeed(page, 3 * MiB);
        const landed = page.waitForResponse((response) => response.request().method() === 'PUT' && new URL(response.url()).searchParams.has('partNumber') && response.ok());
        await page.setInputFiles(DROP_INPUT, path);
        await landed;
        const uploadId = await page.$eval(queueRow(`${driver}-holiday.png`), (row) => (row as HTMLElement).dataset.uploadId ?? '');
        assert.match(uploadId, /^[0-9a-f-]{36}$/);

        await page.reload();
        await page.waitForSelector(`${DROP_INPUT}:enabled`, { state: 'attached' });
        assert.match(await page.innerText('section.uploader'), /continues where it stopped/, 'the page says dropping the file again resumes it');
        const created = page.waitForResponse((response) => response.request().method() === 'POST' && new URL(response.url()).pathname === '/v1/uploads');
        await page.setInputFiles(DROP_INPUT, path);
        const answer = await created;
        const resumed = (await answer.json()) as { id: string; parts?: { partNumber: number }[] };
        assert.equal(answer.status(), 200, 'the server answers with the unfinished upload');
        assert.equal(resumed.id, uploadId, 'the same upload');
        assert.ok((resumed.parts ?? []).length > 0, 'storage kept the parts sent before the reload');

        const name = `${driver}-holiday.png`;
        assert.equal(await uploadOutcome(page, name), 'done', explain(await rowText(page, name)));
        assert.equal(await page.$eval(queueRow(name), (row) => (row as HTMLElement).dataset.uploadId), uploadId);
        await page.waitForSelector(galleryCard(name));
        assert.ok((await loadedWidth(page, `${galleryCard(name)} img`)) > 0, 'its thumbnail loads');
      } finally {
        await context.close();
      }
    });
  });
}
