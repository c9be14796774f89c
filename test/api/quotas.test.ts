/**
 * Quotas and the create-upload rate limit through real HTTP, on SQLite and PostgreSQL: limits are
 * reserved at create and given back when an upload ends without a file (abort, rejection, expiry) or a
 * file is deleted; a replacement adds bytes but no file; GET /v1/usage says where a user stands. Then
 * two API processes on one PostgreSQL: 50 concurrent creates against a quota of 10 make exactly 10
 * uploads, and the rate limit counts both instances' requests together.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { startApiProcess, type ApiProcess } from '../support/api-process.ts';
import { makePng } from '../support/png.ts';
import { postgresSchema } from '../support/postgres.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { sendToStorage, type CreatedUpload } from '../support/transfer.ts';

const png = makePng({ width: 8, height: 8, minBytes: 10_000 });
const routes = {
  image: { types: ['image/png'], maxSize: '64KB', visibility: 'public', strategy: 'put', quota: { files: 3 } },
  album: { types: ['image/png'], maxSize: '64KB', visibility: 'private', strategy: 'put', quota: { bytes: png.length * 2 } },
  misc: { types: ['image/png', 'text/plain'], maxSize: '64KB', visibility: 'private', strategy: 'put' },
};

interface Problem {
  code: string;
  detail: string;
}

interface UsageJson {
  bytes: number;
  files: number;
  reservedBytes: number;
  reservedFiles: number;
  limits: { bytes: number | null; files: number | null };
  routes: { route: string; bytes: number; files: number; reservedBytes: number; reservedFiles: number; limits: { bytes: number | null; files: number | null } }[];
  createsPerMinute: number | null;
}

function create(server: { api: TestServer['api'] }, token: string, route: string, extra: Record<string, unknown> = {}) {
  return server.api('/v1/uploads', { token, json: { route, filename: 'q.png', contentType: 'image/png', size: png.length, ...extra } });
}

async function created(res: Response): Promise<CreatedUpload> {
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()) as CreatedUpload;
}

async function problem(res: Response, status: number, code: string): Promise<Problem> {
  assert.equal(res.status, status, await res.clone().text());
  const body = (await res.json()) as Problem;
  assert.equal(body.code, code);
  return body;
}

async function usage(server: TestServer, token: string): Promise<UsageJson> {
  const res = await server.api('/v1/usage', { token });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as UsageJson;
}

const routeUsage = (all: UsageJson, route: string) => all.routes.find((entry) => entry.route === route)!;

async function uploadFile(server: TestServer, token: string, route: string, bytes: Buffer = png, extra: Record<string, unknown> = {}): Promise<Response> {
  const upload = await created(await create(server, token, route, extra));
  assert.ok((await sendToStorage(upload, bytes, 'image/png')).ok);
  return server.api(`/v1/uploads/${upload.id}/complete`, { method: 'POST', token });
}

for (const database of ['sqlite', 'postgres'] as const) {
  describe(`quotas on ${database}`, () => {
    let pg: Awaited<ReturnType<typeof postgresSchema>> | undefined;
    let server: TestServer;

    before(async () => {
      pg = database === 'postgres' ? await postgresSchema() : undefined;
      server = await startTestServer({
        driver: 'disk',
        routes,
        env: { QUOTA_USER_FILES: '5', RATE_LIMIT_CREATES_PER_MINUTE: '1000', ...(pg && { DATABASE_URL: pg.url }) },
      });
    });
    after(async () => {
      await server?.close();
      await pg?.drop();
    });

    it('reserves a file at create, refuses the one over the route quota with 403 and what is left, and gives it back at abort', async () => {
      const token = await server.token('files-user');
      const uploads = [];
      for (let i = 0; i < 3; i++) uploads.push(await created(await create(server, token, 'image')));
      const refused = await problem(await create(server, token, 'image'), 403, 'quota_exceeded');
      assert.match(refused.detail, /You have 3 of 3 files allowed in the "image" route, counting 3 unfinished uploads/);
      assert.equal(routeUsage(await usage(server, token), 'image').reservedFiles, 3);

      assert.equal((await server.api(`/v1/uploads/${uploads[0]!.id}`, { method: 'DELETE', token })).status, 204);
      await created(await create(server, token, 'image'));
      // Another user's quota is their own.
      await created(await create(server, await server.token('someone-else'), 'image'));
    });

    it('turns a reservation into a file at complete, and gives it back when the file is deleted', async () => {
      const token = await server.token('complete-user');
      const completed = await uploadFile(server, token, 'image');
      assert.equal(completed.status, 200, await completed.clone().text());
      const file = (await completed.json()) as { id: string };
      let image = routeUsage(await usage(server, token), 'image');
      assert.deepEqual([image.files, image.bytes, image.reservedFiles, image.reservedBytes], [1, png.length, 0, 0]);
      await created(await create(server, token, 'image'));
      await created(await create(server, token, 'image'));
      await problem(await create(server, token, 'image'), 403, 'quota_exceeded');

      assert.equal((await server.api(`/v1/files/${file.id}`, { method: 'DELETE', token })).status, 204);
      image = routeUsage(await usage(server, token), 'image');
      assert.deepEqual([image.files, image.bytes], [0, 0]);
      await created(await create(server, token, 'image'));
    });

    it('refuses bytes over the route quota with 413, and gives them back when the upload is rejected or expires', async () => {
      const token = await server.token('bytes-user');
      const first = await created(await create(server, token, 'album'));
      const second = await created(await create(server, token, 'album'));
      const refused = await problem(await create(server, token, 'album'), 413, 'quota_exceeded');
      assert.match(refused.detail, /does not fit in the "album" route: 0 bytes of .* is left/);

      // Not a PNG: rejected at complete, and its bytes no longer count.
      assert.ok((await sendToStorage(first, Buffer.alloc(png.length, 'x'), 'image/png')).ok);
      await problem(await server.api(`/v1/uploads/${first.id}/complete`, { method: 'POST', token }), 422, 'content_type_mismatch');
      const third = await created(await create(server, token, 'album'));

      // Expired (as the sweeper ends it): no longer counted either.
      const { store } = server.upfront.services;
      assert.ok(await store.transitionUpload(second.id, ['pending'], 'expired'));
      await created(await create(server, token, 'album'));
      await problem(await create(server, token, 'album'), 413, 'quota_exceeded');
      assert.equal(routeUsage(await usage(server, token), 'album').reservedBytes, png.length * 2);
      void third;
    });

    it('counts every route against the per-user quota, and a replacement adds no file', async () => {
      const token = await server.token('total-user');
      const file = (await (await uploadFile(server, token, 'misc')).json()) as { id: string };
      for (let i = 0; i < 4; i++) await created(await create(server, token, 'misc'));
      const refused = await problem(await create(server, token, 'image'), 403, 'quota_exceeded');
      assert.match(refused.detail, /You have 5 of 5 files allowed in your storage/);
      // A new version of a file the user has does not add one.
      await created(await create(server, token, 'misc', { replaces: file.id }));

      const all = await usage(server, token);
      assert.deepEqual(
        { files: all.files, reservedFiles: all.reservedFiles, bytes: all.bytes, reservedBytes: all.reservedBytes, limits: all.limits },
        { files: 1, reservedFiles: 4, bytes: png.length, reservedBytes: png.length * 5, limits: { bytes: null, files: 5 } },
      );
      assert.deepEqual(routeUsage(all, 'image').limits, { bytes: null, files: 3 });
      assert.deepEqual(routeUsage(all, 'album').limits, { bytes: png.length * 2, files: null });
      assert.equal(all.createsPerMinute, 1000);
    });
  });
}

describe('rate limit of creates', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ driver: 'disk', routes: { misc: routes.misc }, env: { RATE_LIMIT_CREATES_PER_MINUTE: '4' } });
  });
  after(() => server?.close());

  it('answers 429 rate_limited with Retry-After past the limit, for that user only', async () => {
    await freshWindow();
    const token = await server.token('fast-user');
    for (let i = 0; i < 4; i++) await created(await create(server, token, 'misc'));
    const res = await create(server, token, 'misc');
    const body = await problem(res, 429, 'rate_limited');
    const retryAfter = Number(res.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${res.headers.get('retry-after')}`);
    assert.match(body.detail, new RegExp(`You may start 4 uploads a minute; try again in ${retryAfter} seconds?\\.`));
    await created(await create(server, await server.token('slow-user'), 'misc'));
  });
});

/** Waits for a minute with time to spare, so that a test's requests fall in one fixed window of the limiter. */
async function freshWindow(): Promise<void> {
  const intoMinute = Date.now() % 60_000;
  if (intoMinute > 40_000) await sleep(60_000 - intoMinute + 50);
}

describe('two API processes on one PostgreSQL', () => {
  let pg: Awaited<ReturnType<typeof postgresSchema>>;
  let dir: string;
  let a: ApiProcess;
  let b: ApiProcess;

  before(async () => {
    pg = await postgresSchema();
    dir = await mkdtemp(join(tmpdir(), 'upfront-quota-instances-'));
    const config = join(dir, 'upfront.config.json');
    await writeFile(config, JSON.stringify({ routes: { image: { ...routes.image, quota: { files: 10 } } }, quotas: { createsPerMinute: 60 } }));
    const env = { STORAGE_DRIVER: 'disk', UPFRONT_DATA_DIR: dir, DATABASE_URL: pg.url, UPFRONT_CONFIG: config };
    [a, b] = await Promise.all([startApiProcess(env), startApiProcess(env)]);
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await pg?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  const api = (instance: ApiProcess) => ({
    api: (path: string, init: { token?: string; json?: unknown } = {}) =>
      fetch(instance.url + path, {
        method: init.json === undefined ? 'GET' : 'POST',
        headers: { 'content-type': 'application/json', ...(init.token && { authorization: `Bearer ${init.token}` }) },
        ...(init.json !== undefined && { body: JSON.stringify(init.json) }),
      }),
  });
  const tokenFor = async (instance: ApiProcess, user: string) => {
    const res = await api(instance).api('/v1/dev/token', { json: { user } });
    return ((await res.json()) as { token: string }).token;
  };

  it('50 concurrent creates against a quota of 10, spread over both: exactly 10 succeed', async () => {
    const token = await tokenFor(a, 'quota-race');
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => create(api(i % 2 === 0 ? a : b), token, 'image')));
    const statuses = answers.map((res) => res.status);
    assert.equal(statuses.filter((status) => status === 201).length, 10, `statuses: ${statuses.join(',')}`);
    assert.equal(statuses.filter((status) => status === 403).length, 40, `statuses: ${statuses.join(',')}`);
    for (const res of answers.filter((r) => r.status === 403)) assert.equal(((await res.json()) as Problem).code, 'quota_exceeded');
    const usageAnswer = (await (await api(b).api('/v1/usage', { token })).json()) as UsageJson;
    assert.equal(routeUsage(usageAnswer, 'image').reservedFiles, 10);
  });

  it('counts creates on both instances against one rate limit', async () => {
    await freshWindow();
    const token = await tokenFor(b, 'rate-race');
    // 90 creates on a route whose quota stops at 10 files: the limiter counts them all, quota or not.
    const answers = await Promise.all(Array.from({ length: 90 }, (_, i) => create(api(i % 2 === 0 ? a : b), token, 'image')));
    const limited = answers.filter((res) => res.status === 429).length;
    assert.equal(limited, 30, `statuses: ${answers.map((res) => res.status).join(',')}`);
  });
});
