/**
 * Lifecycle on the disk driver, enforced by the server (storage/disk-lifecycle.ts), the way RGW enforces
 * the rules `upfront setup` provisions (test/buckets/lifecycle.test.ts): an upload nobody completed has
 * its staged object removed after the staging expiry and then answers upload_expired; a multipart upload
 * left unfinished is aborted; promoted files stay. DISK_LIFECYCLE_DAY_SECONDS=2 makes a day last 2 s.
 */
import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from '@upfront/client';
import { makePng } from '../support/png.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const MiB = 1024 * 1024;
const routes = {
  kept: { types: ['image/png'], maxSize: '1MB', visibility: 'private', strategy: 'put' },
  // Its signed PUT, and so the upload, expires before lifecycle removes what was staged.
  abandoned: { types: ['image/png'], maxSize: '1MB', visibility: 'private', strategy: 'put', expiresIn: 1 },
  parts: { types: ['image/png'], maxSize: '64MB', visibility: 'private', strategy: 'multipart', partSize: '5MB', multipartExpiresIn: 1 },
};

/** Polls `check` until it holds; a lifecycle that never runs fails the test after a minute. */
async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`the disk lifecycle never got to it: ${what}`);
    await sleep(250);
  }
}

const exists = (file: string) => stat(file).then(() => true, () => false);

describe('disk driver lifecycle (the server expires what it staged; a day of 2 s)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ driver: 'disk', routes, env: { DISK_LIFECYCLE_DAY_SECONDS: '2' } });
  });
  after(() => server?.close());

  it('removes a staged object nobody completed (then upload_expired), aborts an unfinished multipart upload, keeps promoted files', async () => {
    const png = makePng({ width: 8, height: 8, minBytes: 20_000 });
    const token = await server.token('lifecycle-user');
    const kept = await createClient({ endpoint: server.url, token }).upload(new File([new Uint8Array(png)], 'kept.png', { type: 'image/png' }), { route: 'kept' });

    const created = await server.api('/v1/uploads', { token, json: { route: 'abandoned', filename: 'left.png', contentType: 'image/png', size: png.length } });
    assert.equal(created.status, 201, await created.clone().text());
    const abandoned = (await created.json()) as { id: string; key: string; put: { url: string; headers: Record<string, string> } };
    assert.equal((await fetch(abandoned.put.url, { method: 'PUT', headers: abandoned.put.headers, body: new Uint8Array(png) })).status, 200);
    const staged = join(server.dataDir, 'objects', 'staging', ...abandoned.key.split('/'));
    assert.ok(await exists(staged), 'the PUT staged the object');

    const multipart = await server.api('/v1/uploads', { token, json: { route: 'parts', filename: 'big.png', contentType: 'image/png', size: 12 * MiB } });
    assert.equal(multipart.status, 201, await multipart.clone().text());
    const multipartDir = join(server.dataDir, 'multipart');
    assert.equal((await readdir(multipartDir)).length, 1, 'the multipart upload was started');

    await eventually('the staged object expires', async () => !(await exists(staged)));
    await eventually('the unfinished multipart upload is aborted', async () => (await readdir(multipartDir)).length === 0);

    const completed = await server.api(`/v1/uploads/${abandoned.id}/complete`, { method: 'POST', token });
    assert.equal(completed.status, 410, 'complete of an upload whose staged copy expired');
    assert.equal(((await completed.json()) as { code: string }).code, 'upload_expired');
    const file = (await (await server.api(`/v1/files/${kept.id}`, { token })).json()) as { url: string };
    const served = await fetch(file.url);
    assert.equal(served.status, 200, 'a promoted file is not touched by the staging rules');
    assert.deepEqual(new Uint8Array(await served.arrayBuffer()), new Uint8Array(png));
  });
});
