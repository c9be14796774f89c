/**
 * Webhooks through real HTTP, to real receivers (node:http) that verify each request with
 * standardwebhooks' `verify`: every event type arrives with its payload (upload completed, replaced,
 * rejected, file deleted, version restored; none for a route without a webhook); a receiver that fails
 * three times gets the event on the fourth attempt under the same webhook-id; a dead-lettered event is
 * sent again by `upfront webhooks retry`; the outbox row is written in the change's own transaction (an
 * event that cannot be written undoes the change); and, with the API in a process of its own killed with
 * SIGKILL and restarted while the receiver is down, every event still arrives once the receiver is up.
 * Disk storage with SQLite and PostgreSQL, and RGW buckets with versioning for the event types.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { openStore } from '@upfront/server';
import type { MetadataStore } from '@upfront/server';
import { freePort, startApiProcess, type ApiProcess } from '../support/api-process.ts';
import { makePng } from '../support/png.ts';
import { postgresSchema } from '../support/postgres.ts';
import { startTestServer, type Driver, type TestServer } from '../support/server.ts';
import { sendToStorage, type CreatedUpload } from '../support/transfer.ts';
import { versionedRgwBuckets } from '../support/versioned-buckets.ts';
import { webhookReceiver, type Delivery, type WebhookReceiver } from '../support/webhook-receiver.ts';

const cli = fileURLToPath(new URL('../../packages/cli/src/bin.ts', import.meta.url));
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const png = (minBytes: number) => makePng({ width: 8, height: 8, minBytes });
/** Quick retries, so a test sees several attempts (the defaults wait 2 s, doubling). */
const fastRetries = { WEBHOOK_POLL_INTERVAL_MS: '50', WEBHOOK_BACKOFF_BASE_MS: '50', WEBHOOK_BACKOFF_MAX_MS: '200', WEBHOOK_MAX_ATTEMPTS: '4' };

interface FileJson {
  id: string;
  key: string;
  filename: string;
  size: number;
  sha256: string | null;
  visibility: string;
  url: string;
}

async function upfrontCli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--conditions=upfront-source', '--import', 'tsx', cli, 'webhooks', ...args], {
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

/** The API calls of one server (or API process) as one user. */
function apiOf(url: string, token: string) {
  const call = (path: string, init: { method?: string; json?: unknown } = {}) =>
    fetch(url + path, {
      method: init.method ?? (init.json === undefined ? 'GET' : 'POST'),
      headers: { authorization: `Bearer ${token}`, ...(init.json !== undefined && { 'content-type': 'application/json' }) },
      ...(init.json !== undefined && { body: JSON.stringify(init.json) }),
    });
  return {
    call,
    async send(route: string, bytes: Uint8Array, filename: string, replaces?: string): Promise<CreatedUpload> {
      const res = await call('/v1/uploads', { json: { route, filename, contentType: 'image/png', size: bytes.length, ...(replaces && { replaces }) } });
      assert.equal(res.status, 201, await res.clone().text());
      const upload = (await res.json()) as CreatedUpload;
      assert.ok((await sendToStorage(upload, bytes, 'image/png')).status < 300);
      return upload;
    },
    async upload(route: string, bytes: Uint8Array, filename: string, replaces?: string): Promise<FileJson & { uploadId: string }> {
      const upload = await this.send(route, bytes, filename, replaces);
      const res = await call(`/v1/uploads/${upload.id}/complete`, { json: { sha256: sha256(bytes) } });
      assert.equal(res.status, 200, await res.clone().text());
      return { ...((await res.json()) as FileJson), uploadId: upload.id };
    },
    /** An upload declared as a PNG whose bytes are not one: verification rejects it. */
    async rejected(route: string): Promise<string> {
      const upload = await this.send(route, new TextEncoder().encode('not a png at all, just text'.repeat(20)), 'fake.png');
      const res = await call(`/v1/uploads/${upload.id}/complete`, { json: {} });
      assert.equal(res.status, 422, await res.clone().text());
      assert.equal(((await res.json()) as { code: string }).code, 'content_type_mismatch');
      return upload.id;
    },
    async file(id: string): Promise<FileJson> {
      const res = await call(`/v1/files/${id}`);
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()) as FileJson;
    },
  };
}

/** The file JSON a webhook carries: the API's, with the URL only for a public file. */
function expectedFile(file: FileJson): Record<string, unknown> {
  const { url, variants: _variants, ...fields } = file as FileJson & { variants?: unknown };
  return file.visibility === 'public' ? { ...fields, url } : fields;
}

const setups: { driver: Driver; database: 'sqlite' | 'postgres' }[] = [
  { driver: 'disk', database: 'sqlite' },
  { driver: 'disk', database: 'postgres' },
  { driver: 's3', database: 'sqlite' },
];

for (const { driver, database } of setups) {
  describe(`webhooks on ${driver === 's3' ? 'RGW buckets with versioning' : 'disk'} with ${database}`, () => {
    let server: TestServer;
    let store: MetadataStore;
    let pg: Awaited<ReturnType<typeof postgresSchema>> | undefined;
    const rgw = versionedRgwBuckets('webhooks', {
      photo: { visibility: 'public' },
      scan: { visibility: 'private' },
      flaky: { visibility: 'public' },
      down: { visibility: 'public' },
      plain: { visibility: 'public' },
    });
    const receivers: Record<'events' | 'flaky' | 'down', WebhookReceiver> = {} as never;
    let env: Record<string, string>;
    let api: ReturnType<typeof apiOf>;
    let user: string;

    before(async () => {
      for (const name of ['events', 'flaky', 'down'] as const) {
        receivers[name] = webhookReceiver(await freePort());
        await receivers[name].start();
      }
      const hook = (receiver: WebhookReceiver) => ({ url: receiver.url, secret: receiver.secret });
      const png = { types: ['image/png'], maxSize: '256KB' };
      const routes = {
        photo: { ...png, visibility: 'public', strategy: 'put', webhook: hook(receivers.events) },
        scan: { ...png, visibility: 'private', strategy: 'post', webhook: hook(receivers.events) },
        flaky: { ...png, visibility: 'public', strategy: 'put', webhook: hook(receivers.flaky) },
        down: { ...png, visibility: 'public', strategy: 'put', webhook: hook(receivers.down) },
        plain: { ...png, visibility: 'public', strategy: 'put' },
      };
      if (database === 'postgres') pg = await postgresSchema();
      const buckets = driver === 's3' ? await rgw.provision() : {};
      env = { ...fastRetries, ...buckets, ...(pg && { DATABASE_URL: pg.url }) };
      server = await startTestServer({ driver, routes, env });
      store = server.upfront.services.store;
      user = `hooks-${randomUUID().slice(0, 8)}`;
      api = apiOf(server.url, await server.token(user));
    });
    after(async () => {
      await server?.close();
      for (const receiver of Object.values(receivers)) await receiver?.stop();
      await pg?.drop();
      await rgw.remove();
    });

    it('each event arrives signed, with its payload: completed, replaced, rejected, version restored, deleted', async () => {
      const events = receivers.events;
      const byType = (type: string) => (accepted: Delivery[]) => accepted.filter((d) => d.event.type === type);
      const scan = await api.upload('scan', png(10_000), 'scan.png');
      const first = png(20_000);
      const photo = await api.upload('photo', first, 'first.png');
      const [completed] = await events.until('upload.completed of the photo', (a) => a.some((d) => d.event.data.uploadId === photo.uploadId)).then((a) => a.filter((d) => d.event.data.uploadId === photo.uploadId));
      assert.equal(completed!.event.type, 'upload.completed');
      assert.deepEqual(completed!.event.data, { uploadId: photo.uploadId, route: 'photo', userId: user, replaces: null, file: expectedFile(await api.file(photo.id)) });
      assert.ok(!Number.isNaN(Date.parse(completed!.event.timestamp)));
      const scanEvent = (await events.until('upload.completed of the scan', (a) => a.some((d) => d.event.data.uploadId === scan.uploadId))).find((d) => d.event.data.uploadId === scan.uploadId)!;
      assert.deepEqual(scanEvent.event.data.file, expectedFile(await api.file(scan.id)), 'a private file: its fields, no signed URL');
      assert.equal((scanEvent.event.data.file as { url?: string }).url, undefined);

      const second = png(30_000);
      const replacement = await api.upload('photo', second, 'second.png', photo.id);
      const replaced = (await events.until('upload.completed of the replacement', (a) => a.some((d) => d.event.data.uploadId === replacement.uploadId))).find((d) => d.event.data.uploadId === replacement.uploadId)!;
      assert.deepEqual(replaced.event.data, { uploadId: replacement.uploadId, route: 'photo', userId: user, replaces: photo.id, file: expectedFile(await api.file(photo.id)) });
      const replacedFile = replaced.event.data.file as { filename: string; sha256: string };
      assert.deepEqual([replacedFile.filename, replacedFile.sha256], ['second.png', sha256(second)]);

      const rejectedId = await api.rejected('photo');
      const [rejected] = byType('upload.rejected')(await events.until('upload.rejected', (a) => byType('upload.rejected')(a).length > 0));
      assert.deepEqual(rejected!.event.data, { uploadId: rejectedId, route: 'photo', userId: user, code: 'content_type_mismatch' });

      const versions = (await (await api.call(`/v1/files/${photo.id}/versions`)).json()) as { versions: { id: string; sha256: string }[] };
      const older = versions.versions.find((v) => v.sha256 === sha256(first))!;
      const restore = await api.call(`/v1/files/${photo.id}/versions/${encodeURIComponent(older.id)}/restore`, { method: 'POST' });
      assert.equal(restore.status, 200, await restore.clone().text());
      const [restored] = byType('file.version_restored')(await events.until('file.version_restored', (a) => byType('file.version_restored')(a).length > 0));
      const current = await api.file(photo.id);
      assert.deepEqual(restored!.event.data, { route: 'photo', userId: user, versionId: older.id, file: expectedFile(current) });
      assert.equal(current.sha256, sha256(first));

      assert.equal((await api.call(`/v1/files/${photo.id}`, { method: 'DELETE' })).status, 204);
      const [deleted] = byType('file.deleted')(await events.until('file.deleted', (a) => byType('file.deleted')(a).length > 0));
      assert.deepEqual(deleted!.event.data, { route: 'photo', userId: user, file: expectedFile(current) });

      // A route without a webhook writes no outbox rows at all.
      const plain = await api.upload('plain', png(11_000), 'plain.png');
      assert.equal((await api.call(`/v1/files/${plain.id}`, { method: 'DELETE' })).status, 204);
      const all = await store.webhookOutbox.list(['pending', 'delivered', 'dead'], 1000);
      assert.equal(all.filter((m) => m.route === 'plain').length, 0);
      assert.equal(events.accepted().length, 6);
      assert.deepEqual(events.forged, [], 'every request verified');
      const delivered = all.filter((m) => m.route === 'photo' || m.route === 'scan');
      assert.deepEqual(new Set(delivered.map((m) => m.id)), new Set(events.accepted().map((d) => d.id)), 'webhook-id is the outbox id');
    });

    it('a receiver that fails three times gets the event on the fourth attempt, under the same webhook-id', async () => {
      const flaky = receivers.flaky;
      flaky.respond = (previous) => (previous < 3 ? 500 : 200);
      const file = await api.upload('flaky', png(12_000), 'flaky.png');
      const [delivery] = await flaky.until('the flaky route\'s event', (a) => a.length === 1);
      assert.equal(delivery!.event.data.uploadId, file.uploadId);
      const attempts = flaky.requests.filter((request) => request.id === delivery!.id);
      assert.deepEqual(attempts.map((a) => a.status), [500, 500, 500, 200]);
      assert.equal(flaky.requests.length, 4, 'one message, four attempts');
      assert.deepEqual(flaky.forged, []);
      // The receiver has answered; the worker records the delivery just after.
      let row;
      while (!(row = (await store.webhookOutbox.list(['delivered'], 1000)).find((m) => m.id === delivery!.id))) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(row.attempts, 4);
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      assert.match(metrics, /upfront_webhook_deliveries_total\{route="flaky",outcome="failed"\} 3/);
      assert.match(metrics, /upfront_webhook_deliveries_total\{route="flaky",outcome="delivered"\} 1/);
    });

    it('dead-lettered after WEBHOOK_MAX_ATTEMPTS failures; `upfront webhooks retry` sends it again', async () => {
      const down = receivers.down;
      down.respond = () => 503;
      const file = await api.upload('down', png(13_000), 'down.png');
      let dead;
      while (!(dead = (await store.webhookOutbox.list(['dead'], 1000)).find((m) => m.route === 'down'))) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(dead.attempts, 4);
      assert.equal(dead.lastError, 'the receiver answered HTTP 503');
      assert.equal(down.requests.length, 4);
      assert.match(await (await fetch(`${server.url}/metrics`)).text(), /upfront_webhook_deliveries_total\{route="down",outcome="dead"\} 1/);

      const cliEnv = { UPFRONT_DATA_DIR: server.dataDir, ...(pg && { DATABASE_URL: pg.url }), UPFRONT_CONFIG: join(server.dataDir, 'upfront.config.json') };
      const listed = await upfrontCli(['list', '--dead', '--json'], cliEnv);
      assert.equal(listed.code, 0, listed.stderr);
      const messages = (JSON.parse(listed.stdout) as { messages: { id: string; state: string; attempts: number; event: { data: { uploadId: string } } }[] }).messages;
      assert.deepEqual(messages.map((m) => [m.id, m.state, m.attempts, m.event.data.uploadId]), [[dead.id, 'dead', 4, file.uploadId]]);
      const table = await upfrontCli(['list'], cliEnv);
      assert.match(table.stdout, new RegExp(`^ID +ROUTE +TYPE +STATE +ATTEMPTS +NEXT ATTEMPT +LAST ERROR\\n${dead.id} +down +upload.completed +dead +4 +- +the receiver answered HTTP 503\\n$`));

      down.respond = () => 204;
      const retried = await upfrontCli(['retry', dead.id], cliEnv);
      assert.equal(retried.code, 0, retried.stderr);
      assert.equal(retried.stdout, `${dead.id} is pending again, with a fresh count of attempts.\n`);
      const [delivery] = await down.until('the retried event', (a) => a.length === 1);
      assert.equal(delivery!.id, dead.id, 'the same webhook-id');
      assert.equal(down.requests.length, 5);

      while (!(await store.webhookOutbox.list(['delivered'], 1000)).some((m) => m.id === dead.id)) await new Promise((resolve) => setTimeout(resolve, 20));
      const again = await upfrontCli(['retry', dead.id], cliEnv);
      assert.deepEqual([again.code, again.stderr], [1, `upfront: ${dead.id} was delivered already.\n`]);
      assert.equal((await upfrontCli(['list', '--dead'], cliEnv)).stdout, 'No dead webhook messages.\n');
      const usage = await upfrontCli(['retry'], cliEnv);
      assert.deepEqual([usage.code, usage.stderr], [2, 'upfront: upfront webhooks retry takes one message id, or --all-dead\n']);
    });

    it('the outbox row is written in the change\'s transaction: an event that cannot be written undoes the change', async () => {
      const [existing] = await store.webhookOutbox.list(['delivered'], 1);
      assert.ok(existing);
      const upload = await api.send('photo', png(9_000), 'atomic.png');
      const payload = JSON.stringify({ type: 'upload.rejected', timestamp: new Date().toISOString(), data: { uploadId: upload.id, route: 'photo', userId: user, code: 'content_type_mismatch' } });
      const duplicate = { id: existing.id, route: 'photo', type: 'upload.rejected' as const, payload };
      await assert.rejects(store.transitionUpload(upload.id, ['pending'], 'rejected', { errorCode: 'content_type_mismatch' }, { event: duplicate }));
      assert.equal((await store.getUpload(upload.id))?.state, 'pending', 'not rejected without its event');

      const failing = () => {
        throw new Error('no event');
      };
      const record = { id: randomUUID(), uploadId: upload.id, userId: user, route: 'photo', key: upload.key, visibility: 'public' as const, filename: 'atomic.png', contentType: 'image/png', size: 9_000, sha256: null };
      await assert.rejects(store.finishUpload(record, { event: failing }), /no event/);
      assert.equal(await store.getFile(record.id), undefined, 'no file without its event');
      assert.equal((await store.getUpload(upload.id))?.state, 'pending');

      const rejected = await store.transitionUpload(upload.id, ['pending'], 'rejected', { errorCode: 'content_type_mismatch' }, { event: { ...duplicate, id: `msg_${randomUUID()}` } });
      assert.equal(rejected?.state, 'rejected');
      assert.equal(await store.transitionUpload(upload.id, ['pending'], 'rejected', {}, { event: { ...duplicate, id: `msg_${randomUUID()}` } }), undefined, 'compare-and-set: a second rejection matches nothing');
      const rows = (await store.webhookOutbox.list(['pending', 'delivered', 'dead'], 1000)).filter((m) => m.payload === payload);
      assert.equal(rows.length, 1, 'and writes no event');
    });

    it('the sweeper prunes delivered messages only once they are a week old', async () => {
      // Once the events of the tests before are all sent (or dead), nothing changes under the counts below.
      while ((await store.webhookOutbox.list(['pending'], 1)).length > 0) await new Promise((resolve) => setTimeout(resolve, 20));
      const delivered = await store.webhookOutbox.list(['delivered'], 1000);
      assert.ok(delivered.length > 0);
      assert.equal(await store.webhookOutbox.pruneDelivered(new Date(Date.now() - 7 * 86_400_000)), 0, 'none is a week old');
      const undelivered = (await store.webhookOutbox.list(['dead'], 1000)).length;
      assert.equal(await store.webhookOutbox.pruneDelivered(new Date(Date.now() + 1000)), delivered.length);
      assert.deepEqual(await store.webhookOutbox.list(['delivered'], 1000), []);
      assert.equal((await store.webhookOutbox.list(['dead'], 1000)).length, undelivered, 'undelivered messages stay');
    });
  });
}

describe('webhooks across a SIGKILL of the API while the receiver is down', () => {
  for (const database of ['sqlite', 'postgres'] as const) {
    it(`${database}: every event arrives once the receiver is up, each under one webhook-id`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'upfront-webhooks-'));
      const pg = database === 'postgres' ? await postgresSchema() : undefined;
      const receiver = webhookReceiver(await freePort());
      let api: ApiProcess | undefined;
      try {
        const routes = { photo: { types: ['image/png'], maxSize: '256KB', visibility: 'public', strategy: 'put', webhook: { url: receiver.url, secret: receiver.secret } } };
        await writeFile(join(dir, 'upfront.config.json'), JSON.stringify({ routes }));
        const env = {
          ...fastRetries,
          WEBHOOK_MAX_ATTEMPTS: '100',
          // A killed sender's claim ends after 2 × 1 s + 5 s: then the restarted API sends its messages.
          WEBHOOK_TIMEOUT_MS: '1000',
          STORAGE_DRIVER: 'disk',
          UPFRONT_DATA_DIR: dir,
          UPFRONT_CONFIG: join(dir, 'upfront.config.json'),
          ...(pg && { DATABASE_URL: pg.url }),
        };
        api = await startApiProcess(env);
        const token = async () => ((await (await fetch(`${api!.url}/v1/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user":"restart"}' })).json()) as { token: string }).token;
        let client = apiOf(api.url, await token());
        const expected = new Set<string>();
        for (let i = 0; i < 3; i++) expected.add((await client.upload('photo', png(10_000 + i), `before-${i}.png`)).uploadId);
        expected.add(await client.rejected('photo'));

        // The receiver is down: the attempts fail (connection refused) and are recorded.
        const outbox = await openStore(pg?.url ?? `sqlite:${join(dir, 'upfront.db')}`);
        try {
          while ((await outbox.webhookOutbox.list(['pending'], 100)).filter((m) => m.attempts >= 2).length < 4) await new Promise((resolve) => setTimeout(resolve, 20));
          assert.match((await outbox.webhookOutbox.list(['pending'], 1))[0]!.lastError ?? '', /ECONNREFUSED/);
        } finally {
          await outbox.close();
        }

        await api.kill();
        await api.start();
        client = apiOf(api.url, await token());
        for (let i = 0; i < 2; i++) expected.add((await client.upload('photo', png(20_000 + i), `after-${i}.png`)).uploadId);
        await api.kill(); // and again, with those events unsent
        await api.start();

        await receiver.start();
        const accepted = await receiver.until('every event', (a) => new Set(a.map((d) => d.event.data.uploadId)).size === expected.size);
        assert.deepEqual(new Set(accepted.map((d) => d.event.data.uploadId)), expected);
        assert.equal(accepted.length, expected.size, 'one webhook-id per event');
        const ids = new Map<string, string>();
        for (const request of receiver.requests) {
          const uploadId = String(request.event.data.uploadId);
          assert.equal(ids.get(uploadId) ?? request.id, request.id, 'a repeated delivery keeps its webhook-id');
          ids.set(uploadId, request.id);
        }
        assert.equal(accepted.filter((d) => d.event.type === 'upload.rejected').length, 1);
        assert.deepEqual(receiver.forged, []);
      } finally {
        await api?.close();
        await receiver.stop();
        await pg?.drop();
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('webhooks from two instances on one PostgreSQL database', () => {
  let pg: Awaited<ReturnType<typeof postgresSchema>>;
  let dataDir: string;
  let servers: TestServer[] = [];

  before(async () => {
    pg = await postgresSchema();
    dataDir = await mkdtemp(join(tmpdir(), 'upfront-webhooks-instances-'));
  });
  after(async () => {
    for (const server of servers) await server.close();
    await pg?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('both poll the outbox, and each event is sent once: a claim is never taken twice', async () => {
    const hooked = webhookReceiver(await freePort());
    await hooked.start();
    // A slow receiver, so that both instances' polls overlap the deliveries.
    hooked.respond = () => new Promise((resolve) => setTimeout(() => resolve(200), 30));
    const routes = { photo: { types: ['image/png'], maxSize: '256KB', visibility: 'public', strategy: 'put', webhook: { url: hooked.url, secret: hooked.secret } } };
    const env = { ...fastRetries, WEBHOOK_POLL_INTERVAL_MS: '10', DATABASE_URL: pg.url };
    servers = [await startTestServer({ driver: 'disk', routes, env, dataDir }), await startTestServer({ driver: 'disk', routes, env, dataDir })];
    try {
      const apis = await Promise.all(servers.map(async (server) => apiOf(server.url, await server.token('twice'))));
      const uploads = await Promise.all(Array.from({ length: 24 }, (_, i) => apis[i % 2]!.upload('photo', png(10_000 + i), `n-${i}.png`)));
      const outbox = servers[0]!.upfront.services.store.webhookOutbox;
      while ((await outbox.list(['delivered'], 100)).length < uploads.length) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(new Set(hooked.accepted().map((d) => d.event.data.uploadId)), new Set(uploads.map((u) => u.uploadId)));
      assert.equal(hooked.requests.length, uploads.length, 'no event was sent twice');
      assert.deepEqual(hooked.forged, []);
    } finally {
      await hooked.stop();
    }
  });
});
