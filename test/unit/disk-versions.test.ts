/**
 * The disk driver keeps versions of the public and private buckets, as `upfront setup` has S3 keep them:
 * a copy over an object writes a new version and keeps the one before (an object placed before versions
 * were kept becomes version "null"), versions are listed newest first, copied from, read with a signed
 * GET naming `versionId` (never anonymously), and deleted by id (the newest left is then current).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { requestListener } from '../../packages/server/src/node.ts';
import { createDiskDriver, type DiskDriver } from '../../packages/server/src/storage/disk-driver.ts';
import { createDiskEndpoint } from '../../packages/server/src/storage/disk-endpoint.ts';
import { ObjectMissingError } from '../../packages/server/src/storage/errors.ts';
import { s3Error } from '../support/disk-state.ts';

let dataDir: string;
let driver: DiskDriver;
let server: Server;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'upfront-disk-versions-'));
  let handler: (request: Request) => Promise<Response> = async () => new Response(null, { status: 503 });
  server = createServer(requestListener((request) => handler(request)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/storage`;
  driver = createDiskDriver({ dataDir, baseUrl: base, secret: 'versions-test-secret' });
  handler = createDiskEndpoint(driver, { corsOrigins: [] });
});

after(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dataDir, { recursive: true, force: true });
});

const md5 = (text: string) => `"${createHash('md5').update(text).digest('hex')}"`;
const options = { contentType: 'text/plain' };

async function stage(key: string, text: string): Promise<void> {
  await driver.writeObject('staging', key, new Blob([text]).stream(), options, { minSize: 0, maxSize: 1024 });
}

async function promote(key: string, text: string): Promise<string> {
  await stage(key, text);
  const { versionId } = await driver.copy({ bucket: 'staging', key }, { bucket: 'private', key }, options);
  assert.ok(versionId);
  return versionId;
}

async function read(key: string, versionId?: string): Promise<string> {
  const url = driver.presignGet('private', key, { expiresIn: 60, ...(versionId !== undefined && { versionId }) });
  const response = await fetch(url);
  assert.equal(response.status, 200);
  return response.text();
}

describe('versions on the disk driver', () => {
  it('a copy over an object keeps the one before; list, read, copy from and delete versions by id', async () => {
    const key = 'user/a.txt';
    const v1 = await promote(key, 'one');
    const v2 = await promote(key, 'two');
    assert.deepEqual(
      (await driver.listVersions('private', key)).map((v) => [v.versionId, v.size, v.etag, v.isLatest]),
      [[v2, 3, md5('two'), true], [v1, 3, md5('one'), false]],
    );
    assert.deepEqual([await read(key), await read(key, v1), await read(key, v2)], ['two', 'one', 'two']);

    const { versionId: v3 } = await driver.copy({ bucket: 'private', key, versionId: v1 }, { bucket: 'private', key }, options);
    assert.equal(await read(key), 'one', 'a copy of an older version is current');
    assert.deepEqual((await driver.listVersions('private', key)).map((v) => v.versionId), [v3, v2, v1]);

    await driver.delete('private', key, v3!);
    assert.equal(await read(key), 'two', 'deleting the current version makes the newest left current');
    assert.deepEqual((await driver.listVersions('private', key)).map((v) => [v.versionId, v.isLatest]), [[v2, true], [v1, false]]);
    await driver.delete('private', key, v1);
    assert.deepEqual((await driver.listVersions('private', key)).map((v) => v.versionId), [v2]);
    await assert.rejects(driver.copy({ bucket: 'private', key, versionId: v1 }, { bucket: 'private', key }, options), ObjectMissingError);
    await assert.rejects(driver.copy({ bucket: 'private', key, versionId: '../../x' }, { bucket: 'private', key }, options), ObjectMissingError);
  });

  it('a version is read only with a signed GET; an unknown one is NoSuchVersion', async () => {
    const key = 'user/public.txt';
    await stage(key, 'open');
    const { versionId } = await driver.copy({ bucket: 'staging', key }, { bucket: 'public', key }, options);
    assert.equal(await (await fetch(driver.publicUrl(key))).text(), 'open');
    assert.deepEqual(await s3Error(await fetch(`${driver.publicUrl(key)}?versionId=${versionId}`)), { status: 403, code: 'AccessDenied' });
    assert.equal(await (await fetch(driver.presignGet('public', key, { expiresIn: 60, versionId: versionId! }))).text(), 'open');
    const unknown = driver.presignGet('public', key, { expiresIn: 60, versionId: '0'.repeat(24) });
    assert.deepEqual(await s3Error(await fetch(unknown)), { status: 404, code: 'NoSuchVersion' });
  });

  it('an object placed before versions were kept becomes version "null" when replaced', async () => {
    const key = 'user/legacy.txt';
    // What an older driver left: the object and a sidecar that names no version.
    await mkdir(join(dataDir, 'objects', 'private', 'user'), { recursive: true });
    await writeFile(join(dataDir, 'objects', 'private', 'user', 'legacy.txt'), 'old');
    assert.deepEqual((await driver.listVersions('private', key)).map((v) => [v.versionId, v.isLatest]), [['null', true]]);
    const next = await promote(key, 'new');
    assert.deepEqual((await driver.listVersions('private', key)).map((v) => [v.versionId, v.isLatest]), [[next, true], ['null', false]]);
    assert.equal(await read(key, 'null'), 'old');
  });
});

describe('copies racing onto one key (disk driver)', () => {
  it('two restores at once always leave one of their versions current, described by its own sidecar', async () => {
    const key = 'race/restored.txt';
    const first = await promote(key, 'first version');
    const second = await promote(key, 'second version, a little longer');
    for (let round = 0; round < 30; round++) {
      // Started a random moment apart, so their steps interleave differently each round.
      const made = await Promise.all(
        [first, second].map(async (versionId) => {
          await sleep(Math.random() * 4);
          return driver.copy({ bucket: 'private', key, versionId }, { bucket: 'private', key }, options);
        }),
      );
      const current = (await driver.listVersions('private', key)).find((version) => version.isLatest);
      assert.ok(current && made.some((copy) => copy.versionId === current.versionId), `round ${round}: the current version is one of the two restores (got ${current?.versionId})`);
      assert.equal(await read(key, current.versionId), await read(key), `round ${round}: that version is what is served`);
    }
  });
});
