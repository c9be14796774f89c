/**
 * Versions in real headless Chromium, once on the disk driver and once on Ceph RGW buckets `upfront
 * setup` provisioned (versioning on): the demo page uploads a PNG with the client; then, from the page,
 * an upload that replaces it (create with `replaces`, the signed PUT straight to storage, complete),
 * the versions list, a restore of the first version, and a download of the restored bytes, whose
 * SHA-256 the page computes. The client has no `replaces` option (its bundle has no room to spare), so
 * the page calls the API with fetch, as any front end can.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildWeb } from '../../apps/web/build.ts';
import { launchBrowser, recordPageTrouble, signIn } from '../support/browser.ts';
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

/** What the page saw: the versions listed after the replacement, the file after the restore, and the SHA-256 of the bytes it downloaded. */
interface PageOutcome {
  listed: { id: string; filename: string; sha256: string | null; isCurrent: boolean }[];
  replacedSha: string | null;
  restored: { id: string; filename: string; sha256: string | null };
  downloadedSha: string;
  versionsAfter: number;
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

    it('upload, replace, list, restore, and download the restored bytes, from the page', async () => {
      const first = makePng({ width: 16, height: 16, minBytes: 30_000 });
      const second = makePng({ width: 16, height: 16, minBytes: 40_000 });

      await page.selectOption('#route-select', 'image');
      await page.setInputFiles('#file-input', { name: 'first.png', mimeType: 'image/png', buffer: first });
      await page.waitForFunction(() => ['success', 'error'].includes(document.getElementById('upload-status')?.dataset.state ?? ''));
      assert.equal(await page.$eval('#upload-status', (status) => (status as HTMLElement).dataset.state), 'success', explain('the first upload failed'));

      const outcome: PageOutcome = await page.evaluate(async ({ bytes, hash }) => {
        const headers = { authorization: `Bearer ${sessionStorage.getItem('upfront.token')}`, 'content-type': 'application/json' };
        const { files } = (await (await fetch('/v1/files', { headers })).json()) as { files: { id: string; filename: string }[] };
        const file = files.find((candidate) => candidate.filename === 'first.png')!;

        const body = new Uint8Array(bytes);
        const createdRes = await fetch('/v1/uploads', {
          method: 'POST',
          headers,
          body: JSON.stringify({ route: 'image', filename: 'second.png', contentType: 'image/png', size: body.length, replaces: file.id }),
        });
        if (createdRes.status !== 201) throw new Error(`create: ${createdRes.status} ${await createdRes.text()}`);
        const created = (await createdRes.json()) as { id: string; put: { url: string; headers: Record<string, string> } };
        const put = await fetch(created.put.url, { method: 'PUT', headers: created.put.headers, body });
        if (!put.ok) throw new Error(`PUT to storage: ${put.status}`);
        const completed = await fetch(`/v1/uploads/${created.id}/complete`, { method: 'POST', headers, body: JSON.stringify({ sha256: hash }) });
        if (!completed.ok) throw new Error(`complete: ${completed.status} ${await completed.text()}`);
        const replaced = (await completed.json()) as { sha256: string | null };

        const { versions } = (await (await fetch(`/v1/files/${file.id}/versions`, { headers })).json()) as { versions: PageOutcome['listed'] };
        const oldest = versions[versions.length - 1]!;
        const restoredRes = await fetch(`/v1/files/${file.id}/versions/${encodeURIComponent(oldest.id)}/restore`, { method: 'POST', headers });
        if (!restoredRes.ok) throw new Error(`restore: ${restoredRes.status} ${await restoredRes.text()}`);
        const restored = (await restoredRes.json()) as PageOutcome['restored'] & { url: string };
        // The public URL of a file that was replaced may be cached by the browser: ask storage again.
        const download = await fetch(restored.url, { cache: 'no-store' });
        if (!download.ok) throw new Error(`download: ${download.status}`);
        const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await download.arrayBuffer()));
        const after = (await (await fetch(`/v1/files/${file.id}/versions`, { headers })).json()) as { versions: unknown[] };
        return {
          listed: versions.map(({ id, filename, sha256, isCurrent }) => ({ id, filename, sha256, isCurrent })),
          replacedSha: replaced.sha256,
          restored: { id: restored.id, filename: restored.filename, sha256: restored.sha256 },
          downloadedSha: [...digest].map((byte) => byte.toString(16).padStart(2, '0')).join(''),
          versionsAfter: after.versions.length,
        };
      }, { bytes: [...second], hash: sha256(second) }).catch((error: unknown) => assert.fail(explain(String(error))));

      assert.equal(outcome.replacedSha, sha256(second), 'the file describes the replacement');
      assert.deepEqual(
        outcome.listed.map(({ filename, isCurrent }) => [filename, isCurrent]),
        [['second.png', true], ['first.png', false]],
      );
      assert.equal(outcome.listed[0]!.sha256, sha256(second));
      assert.deepEqual([outcome.restored.filename, outcome.downloadedSha], ['first.png', sha256(first)], 'the restored bytes are the first upload\'s');
      assert.equal(outcome.versionsAfter, 3);
    });
  });
}
