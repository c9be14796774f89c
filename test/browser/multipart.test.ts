/**
 * Large uploads on the demo app in real headless Chromium, per storage driver: a 16 MiB PNG made in
 * the page goes up in 5 MiB parts, hashed in a Web Worker (the client's hash-worker, which the app's
 * build emits beside its bundle), paused and resumed from its row in the queue; and a reload
 * mid-upload, then the same file dropped again, resumes the same upload and sends only the parts
 * storage lacks. The file is generated deterministically (same bytes, name and date each time),
 * as a user picking the same file again would hand over.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { runInNewContext } from 'node:vm';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { buildWeb } from '../../apps/web/build.ts';
import { launchBrowser, recordPageTrouble, signIn, limitUploadSpeed } from '../support/browser.ts';
import { DROP_INPUT, progressValues, queueRow, recordProgress, rowText, uploadOutcome } from '../support/demo-app.ts';
import { makePng } from '../support/png.ts';
import { startTestServer, type Driver, type TestServer } from '../support/server.ts';

const MiB = 1024 * 1024;
const SIZE = 16 * MiB + 4321;
const PARTS = Math.ceil(SIZE / (5 * MiB));
const routes = { big: { types: ['image/png'], maxSize: '64MB', visibility: 'public', multipartThreshold: '6MB', partSize: '5MB' } };

/**
 * Plain JavaScript, run as is in the page and in Node (so both make the same bytes): a PNG of `size`
 * bytes from `head` (signature, IHDR, IDAT), a padding chunk of seeded pseudo-random bytes, and IEND.
 */
const GENERATOR = `(function generatedPng(head, size, seed) {
  const bytes = new Uint8Array(size);
  bytes.set(head);
  const view = new DataView(bytes.buffer);
  const dataLength = size - head.length - 24;
  let at = head.length;
  view.setUint32(at, dataLength);
  bytes.set([0x75, 0x70, 0x46, 0x74], at + 4); // "upFt": private, ancillary, ignored by decoders
  let x = seed;
  for (let i = 0; i < dataLength; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    bytes[at + 8 + i] = x & 0xff;
  }
  const table = Array.from({ length: 256 }, (_, n) => {
    for (let k = 0; k < 8; k++) n = n & 1 ? 0xedb88320 ^ (n >>> 1) : n >>> 1;
    return n >>> 0;
  });
  const crc = (from, to) => {
    let c = 0xffffffff;
    for (let i = from; i < to; i++) c = table[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  view.setUint32(at + 8 + dataLength, crc(at + 4, at + 8 + dataLength));
  at += 12 + dataLength;
  bytes.set([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82], at); // IEND
  return bytes;
})`;

const SEED = 20_261_129;
const LAST_MODIFIED = 1_700_000_000_000;
// Signature, IHDR and IDAT of a small real PNG (makePng ends with the 12-byte IEND).
const head = [...makePng({ width: 16, height: 16 }).subarray(0, -12)];
const expected = runInNewContext(GENERATOR)(head, SIZE, SEED) as Uint8Array;
const expectedSha256 = createHash('sha256').update(expected).digest('hex');

/** Makes the file in the page and picks it in the app's file input, as a user would. */
async function pickGeneratedFile(page: Page): Promise<void> {
  await page.evaluate(
    ({ source, head, size, seed, lastModified, input }) => {
      const bytes = (0, eval)(source)(head, size, seed) as Uint8Array<ArrayBuffer>;
      const file = new File([bytes], 'big.png', { type: 'image/png', lastModified });
      const picked = new DataTransfer();
      picked.items.add(file);
      const element = document.querySelector<HTMLInputElement>(input)!;
      element.files = picked.files;
      element.dispatchEvent(new Event('change', { bubbles: true }));
    },
    { source: GENERATOR, head, size: SIZE, seed: SEED, lastModified: LAST_MODIFIED, input: DROP_INPUT },
  );
}

/** Waits until `condition()` holds; a broken upload then fails the test instead of hanging it. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Gave up waiting for ${what}`);
    await sleep(20);
  }
}

let browser: Browser;

before(async () => {
  await buildWeb();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

/** The part PUTs the page sends to storage: started, finished (with status), failed. */
function watchParts(page: Page) {
  const partOf = (request: Request) => (request.method() === 'PUT' ? Number(new URL(request.url()).searchParams.get('partNumber')) || 0 : 0);
  const parts = { started: [] as number[], landed: [] as number[], failed: [] as number[] };
  page.on('request', (request) => {
    const part = partOf(request);
    if (part) parts.started.push(part);
  });
  page.on('requestfinished', async (request) => {
    const part = partOf(request);
    if (part && (await request.response())?.status() === 200) parts.landed.push(part);
  });
  page.on('requestfailed', (request) => {
    const part = partOf(request);
    if (part) parts.failed.push(part);
  });
  return parts;
}

for (const driver of ['disk', 's3'] as Driver[]) {
  describe(`large uploads in parts on the web page (${driver} storage)`, () => {
    let server: TestServer;
    let context: BrowserContext;
    let trouble: string[];
    const explain = (what: string) => `${what}\nbrowser log:\n${trouble.join('\n') || '(empty)'}`;

    before(async () => {
      server = await startTestServer({ driver, web: true, routes });
    });

    after(async () => {
      await server?.close();
    });

    async function openPage(): Promise<Page> {
      context = await browser.newContext();
      context.setDefaultTimeout(30_000);
      const page = await context.newPage();
      trouble = recordPageTrouble(page);
      await page.goto(server.url);
      await signIn(page, `user-${randomUUID().slice(0, 8)}`);
      return page;
    }

    /** The stored file, as the API lists it to the page's user. */
    async function storedFile(page: Page): Promise<{ url: string; sha256: string | null; size: number }> {
      const token = await page.evaluate(() => sessionStorage.getItem('upfront.token')!);
      const { files } = (await (await server.api('/v1/files', { token })).json()) as { files: { filename: string; url: string; sha256: string | null; size: number }[] };
      const file = files.find((candidate) => candidate.filename === 'big.png');
      assert.ok(file, 'big.png is listed');
      return file;
    }

    it('sends a 16 MiB file in parts, hashed in a Web Worker, and pauses and resumes', async () => {
      const page = await openPage();
      try {
        const workers: string[] = [];
        page.on('worker', (worker) => workers.push(worker.url()));
        const parts = watchParts(page);
        await recordProgress(page, 'big.png');
        await limitUploadSpeed(page, 4 * MiB);
        await pickGeneratedFile(page);

        await page.waitForFunction((css) => Number(document.querySelector(css)?.getAttribute('value')) > 0, `${queueRow('big.png')} progress`);
        await until(() => parts.landed.length > 0, 'a part to land');
        await page.getByRole('button', { name: 'Pause big.png' }).click();
        await page.waitForSelector(`${queueRow('big.png')}[data-paused=true]`);
        // Pausing cut the parts in flight; nothing more is sent until resume.
        await until(() => parts.started.length === parts.landed.length + parts.failed.length, 'the parts in flight to end');
        const startedWhilePaused = parts.started.length;
        await sleep(1000);
        assert.equal(parts.started.length, startedWhilePaused, 'no part is sent while paused');
        assert.ok(parts.failed.length > 0, 'parts in flight were cut by the pause');
        assert.match(await rowText(page, 'big.png'), /Paused/);
        await page.getByRole('button', { name: 'Resume big.png' }).click();

        assert.equal(await uploadOutcome(page, 'big.png'), 'done', explain(await rowText(page, 'big.png')));
        assert.deepEqual([...new Set(parts.landed)].sort(), Array.from({ length: PARTS }, (_, i) => i + 1));
        assert.ok(workers.some((url) => /\/hash-worker-[\w-]+\.js$/.test(url)), `workers: ${workers.join(', ') || 'none'}`);

        const file = await storedFile(page);
        assert.equal(file.size, SIZE);
        assert.equal(file.sha256, expectedSha256, 'the SHA-256 computed in the worker is kept with the file');
        const served = await fetch(file.url);
        assert.equal(createHash('sha256').update(new Uint8Array(await served.arrayBuffer())).digest('hex'), expectedSha256, 'byte-identical');

        const values = await progressValues(page, 'big.png');
        assert.deepEqual([...values].sort((a, b) => a - b), values, `progress never goes backwards: ${values.join(', ')}`);
        assert.equal(values.at(-1), 100);
      } finally {
        await context.close();
      }
    });

    it('after a reload mid-upload, the same file picked again resumes the same upload and sends only the missing parts', async () => {
      const page = await openPage();
      try {
        const parts = watchParts(page);
        await limitUploadSpeed(page, 4 * MiB);
        await pickGeneratedFile(page);
        await until(() => parts.landed.length > 0, 'a part to land');
        const uploadId = await page.$eval(queueRow('big.png'), (row) => (row as HTMLElement).dataset.uploadId ?? '');
        assert.match(uploadId, /^[0-9a-f-]{36}$/);

        await page.reload();
        await page.waitForSelector(`${DROP_INPUT}:enabled`, { state: 'attached' });
        const afterReload = watchParts(page);
        const created = page.waitForResponse((response) => response.request().method() === 'POST' && new URL(response.url()).pathname === '/v1/uploads');
        await pickGeneratedFile(page);
        const answer = await created;
        const resumed = (await answer.json()) as { id: string; parts?: { partNumber: number }[] };
        assert.equal(answer.status(), 200, 'the server answers the unfinished upload');
        assert.equal(resumed.id, uploadId, 'the same upload');
        const stored = resumed.parts!.map((part) => part.partNumber);
        assert.ok(stored.length > 0 && stored.length < PARTS, `storage held parts ${stored}`);

        assert.equal(await uploadOutcome(page, 'big.png'), 'done', explain(await rowText(page, 'big.png')));
        assert.equal(await page.$eval(queueRow('big.png'), (row) => (row as HTMLElement).dataset.uploadId), uploadId);
        const missing = Array.from({ length: PARTS }, (_, i) => i + 1).filter((n) => !stored.includes(n));
        assert.deepEqual([...new Set(afterReload.started)].sort(), missing, 'only the missing parts were sent');
        const file = await storedFile(page);
        assert.equal(file.sha256, expectedSha256);
      } finally {
        await context.close();
      }
    });
  });
}
