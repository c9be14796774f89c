/**
 * Versions in real headless Chromium, once on the disk driver and once on Ceph RGW buckets `upfront
 * setup` provisioned (versioning on), all from the demo app: upload a PNG (dropped in the queue),
 * upload a new version of it from its card (create with `replaces`, the signed PUT straight to
 * storage, complete with the SHA-256 the page computed), see both versions listed, restore the first,
 * and download the restored bytes by the file's URL.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildWeb } from '../../apps/web/build.ts';
import { launchBrowser, recordPageTrouble, signIn } from '../support/browser.ts';
import { DROP_INPUT, rowText, uploadOutcome } from '../support/demo-app.ts';
import { makePng } from '../support/png.ts';
import { startTestServer, type Driver, type TestServer } from '../support/server.ts';
import { versionedRgwBuckets } from '../support/versioned-buckets.ts';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

let browser: Browser;

before(async () => {
  await buildWeb();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

/** The versions the card lists: filename, current or not, SHA-256; once it has `count` of them and is not busy. */
async function listedVersions(page: Page, card: string, count: number): Promise<[string, boolean, string][]> {
  const versions = `${card} .versions`;
  await page.waitForFunction(({ css, count }) => {
    const section = document.querySelector<HTMLElement>(css);
    return section?.dataset.state === 'ready' && section.querySelectorAll('li[data-version-id]').length === count;
  }, { css: versions, count });
  return page.$$eval(`${versions} li[data-version-id]`, (items) =>
    items.map((item) => {
      const { current, sha256 } = (item as HTMLElement).dataset;
      return [item.querySelector('a')!.textContent!, current === 'true', sha256!] as [string, boolean, string];
    }),
  );
}

for (const driver of ['disk', 's3'] as Driver[]) {
  describe(`versions in Chromium (${driver})`, () => {
    let server: TestServer;
    let context: BrowserContext;
    let page: Page;
    let trouble: string[];
    const rgw = versionedRgwBuckets('browser-versions');
    const explain = (what: string) => `${what}\nbrowser log:\n${trouble.join('\n') || '(empty)'}`;

    before(async () => {
      const env = driver === 's3' ? await rgw.provision() : {};
      server = await startTestServer({ driver, web: true, env });
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
      await rgw.remove();
    });

    it('upload, a new version, list, restore, and download the restored bytes, from the app', async () => {
      const first = makePng({ width: 16, height: 16, minBytes: 30_000 });
      const second = makePng({ width: 16, height: 16, minBytes: 40_000 });

      await page.setInputFiles(DROP_INPUT, { name: 'first.png', mimeType: 'image/png', buffer: first });
      assert.equal(await uploadOutcome(page, 'first.png'), 'done', explain(await rowText(page, 'first.png')));
      const fileId = await page.locator('.gallery-grid li[data-filename="first.png"]').getAttribute('data-file-id');
      assert.ok(fileId);
      const card = `.gallery-grid li[data-file-id="${fileId}"]`;

      const firstThumb = await page.getAttribute(`${card} img`, 'src');
      await page.getByRole('button', { name: 'Versions of first.png' }).click();
      assert.deepEqual(await listedVersions(page, card, 1), [['first.png', true, sha256(first)]]);
      await page.setInputFiles(`${card} input[type=file]`, { name: 'second.png', mimeType: 'image/png', buffer: second });
      assert.deepEqual(
        await listedVersions(page, card, 2).catch((error: unknown) => assert.fail(explain(String(error)))),
        [['second.png', true, sha256(second)], ['first.png', false, sha256(first)]],
        'the new version is current, and describes the bytes sent',
      );
      await page.waitForSelector(`${card}[data-filename="second.png"]`);
      assert.notEqual(await page.getAttribute(`${card} img`, 'src'), firstThumb, 'the thumbnail shows the new version (its URL names it)');

      await page.locator(`${card} li[data-current=false]`).getByRole('button', { name: /^Restore first\.png/ }).click();
      const after = await listedVersions(page, card, 3).catch((error: unknown) => assert.fail(explain(String(error))));
      assert.deepEqual(after.map(([filename, current]) => [filename, current]), [['first.png', true], ['second.png', false], ['first.png', false]]);
      await page.waitForSelector(`${card}[data-filename="first.png"]`);
      const url = await page.locator(card).getByRole('link', { name: 'first.png', exact: true }).getAttribute('href');
      assert.ok(url);
      const download = await fetch(url, { cache: 'no-store' });
      assert.equal(download.status, 200);
      assert.equal(sha256(new Uint8Array(await download.arrayBuffer())), sha256(first), 'the restored bytes are the first upload\'s');
    });
  });
}
