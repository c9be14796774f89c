/**
 * Versions of a file through real HTTP: an upload that names a file in `replaces` writes a new version
 * of its key; GET /v1/files/:id/versions lists them, each downloadable; restore makes an older one
 * current again, and the bytes served are then that version's. On the disk driver (which keeps versions
 * itself) and on Ceph RGW buckets `upfront setup` provisioned (versioning on), with SQLite and
 * PostgreSQL; ownership on every call, bad ids, a replaced file deleted meanwhile, and races of
 * replacements and restores, after which the record always describes the bytes storage serves. On an
 * RGW bucket without versioning, a replacement overwrites in place and the one version is listed.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { makePng } from '../support/png.ts';
import { postgresSchema } from '../support/postgres.ts';
import { startTestServer, type Driver, type TestServer } from '../support/server.ts';
import { sendToStorage, type CreatedUpload } from '../support/transfer.ts';
import { versionedRgwBuckets } from '../support/versioned-buckets.ts';

const routes = {
  photo: { types: ['image/png'], maxSize: '256KB', visibility: 'public', strategy: 'put' },
  scan: { types: ['image/png'], maxSize: '256KB', visibility: 'private', strategy: 'post' },
};

interface FileJson {
  id: string;
  key: string;
  filename: string;
  size: number;
  sha256: string | null;
  url: string;
}
interface VersionJson {
  id: string;
  filename: string;
  contentType: string;
  size: number;
  sha256: string | null;
  createdAt: string;
  isCurrent: boolean;
  url: string;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const png = (minBytes: number) => makePng({ width: 8, height: 8, minBytes });

async function downloaded(url: string): Promise<string> {
  const res = await fetch(url, { cache: 'no-store' });
  assert.equal(res.status, 200, `GET ${url}: ${res.status}`);
  return sha256(new Uint8Array(await res.arrayBuffer()));
}

async function problem(res: Response, status: number, code: string): Promise<void> {
  const body = await res.text();
  assert.equal(res.status, status, body);
  assert.equal((JSON.parse(body) as { code: string }).code, code, body);
}

/** The API calls of one server, as one user or another. */
function apiOf(server: TestServer) {
  const create = (token: string, body: Record<string, unknown>) => server.api('/v1/uploads', { token, json: body });
  return {
    create,
    /** Creates, sends and completes an upload (with its SHA-256), optionally replacing a file. */
    async upload(token: string, route: string, bytes: Uint8Array, filename: string, replaces?: string): Promise<FileJson> {
      const upload = await this.send(token, route, bytes, filename, replaces);
      return this.complete(token, upload.id, sha256(bytes));
    },
    async send(token: string, route: string, bytes: Uint8Array, filename: string, replaces?: string): Promise<CreatedUpload> {
      const res = await create(token, { route, filename, contentType: 'image/png', size: bytes.length, ...(replaces && { replaces }) });
      assert.equal(res.status, 201, await res.clone().text());
      const upload = (await res.json()) as CreatedUpload;
      assert.equal((await sendToStorage(upload, bytes, 'image/png')).status < 300, true);
      return upload;
    },
    async complete(token: string, uploadId: string, hash: string): Promise<FileJson> {
      const res = await server.api(`/v1/uploads/${uploadId}/complete`, { token, json: { sha256: hash } });
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()) as FileJson;
    },
    file: (token: string, id: string) => server.api(`/v1/files/${id}`, { token }),
    versions: (token: string, id: string) => server.api(`/v1/files/${id}/versions`, { token }),
    restore: (token: string, id: string, versionId: string) =>
      server.api(`/v1/files/${id}/versions/${encodeURIComponent(versionId)}/restore`, { method: 'POST', token }),
    async listed(token: string, id: string): Promise<VersionJson[]> {
      const res = await this.versions(token, id);
      assert.equal(res.status, 200, await res.clone().text());
      return ((await res.json()) as { versions: VersionJson[] }).versions;
    },
    async current(token: string, id: string): Promise<FileJson> {
      const res = await this.file(token, id);
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()) as FileJson;
    },
  };
}

const setups: { driver: Driver; database: 'sqlite' | 'postgres' }[] = [
  { driver: 'disk', database: 'sqlite' },
  { driver: 'disk', database: 'postgres' },
  { driver: 's3', database: 'sqlite' },
  { driver: 's3', database: 'postgres' },
];

for (const { driver, database } of setups) {
  describe(`versions on ${driver === 's3' ? 'RGW buckets with versioning' : 'disk'} with ${database}`, () => {
    let server: TestServer;
    let api: ReturnType<typeof apiOf>;
    let pg: Awaited<ReturnType<typeof postgresSchema>> | undefined;
    const rgw = versionedRgwBuckets('versions', routes);
    let alice: string;
    let bob: string;

    before(async () => {
      if (database === 'postgres') pg = await postgresSchema();
      const buckets = driver === 's3' ? await rgw.provision() : {};
      server = await startTestServer({ driver, routes, env: { ...buckets, ...(pg && { DATABASE_URL: pg.url }) } });
      api = apiOf(server);
      alice = await server.token(`alice-${randomUUID().slice(0, 8)}`);
      bob = await server.token(`bob-${randomUUID().slice(0, 8)}`);
    });
    after(async () => {
      await server?.close();
      await pg?.drop();
      await rgw.remove();
    });

    for (const route of ['photo', 'scan'] as const) {
      it(`${route}: upload, replace, list, download each version, restore the first, download the restored bytes`, async () => {
        const first = png(20_000);
        const second = png(30_000);
        const original = await api.upload(alice, route, first, 'first.png');

        const replaced = await api.upload(alice, route, second, 'second.png', original.id);
        assert.equal(replaced.id, original.id, 'the same file');
        assert.equal(replaced.key, original.key, 'the same key');
        assert.deepEqual([replaced.filename, replaced.size, replaced.sha256], ['second.png', second.length, sha256(second)]);
        assert.equal(await downloaded(replaced.url), sha256(second), 'the file serves the new bytes');

        const versions = await api.listed(alice, original.id);
        assert.deepEqual(
          versions.map((v) => [v.filename, v.size, v.sha256, v.isCurrent, v.contentType]),
          [
            ['second.png', second.length, sha256(second), true, 'image/png'],
            ['first.png', first.length, sha256(first), false, 'image/png'],
          ],
          'newest first',
        );
        assert.ok(versions.every((v) => !Number.isNaN(Date.parse(v.createdAt))));
        assert.notEqual(versions[0]!.id, versions[1]!.id);
        assert.equal(await downloaded(versions[0]!.url), sha256(second));
        assert.equal(await downloaded(versions[1]!.url), sha256(first), 'an older version downloads as it was');

        const restoredRes = await api.restore(alice, original.id, versions[1]!.id);
        assert.equal(restoredRes.status, 200, await restoredRes.clone().text());
        const restored = (await restoredRes.json()) as FileJson;
        assert.deepEqual([restored.id, restored.filename, restored.size, restored.sha256], [original.id, 'first.png', first.length, sha256(first)]);
        assert.equal(await downloaded(restored.url), sha256(first), 'the restored bytes are served');
        assert.deepEqual(await api.current(alice, original.id).then((f) => f.sha256), sha256(first));

        const after = await api.listed(alice, original.id);
        assert.deepEqual(
          after.map((v) => [v.sha256, v.isCurrent]),
          [[sha256(first), true], [sha256(second), false], [sha256(first), false]],
          'a restore is a new version with the old bytes; the ones in between stay',
        );
        assert.equal(await downloaded(after[0]!.url), sha256(first));

        const again = await api.restore(alice, original.id, after[0]!.id);
        assert.equal(again.status, 200, 'restoring the current version changes nothing');
        assert.equal((await api.listed(alice, original.id)).length, 3);
      });
    }

    it('ownership: another user cannot list, restore or replace the file (404, as if it did not exist)', async () => {
      const file = await api.upload(alice, 'scan', png(10_000), 'mine.png');
      await api.upload(alice, 'scan', png(11_000), 'mine-2.png', file.id);
      const [, older] = await api.listed(alice, file.id);

      await problem(await api.versions(bob, file.id), 404, 'not_found');
      await problem(await api.restore(bob, file.id, older!.id), 404, 'not_found');
      await problem(await api.create(bob, { route: 'scan', filename: 'x.png', contentType: 'image/png', size: 100, replaces: file.id }), 404, 'not_found');
      assert.equal((await api.current(alice, file.id)).filename, 'mine-2.png', 'untouched');
      assert.equal((await api.listed(alice, file.id)).length, 2);
    });

    it('refuses a replacement on another route, an unknown file, and unknown or malformed version ids', async () => {
      const file = await api.upload(alice, 'scan', png(10_000), 'a.png');
      const body = { route: 'photo', filename: 'b.png', contentType: 'image/png', size: 100 };
      await problem(await api.create(alice, { ...body, replaces: file.id }), 400, 'invalid_request');
      await problem(await api.create(alice, { ...body, replaces: randomUUID() }), 404, 'not_found');
      await problem(await api.create(alice, { ...body, replaces: 'not-a-uuid' }), 400, 'invalid_request');
      for (const id of ['no-such-version', 'a'.repeat(1025), '..', '%00']) await problem(await api.restore(alice, file.id, id), 404, 'not_found');
      await problem(await api.versions(alice, randomUUID()), 404, 'not_found');
      const other = await api.upload(alice, 'scan', png(12_000), 'other.png');
      const [otherVersion] = await api.listed(alice, other.id);
      await problem(await api.restore(alice, file.id, otherVersion!.id), 404, 'not_found');
    });

    it('a replacement of a file deleted meanwhile is refused, and the file stays deleted', async () => {
      const file = await api.upload(alice, 'photo', png(10_000), 'gone.png');
      const bytes = png(14_000);
      const pending = await api.send(alice, 'photo', bytes, 'late.png', file.id);
      assert.equal((await server.api(`/v1/files/${file.id}`, { method: 'DELETE', token: alice })).status, 204);
      await problem(await server.api(`/v1/uploads/${pending.id}/complete`, { token: alice, json: { sha256: sha256(bytes) } }), 404, 'not_found');
      assert.equal(await server.upfront.services.storage.head('public', file.key), null, 'nothing served at its key');
    });

    it('two replacements completed at once: both are versions, and the record describes the bytes served', async () => {
      const file = await api.upload(alice, 'scan', png(10_000), 'base.png');
      const [a, b] = [png(21_000), png(22_000)];
      const [upA, upB] = await Promise.all([api.send(alice, 'scan', a, 'a.png', file.id), api.send(alice, 'scan', b, 'b.png', file.id)]);
      await Promise.all([api.complete(alice, upA.id, sha256(a)), api.complete(alice, upB.id, sha256(b))]);

      const current = await api.current(alice, file.id);
      assert.equal(await downloaded(current.url), current.sha256, 'the record is the current version');
      const versions = await api.listed(alice, file.id);
      assert.deepEqual(new Set(versions.map((v) => v.sha256)), new Set([sha256(a), sha256(b), file.sha256]));
      assert.equal(versions.find((v) => v.isCurrent)?.sha256, current.sha256);
    });

    it('two restores at once: the record describes the bytes served', async () => {
      const file = await api.upload(alice, 'photo', png(10_000), 'v1.png');
      await api.upload(alice, 'photo', png(11_000), 'v2.png', file.id);
      await api.upload(alice, 'photo', png(12_000), 'v3.png', file.id);
      const [, v2, v1] = await api.listed(alice, file.id);
      const answers = await Promise.all([api.restore(alice, file.id, v1!.id), api.restore(alice, file.id, v2!.id)]);
      assert.deepEqual(answers.map((res) => res.status), [200, 200]);

      const current = await api.current(alice, file.id);
      const versions = await api.listed(alice, file.id);
      const served = versions.find((v) => v.isCurrent)!;
      assert.equal(await downloaded(served.url), current.sha256, 'the record is the current version');
      assert.ok([v1!.sha256, v2!.sha256].includes(current.sha256), 'one of the restored versions won');
      assert.equal(versions.length, 5);
    });
  });
}

describe('replacing on an RGW bucket without versioning', () => {
  let server: TestServer;
  let api: ReturnType<typeof apiOf>;
  let alice: string;

  before(async () => {
    // The test RGW's own buckets, not versioned (scripts/rgw/provision.ts), with the API's least-privilege user.
    server = await startTestServer({ driver: 's3', routes });
    api = apiOf(server);
    alice = await server.token(`alice-${randomUUID().slice(0, 8)}`);
  });
  after(() => server?.close());

  it('overwrites in place: the file has its new bytes and one version, "null"; restoring it changes nothing', async () => {
    const file = await api.upload(alice, 'scan', png(10_000), 'one.png');
    const next = png(13_000);
    const replaced = await api.upload(alice, 'scan', next, 'two.png', file.id);
    assert.deepEqual([replaced.id, replaced.filename, replaced.sha256], [file.id, 'two.png', sha256(next)]);
    assert.equal(await downloaded(replaced.url), sha256(next));
    const versions = await api.listed(alice, file.id);
    assert.deepEqual(versions.map((v) => [v.id, v.filename, v.sha256, v.isCurrent]), [['null', 'two.png', sha256(next), true]]);
    assert.equal(await downloaded(versions[0]!.url), sha256(next));
    const restored = await api.restore(alice, file.id, 'null');
    assert.equal(restored.status, 200);
    assert.equal(((await restored.json()) as FileJson).sha256, sha256(next));
  });
});
