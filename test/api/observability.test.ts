/**
 * Observability through real HTTP: GET /metrics (Prometheus text) after real uploads, x-request-id
 * honoured and echoed, JSON logs captured while uploading with tokens and signed requests (none of
 * which may appear in them), and GET /readyz against a working, a closed and an unreachable backend.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createUpfront, loadConfig, type Upfront } from '@upfront/server';
import { requestListener } from '@upfront/server/node';
import { makePng } from '../support/png.ts';
import { rgwConfig } from '../support/rgw-env.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { sendToStorage, type CreatedUpload } from '../support/transfer.ts';

const png = makePng({ width: 16, height: 16, minBytes: 5_000 });
const html = Buffer.from('<!doctype html><script>alert(document.cookie)</script>'.padEnd(600, ' '));
const routes = {
  image: { types: ['image/png'], maxSize: '64KB', visibility: 'public', strategy: 'put' },
  form: { types: ['image/png'], maxSize: '64KB', visibility: 'private', strategy: 'post' },
};

/** The value of one sample of `name` whose labels include `labels`; 0 when there is none. */
function sample(metrics: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  let total = 0;
  for (const line of metrics.split('\n')) {
    const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    const given = (match[2] ?? '').split(',');
    if (wanted.every((pair) => given.includes(pair))) total += Number(match[3]);
  }
  return total;
}

interface Instance {
  url: string;
  upfront: Upfront;
  dataDir: string;
  /** Every log line written so far. */
  lines: string[];
  api(path: string, init?: { method?: string; token?: string; json?: unknown; headers?: Record<string, string> }): Promise<Response>;
  close(): Promise<void>;
}

/** An API over HTTP whose log lines are captured (as serve() does it, with a log destination). */
async function startInstance(env: Record<string, string>): Promise<Instance> {
  const dataDir = await mkdtemp(join(tmpdir(), 'upfront-obs-'));
  const file = join(dataDir, 'upfront.config.json');
  await writeFile(file, JSON.stringify({ routes }));
  const config = loadConfig({ env: { UPFRONT_DATA_DIR: dataDir, STORAGE_DRIVER: 'disk', LOG_LEVEL: 'info', ...env }, mode: 'dev', file });
  let handle: Upfront['fetch'] = async () => new Response('starting', { status: 503 });
  const server: Server = createServer(requestListener((request) => handle(request)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const lines: string[] = [];
  const upfront = await createUpfront(config, { publicUrl: url, logDestination: { write: (line: string) => void lines.push(line) } });
  handle = upfront.fetch;
  return {
    url,
    upfront,
    dataDir,
    lines,
    api: (path, init = {}) =>
      fetch(url + path, {
        method: init.method ?? (init.json !== undefined ? 'POST' : 'GET'),
        headers: {
          ...(init.token && { authorization: `Bearer ${init.token}` }),
          ...(init.json !== undefined && { 'content-type': 'application/json' }),
          ...init.headers,
        },
        ...(init.json !== undefined && { body: JSON.stringify(init.json) }),
      }),
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await upfront.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function token(instance: Pick<Instance, 'api'>, user: string): Promise<string> {
  const res = await instance.api('/v1/dev/token', { json: { user } });
  assert.equal(res.status, 200);
  return ((await res.json()) as { token: string }).token;
}

async function create(instance: Pick<Instance, 'api'>, token: string, route: string, contentType: string, size: number): Promise<Response> {
  return instance.api('/v1/uploads', { token, json: { route, filename: 'a.png', contentType, size } });
}

/** Creates, sends and completes one upload; the complete's answer. */
async function upload(instance: Pick<Instance, 'api'>, token: string, route: string, bytes: Buffer): Promise<{ created: CreatedUpload; complete: Response }> {
  const res = await create(instance, token, route, 'image/png', bytes.length);
  assert.equal(res.status, 201, await res.clone().text());
  const created = (await res.json()) as CreatedUpload;
  assert.ok((await sendToStorage(created, bytes, 'image/png')).ok);
  return { created, complete: await instance.api(`/v1/uploads/${created.id}/complete`, { token, method: 'POST' }) };
}

describe('observability on disk', () => {
  let instance: Instance;
  let alice: string;
  /** What must never be logged: tokens, signatures, POST policies, the disk secret. */
  const secrets: string[] = [];

  before(async () => {
    instance = await startInstance({});
    alice = await token(instance, 'alice');
    secrets.push(alice, (await readFile(join(instance.dataDir, 'disk-secret'), 'utf8')).trim());
  });
  after(async () => {
    await instance?.close();
  });

  it('counts requests, uploads, rejections, promoted bytes and storage calls in /metrics', async () => {
    const put = await upload(instance, alice, 'image', png);
    assert.equal(put.complete.status, 200);
    secrets.push(new URL(put.created.put!.url).searchParams.get('X-Amz-Signature')!);
    const post = await upload(instance, alice, 'form', png);
    assert.equal(post.complete.status, 200);
    secrets.push(post.created.post!.fields['Policy']!, post.created.post!.fields['X-Amz-Signature']!);

    const disguised = await create(instance, alice, 'image', 'image/png', html.length);
    const created = (await disguised.json()) as CreatedUpload;
    assert.ok((await sendToStorage(created, html, 'image/png')).ok);
    assert.equal((await instance.api(`/v1/uploads/${created.id}/complete`, { token: alice, method: 'POST' })).status, 422);
    assert.equal((await create(instance, alice, 'image', 'text/html', 10)).status, 415);

    const res = await instance.api('/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const metrics = await res.text();
    const complete = { method: 'POST', route: '/v1/uploads/:id/complete' };
    assert.equal(sample(metrics, 'upfront_http_requests_total', { ...complete, status: '200' }), 2);
    assert.equal(sample(metrics, 'upfront_http_requests_total', { ...complete, status: '422' }), 1);
    assert.equal(sample(metrics, 'upfront_http_request_duration_seconds_count', { ...complete, status: '200' }), 2);
    assert.ok(sample(metrics, 'upfront_http_request_duration_seconds_sum', { ...complete, status: '200' }) > 0);
    assert.equal(sample(metrics, 'upfront_http_requests_total', { method: 'PUT', route: '/storage/*', status: '200' }), 2);
    assert.equal(sample(metrics, 'upfront_uploads_created_total', { route: 'image', strategy: 'put' }), 2);
    assert.equal(sample(metrics, 'upfront_uploads_created_total', { route: 'form', strategy: 'post' }), 1);
    assert.equal(sample(metrics, 'upfront_uploads_completed_total'), 2);
    assert.equal(sample(metrics, 'upfront_uploads_rejected_total', { route: 'image', reason: 'content_type_mismatch' }), 1);
    assert.equal(sample(metrics, 'upfront_uploads_rejected_total', { route: 'image', reason: 'type_not_allowed' }), 1);
    assert.equal(sample(metrics, 'upfront_bytes_promoted_total'), 2 * png.length);
    assert.equal(sample(metrics, 'upfront_storage_request_duration_seconds_count', { operation: 'copy', outcome: 'ok' }), 2);
    assert.ok(sample(metrics, 'upfront_storage_request_duration_seconds_count', { operation: 'readStart', outcome: 'ok' }) >= 3);
    // Route labels are patterns: no upload id (nor any raw path) becomes a label.
    assert.doesNotMatch(metrics, /[0-9a-f]{8}-[0-9a-f]{4}-/);
  });

  it('honours x-request-id, makes one when none (or a malformed one) is given, and logs it', async () => {
    const given = await instance.api('/healthz', { headers: { 'x-request-id': 'lb-7f3a.42' } });
    assert.equal(given.headers.get('x-request-id'), 'lb-7f3a.42');
    const made = await instance.api('/v1/uploads/00000000-0000-4000-8000-000000000000', { token: alice });
    assert.equal(made.status, 404);
    assert.match(made.headers.get('x-request-id') ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const malformed = await instance.api('/healthz', { headers: { 'x-request-id': 'a"b} {x' } });
    assert.notEqual(malformed.headers.get('x-request-id'), 'a"b} {x');

    const logged = instance.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const health = logged.find((entry) => entry['reqId'] === 'lb-7f3a.42');
    assert.deepEqual(
      { msg: health?.['msg'], level: health?.['level'], method: health?.['method'], route: health?.['route'], status: health?.['status'] },
      { msg: 'request', level: 'info', method: 'GET', route: '/healthz', status: '200' },
    );
    const missing = logged.find((entry) => entry['reqId'] === made.headers.get('x-request-id'));
    assert.equal(missing?.['route'], '/v1/uploads/:id');
    assert.equal(missing?.['user'], 'alice');
  });

  it('logs no token, signature, policy or secret', async () => {
    // Credentials in places a careless log would copy: the header, a query string, an unknown path.
    await instance.api(`/nowhere?token=${alice}`, { token: alice });
    assert.ok(secrets.length >= 5 && secrets.every((secret) => secret.length >= 16));
    assert.ok(instance.lines.length >= 15, 'one line per request');
    const all = instance.lines.join('');
    for (const secret of secrets) assert.ok(!all.includes(secret), `the logs do not contain ${secret.slice(0, 6)}…`);
    assert.doesNotMatch(all, /X-Amz-Signature|X-Amz-Credential|Bearer/i);
  });

  it('answers /readyz 200 while the database and storage answer', async () => {
    const res = await instance.api('/readyz');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok', checks: { database: 'ok', storage: 'ok' } });
  });
});

describe('readiness when a backend is gone', () => {
  it('answers 503 naming the database once it is closed', async () => {
    const instance = await startInstance({});
    try {
      await instance.upfront.services.store.close();
      const res = await instance.api('/readyz');
      assert.equal(res.status, 503);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      const body = (await res.json()) as { code: string; detail: string };
      assert.equal(body.code, 'not_ready');
      assert.match(body.detail, /cannot reach its database;/);
      assert.ok(instance.lines.some((line) => line.includes('"check":"database"') && line.includes('readiness: check failed')), 'why is logged');
      assert.equal((await instance.api('/healthz')).status, 200, 'liveness does not depend on it');
    } finally {
      // The store is closed already; the rest still has to stop.
      await instance.close().catch(() => undefined);
    }
  });

  it('answers 503 naming storage when the S3 endpoint does not answer', async () => {
    const dead = createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const { port } = dead.address() as AddressInfo;
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    rgwConfig();
    const s3 = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[0].startsWith('S3_') && entry[1] !== undefined));
    const instance = await startInstance({ ...s3, STORAGE_DRIVER: 's3', S3_ENDPOINT: `http://127.0.0.1:${port}` });
    try {
      const res = await instance.api('/readyz');
      assert.equal(res.status, 503);
      const body = (await res.json()) as { code: string; detail: string };
      assert.equal(body.code, 'not_ready');
      assert.match(body.detail, /cannot reach its storage;/);
      const metrics = await (await instance.api('/metrics')).text();
      assert.equal(sample(metrics, 'upfront_storage_request_duration_seconds_count', { operation: 'head', outcome: 'error' }), 1);
      assert.doesNotMatch(instance.lines.join(''), new RegExp(process.env['S3_SECRET_ACCESS_KEY']!));
    } finally {
      await instance.close();
    }
  });
});

describe('observability on RGW', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ driver: 's3', routes });
  });
  after(async () => {
    await server?.close();
  });

  it('is ready with the least-privilege user and times real storage calls', async () => {
    const ready = await server.api('/readyz');
    assert.equal(ready.status, 200, await ready.clone().text());
    const alice = await token(server, 'alice');
    assert.equal((await upload(server, alice, 'image', png)).complete.status, 200);
    const metrics = await (await server.api('/metrics')).text();
    for (const operation of ['head', 'readStart', 'copy']) {
      assert.ok(sample(metrics, 'upfront_storage_request_duration_seconds_count', { operation, outcome: 'ok' }) >= 1, operation);
    }
    assert.equal(sample(metrics, 'upfront_bytes_promoted_total', { route: 'image' }), png.length);
  });
});
