/**
 * Each of the sweeper's actions on a real server (disk driver with SQLite; Ceph RGW, versioned buckets of the
 * test's own and the API's least-privilege user, with PostgreSQL), through what really leaves work for
 * it: bytes PUT through a still-valid URL after an abort, a browser that never calls complete, an upload
 * left to expire, bytes that fail verification, a promotion cut between copy and record, objects and
 * multipart uploads nobody recorded, a file whose object was removed behind the API's back, and a crash's
 * temp files and sidecars in the data directory. Every sweep is called directly with no settle time (and
 * no grace where the grace is what is tested).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sweep } from '@upfront/server';
import { startIdp, type Idp } from '../support/idp.ts';
import { postgresSchema } from '../support/postgres.ts';
import { makePng } from '../support/png.ts';
import { startTestServer, type Driver, type TestServer } from '../support/server.ts';
import { sendToStorage, type CreatedUpload } from '../support/transfer.ts';
import { versionedRgwBuckets } from '../support/versioned-buckets.ts';

const png = makePng({ width: 8, height: 8, minBytes: 4_000 });
const routes = {
  image: { types: ['image/png'], maxSize: '64KB', visibility: 'public', strategy: 'put' },
  // Signed URLs and the upload itself live 1 s.
  short: { types: ['image/png'], maxSize: '64KB', visibility: 'public', strategy: 'put', expiresIn: 1 },
  doc: { types: ['application/pdf'], maxSize: '64KB', visibility: 'private', strategy: 'put' },
};
const now = { settleSeconds: 0, graceSeconds: 0 };

const setups: { driver: Driver; database: 'sqlite' | 'postgres' }[] = [
  { driver: 'disk', database: 'sqlite' },
  { driver: 's3', database: 'postgres' },
];

for (const { driver, database } of setups) describe(`the sweeper (${driver}, ${database})`, () => {
  let server: TestServer;
  let idp: Idp;
  let token: string;
  let pg: Awaited<ReturnType<typeof postgresSchema>> | undefined;
  const buckets = driver === 's3' ? versionedRgwBuckets('sweeper', routes) : undefined;

  before(async () => {
    idp = await startIdp();
    if (database === 'postgres') pg = await postgresSchema();
    const env = { ...idp.env, ...(pg && { DATABASE_URL: pg.url }), ...(await buckets?.provision()) };
    server = await startTestServer({ driver, routes, env });
    token = await server.token(`sweep-${randomUUID().slice(0, 8)}`);
  });
  after(async () => {
    await server?.close();
    await idp?.close();
    await pg?.drop();
    await buckets?.remove();
  });

  const services = () => server.upfront.services;
  async function created(route: string, contentType = 'image/png', size = png.length): Promise<CreatedUpload> {
    const res = await server.api('/v1/uploads', { token, json: { route, filename: 'a.png', contentType, size } });
    assert.equal(res.status, 201, await res.clone().text());
    return (await res.json()) as CreatedUpload;
  }
  const state = async (id: string) => (await services().store.getUpload(id))?.state;
  const staged = async (key: string) => (await services().storage.head('staging', key)) !== null;

  it('deletes bytes PUT through a still-valid URL after the upload was aborted', async () => {
    const upload = await created('image');
    assert.equal((await server.api(`/v1/uploads/${upload.id}`, { method: 'DELETE', token })).status, 204);
    assert.equal((await sendToStorage(upload, png, 'image/png')).status, 200, 'the signed URL still works');
    assert.equal(await staged(upload.key), true);
    const report = await sweep(services(), now);
    assert.ok(report.examples.staged_deleted?.includes(upload.key), JSON.stringify(report));
    assert.equal(await staged(upload.key), false);
    assert.equal(await state(upload.id), 'aborted');
  });

  it('keeps what an unfinished upload owns until it has settled', async () => {
    const upload = await created('image');
    assert.equal((await sendToStorage(upload, png, 'image/png')).status, 200);
    const report = await sweep(services(), { settleSeconds: 3600, graceSeconds: 0 });
    assert.equal(report.examples.finalized?.includes(upload.key) ?? false, false);
    assert.equal(await state(upload.id), 'pending');
    assert.equal(await staged(upload.key), true);
  });

  it('finalizes an upload whose bytes arrived but whose browser never called complete', async () => {
    const upload = await created('image');
    assert.equal((await sendToStorage(upload, png, 'image/png')).status, 200);
    const report = await sweep(services(), now);
    assert.ok(report.examples.finalized?.includes(upload.key), JSON.stringify(report));
    const after = await services().store.getUpload(upload.id);
    assert.equal(after?.state, 'ready');
    const file = await server.api(`/v1/files/${after!.fileId}`, { token });
    assert.equal(file.status, 200);
    const { url } = (await file.json()) as { url: string };
    assert.deepEqual(new Uint8Array(await (await fetch(url)).arrayBuffer()), new Uint8Array(png));
    assert.equal(await staged(upload.key), false, 'the staged copy is gone');
  });

  it('rejects, as complete would, bytes that are not what the route accepts', async () => {
    const pdfBytes = Buffer.from('%PDF-1.4\n%%EOF\n');
    const upload = await created('image', 'image/png', pdfBytes.length);
    assert.equal((await sendToStorage(upload, pdfBytes, 'image/png')).status, 200);
    const report = await sweep(services(), now);
    assert.ok(report.examples.rejected?.some((example) => example.startsWith(upload.key)), JSON.stringify(report));
    assert.equal(await state(upload.id), 'rejected');
    assert.equal(await staged(upload.key), false);
  });

  it('expires an upload past its expiry whose bytes never came', async () => {
    const upload = await created('short');
    await sleep(1100);
    const report = await sweep(services(), now);
    assert.ok(report.examples.expired?.includes(upload.key), JSON.stringify(report));
    assert.equal(await state(upload.id), 'expired');
    const res = await server.api(`/v1/uploads/${upload.id}/complete`, { method: 'POST', token });
    assert.equal(res.status, 410, await res.text());
  });

  it('heals a promotion a crash cut between copy and record (the staged copy gone too)', async () => {
    const upload = await created('image');
    assert.equal((await sendToStorage(upload, png, 'image/png')).status, 200);
    // What complete does up to the record, then what staging expiry would do.
    await services().storage.copy({ bucket: 'staging', key: upload.key }, { bucket: 'public', key: upload.key }, { contentType: 'image/png' });
    await services().storage.delete('staging', upload.key);
    const report = await sweep(services(), now);
    assert.ok(report.examples.healed?.includes(upload.key), JSON.stringify(report));
    assert.equal(await state(upload.id), 'ready');
    assert.equal(report.counts.orphan_deleted, 0, 'the copy was recorded, not deleted');
  });

  it('deletes objects of the final buckets no record owns, only after the grace period', async () => {
    const key = `orphan/${randomUUID()}.png`;
    const { storage } = services();
    await storage.copy({ bucket: 'staging', key: await stagedProbe() }, { bucket: 'private', key }, { contentType: 'image/png' });
    const early = await sweep(services(), { settleSeconds: 0, graceSeconds: 3600 });
    assert.equal(early.examples.orphan_deleted?.includes(`private/${key}`) ?? false, false);
    assert.notEqual(await storage.head('private', key), null);
    const late = await sweep(services(), now);
    assert.ok(late.examples.orphan_deleted?.includes(`private/${key}`), JSON.stringify(late));
    assert.equal(await storage.head('private', key), null);
  });

  it('marks a file whose object is gone as missing, and its JSON says so; unmarks it when it is back', async () => {
    const upload = await created('image');
    await sendToStorage(upload, png, 'image/png');
    const file = (await (await server.api(`/v1/uploads/${upload.id}/complete`, { method: 'POST', token })).json()) as { id: string; key: string };
    const { storage } = services();
    const [version] = await storage.listVersions('public', file.key);
    await storage.delete('public', file.key);
    const report = await sweep(services(), now);
    assert.ok(report.examples.marked_missing?.includes(`public/${file.key}`), JSON.stringify(report));
    const json = (await (await server.api(`/v1/files/${file.id}`, { token })).json()) as { missing?: boolean };
    assert.equal(json.missing, true);
    await storage.copy({ bucket: 'public', key: file.key, versionId: version!.versionId }, { bucket: 'public', key: file.key }, { contentType: 'image/png' });
    const back = await sweep(services(), now);
    assert.ok(back.examples.missing_cleared?.includes(`public/${file.key}`), JSON.stringify(back));
    const again = (await (await server.api(`/v1/files/${file.id}`, { token })).json()) as { missing?: boolean };
    assert.equal(again.missing, undefined);
  });

  it('aborts multipart uploads storage holds that no upload owns', async () => {
    const key = `stray/${randomUUID()}.bin`;
    const { storage } = services();
    const uploadId = await storage.createMultipart(key, 'application/octet-stream');
    const report = await sweep(services(), now);
    assert.ok(report.examples.multipart_aborted?.includes(key), JSON.stringify(report));
    assert.equal(await storage.listParts(key, uploadId), null);
  });

  // The disk driver's own: its data directory.
  if (driver === 'disk') it("removes a crash's temp files and sidecars without their object, not fresh ones", async () => {
    const tmp = join(server.dataDir, 'tmp');
    await mkdir(tmp, { recursive: true });
    const [old, fresh] = [join(tmp, randomUUID()), join(tmp, randomUUID())];
    // A temp file counts as touched by its mtime or its ctime (a copy's fresh link to an old file), which
    // no test can set back: this one is left to age past the settle time.
    await writeFile(old, 'half a file');
    await sleep(2100);
    await writeFile(fresh, 'being written');
    const hourAgo = new Date(Date.now() - 3600_000);
    const sidecarKey = `crashed/${randomUUID()}.png`;
    const sidecar = join(server.dataDir, 'meta', 'staging', ...sidecarKey.split('/'));
    await mkdir(join(sidecar, '..'), { recursive: true });
    await writeFile(sidecar, '{"contentType":"image/png"}');
    await utimes(sidecar, hourAgo, hourAgo);

    const report = await sweep(services(), { settleSeconds: 2, graceSeconds: 0 });
    assert.ok(report.examples.temp_removed?.some((example) => old.endsWith(example.slice('tmp/'.length))), JSON.stringify(report));
    assert.ok(report.examples.sidecar_removed?.includes(`staging/${sidecarKey}`), JSON.stringify(report));
    const left = await readdir(tmp);
    assert.ok(left.includes(fresh.split('/').at(-1)!), 'a temp file touched within the settle time stays');
    assert.ok(!left.includes(old.split('/').at(-1)!));
  });

  it('three sweeps at once (as from three instances) finalize each upload once and fail nowhere', async () => {
    const own = await server.token(`racer-${randomUUID().slice(0, 8)}`);
    const uploads: CreatedUpload[] = [];
    for (let n = 0; n < 5; n++) {
      const res = await server.api('/v1/uploads', { token: own, json: { route: 'image', filename: `${n}.png`, contentType: 'image/png', size: png.length } });
      const upload = (await res.json()) as CreatedUpload;
      assert.equal((await sendToStorage(upload, png, 'image/png')).status, 200);
      uploads.push(upload);
    }
    const reports = await Promise.all([sweep(services(), now), sweep(services(), now), sweep(services(), now)]);
    for (const report of reports) assert.equal(report.counts.failed, 0, JSON.stringify(report.examples.failed));
    for (const upload of uploads) {
      assert.equal(await state(upload.id), 'ready');
      assert.equal(await staged(upload.key), false);
    }
    const { files } = (await (await server.api('/v1/files', { token: own })).json()) as { files: { key: string }[] };
    assert.deepEqual(files.map((file) => file.key).sort(), uploads.map((upload) => upload.key).sort(), 'one file per upload');
  });

  it('prunes the rate limiter\'s counts of windows that no longer count, and keeps the current ones', async () => {
    const { store } = services();
    const minute = 60_000;
    const current = Date.now() - (Date.now() % minute);
    await store.countRequest('prune-old', current - 10 * minute, minute);
    await store.countRequest('prune-now', current, minute);
    const report = await sweep(services(), now);
    assert.ok(report.counts.records_pruned >= 1, JSON.stringify(report.counts));
    assert.deepEqual(await store.countRequest('prune-old', current - 10 * minute, minute), { current: 1, previous: 0 }, 'the old count was deleted');
    assert.equal((await store.countRequest('prune-now', current, minute)).current, 2, 'the current count was kept');
  });

  it('counts what it did in upfront_sweeper_actions_total, and a sweep of nothing does nothing', async () => {
    await sweep(services(), now); // what the tests before left (the fresh temp file)
    const quiet = await sweep(services(), now);
    assert.deepEqual(Object.entries(quiet.counts).filter(([, count]) => count > 0), []);
    const metrics = await (await server.api('/metrics')).text();
    assert.match(metrics, /upfront_sweeper_actions_total\{action="staged_deleted"\} [1-9]/);
    assert.match(metrics, /upfront_sweeper_actions_total\{action="finalized"\} [1-9]/);
  });

  /** A staged object of no upload, as a copy's source (deleted again). */
  async function stagedProbe(): Promise<string> {
    const upload = await created('image');
    await sendToStorage(upload, png, 'image/png');
    await server.api(`/v1/uploads/${upload.id}`, { method: 'DELETE', token }).catch(() => undefined);
    // The abort deleted it: send it again through the still-valid URL.
    await sendToStorage(upload, png, 'image/png');
    return upload.key;
  }
});

describe('the sweeper inside the server (disk, SQLite)', () => {
  it('sweeps on its interval: an upload whose browser went away becomes a file, counted in /metrics', async () => {
    const idp = await startIdp();
    const server = await startTestServer({ driver: 'disk', routes, env: { ...idp.env, SWEEP_INTERVAL_SECONDS: '1', SWEEP_SETTLE_SECONDS: '0' } });
    try {
      const token = await server.token('interval');
      const res = await server.api('/v1/uploads', { token, json: { route: 'image', filename: 'a.png', contentType: 'image/png', size: png.length } });
      const upload = (await res.json()) as CreatedUpload;
      assert.equal((await sendToStorage(upload, png, 'image/png')).status, 200);
      // Nobody calls complete: the server's own sweeps do (the first within a second of start, then every second).
      let state: string | undefined;
      for (let wait = 0; wait < 300 && state !== 'ready'; wait++) {
        await sleep(100);
        state = (await server.upfront.services.store.getUpload(upload.id))?.state;
      }
      assert.equal(state, 'ready');
      assert.match(await (await server.api('/metrics')).text(), /upfront_sweeper_actions_total\{action="finalized"\} 1/);
    } finally {
      await server.close();
      await idp.close();
    }
  });
});
