/**
 * The drop-in endpoints (routes/drop-in/) in headless Chromium, on the disk driver and on Ceph RGW: for
 * each contract a page written the way its tutorial writes it (XHR for create/finalize, fetch for the
 * GET and x-extension signers, a FormData POST for the policy document), served from another origin
 * than the API, uploads a real PNG. The file is then promoted (by finalize, by RGW's storage events or
 * the disk endpoint's own notification), listed by the API and readable at its public URL with the same
 * bytes; refused files are not promoted and errors are problem+json; preflights answer the headers the
 * pages send; and the endpoints are off (404) unless configured.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Browser } from 'playwright-core';
import { loadConfig, ConfigError } from '../../packages/server/src/config.ts';
import { DEFAULT_BUCKET_SETTINGS, setupBuckets } from '../../packages/server/src/buckets/index.ts';
import { pushUrl } from '../../packages/server/src/events/config.ts';
import type { S3DriverConfig } from '../../packages/server/src/storage/s3-config.ts';
import { sweep } from '../../packages/server/src/index.ts';
import { createS3Client } from '../../packages/server/src/storage/s3-driver.ts';
import { launchBrowser, recordPageTrouble } from '../support/browser.ts';
import { freshBuckets, removeBuckets } from '../support/buckets.ts';
import { makePng } from '../support/png.ts';
import { ownBucketsEnv, rgwAdminConfig } from '../support/rgw-env.ts';
import { startTestServer, type Driver, type TestServer } from '../support/server.ts';
import { removeStorageEvents } from '../support/storage-events.ts';

const routes = { photos: { types: ['image/png', 'image/jpeg'], maxSize: '64KB', visibility: 'public' } };
const dropIn = {
  createFinalize: { route: 'photos' },
  getUrl: { route: 'photos', contentType: 'image/png' },
  extensionHeader: { route: 'photos', path: '/api/presigned' },
  policyDocument: { route: 'photos' },
};
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const png = makePng({ width: 24, height: 24, minBytes: 6_000 });
/** Over the route's 64 KB. */
const bigPng = makePng({ width: 24, height: 24, minBytes: 100_000 });
/** Named and typed as a PNG, but text. */
const fakePng = Buffer.from('<html><script>alert(1)</script></html>'.repeat(20));

/**
 * The pages, one per contract, each as its tutorial writes it. Each reads the API's URL and a token from
 * its query, uploads the file chosen in #file, and writes what every step answered into #result.
 */
const SHARED = `
const params = new URLSearchParams(location.search);
const API = params.get('api');
const TOKEN = params.get('token');
function report(result) {
  const out = document.getElementById('result');
  out.textContent = JSON.stringify(result);
  out.dataset.done = 'yes';
}
async function answerOf(res) {
  const type = res.headers.get('content-type') || '';
  return { status: res.status, type, body: type.includes('json') ? await res.json() : await res.text() };
}`;
const PAGES: Record<string, string> = {
  // A Django/Flask-style signer: create, PUT with XMLHttpRequest, then finalize.
  'create-finalize': `
function xhrJson(method, url, body) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.setRequestHeader('Content-Type', 'application/json');
    xhr.setRequestHeader('Authorization', 'Bearer ' + TOKEN);
    xhr.onload = () => resolve({ status: xhr.status, type: xhr.getResponseHeader('Content-Type'), body: JSON.parse(xhr.responseText) });
    xhr.onerror = () => resolve({ status: 0 });
    xhr.send(JSON.stringify(body));
  });
}
function putFile(url, file) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    xhr.setRequestHeader('Content-Type', file.type);
    xhr.onload = () => resolve({ status: xhr.status });
    xhr.onerror = () => resolve({ status: 0 });
    xhr.send(file);
  });
}
document.getElementById('file').addEventListener('change', async (event) => {
  const file = event.target.files[0];
  const create = await xhrJson('POST', API + '/upload/create', { original_filename: file.name, content_type: file.type });
  if (create.status !== 200) return report({ create });
  const put = await putFile(create.body.presigned_upload_url, file);
  const finalize = await xhrJson('POST', API + '/upload/finalize', { upload_key: create.body.key, filename: file.name });
  report({ create, put, finalize, key: create.body.key });
});`,
  // AWS's Lambda example: GET the URL, then fetch PUT with its one Content-Type.
  'get-url': `
document.getElementById('file').addEventListener('change', async (event) => {
  const file = event.target.files[0];
  const res = await fetch(API + '/uploads', { headers: { Authorization: 'Bearer ' + TOKEN } });
  const signer = await answerOf(res);
  if (res.status !== 200) return report({ signer });
  const put = await fetch(signer.body.uploadURL, { method: 'PUT', headers: { 'Content-Type': 'image/png' }, body: file });
  report({ signer, put: { status: put.status }, key: signer.body.Key });
});`,
  // A Next.js-style API route told the extension in a header.
  'extension-header': `
document.getElementById('file').addEventListener('change', async (event) => {
  const file = event.target.files[0];
  const extension = file.name.split('.').pop();
  const res = await fetch(API + '/api/presigned', { headers: { 'x-extension': extension, Authorization: 'Bearer ' + TOKEN } });
  const signer = await answerOf(res);
  if (res.status !== 200) return report({ signer });
  const put = await fetch(signer.body.presignedUrl, { method: 'PUT', body: file, headers: { 'Content-Type': file.type } });
  report({ signer, put: { status: put.status }, key: signer.body.key });
});`,
  // The classic policy-document signer: a FormData POST straight to the bucket.
  'policy-document': `
document.getElementById('file').addEventListener('change', async (event) => {
  const file = event.target.files[0];
  const res = await fetch(API + '/s3-policy-document?filename=' + encodeURIComponent(file.name), { headers: { Authorization: 'Bearer ' + TOKEN } });
  const signer = await answerOf(res);
  if (res.status !== 200) return report({ signer });
  const data = signer.body;
  const form = new FormData();
  form.append('key', data.key);
  form.append('acl', data.acl);
  form.append('Content-Type', file.type);
  form.append('policy', data.encoded_policy);
  form.append('x-amz-algorithm', data.x_amz_algorithm);
  form.append('x-amz-credential', data.x_amz_credential);
  form.append('x-amz-date', data.x_amz_date);
  form.append('x-amz-signature', data.x_amz_signature);
  form.append('file', file);
  const post = await fetch(data.upload_url, { method: 'POST', body: form });
  report({ signer, put: { status: post.status }, key: data.key });
});`,
};

interface Answer {
  status: number;
  type?: string;
  body?: Record<string, string> & { code?: string };
}
interface PageResult {
  create?: Answer;
  signer?: Answer;
  put?: { status: number };
  finalize?: Answer;
  key?: string;
}
interface FileJson {
  key: string;
  size: number;
  contentType: string;
  url: string;
}

/** Serves the pages from an origin of their own (another host and port than the API's). */
async function startPageServer(): Promise<{ origin: string; server: Server }> {
  const server = createServer((request, response) => {
    const name = new URL(request.url ?? '/', 'http://localhost').pathname.slice(1).replace(/\.html$/, '');
    const script = PAGES[name];
    if (!script) return response.writeHead(404).end();
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(`<!doctype html><meta charset="utf-8"><input type="file" id="file"><pre id="result"></pre><script>${SHARED}\n${script}</script>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://localhost:${(server.address() as AddressInfo).port}`, server };
}

for (const driver of ['disk', 's3'] as const satisfies Driver[]) {
  describe(`drop-in endpoints from another origin (Chromium, ${driver === 'disk' ? 'disk driver' : 'Ceph RGW'})`, () => {
    const buckets = freshBuckets('dropin');
    const secret = randomBytes(24).toString('hex');
    const user = `dropin-${randomUUID().slice(0, 8)}`;
    let server: TestServer;
    let pages: { origin: string; server: Server };
    let browser: Browser;
    let token: string;
    let s3: S3Client | undefined;
    let rgw: S3DriverConfig | undefined;

    before(async () => {
      pages = await startPageServer();
      const env = driver === 's3' ? { ...ownBucketsEnv(buckets), STORAGE_EVENTS_SECRET: secret } : {};
      server = await startTestServer({ driver, routes, dropIn, env });
      if (driver === 's3') {
        rgw = { ...rgwAdminConfig(), buckets };
        s3 = createS3Client(rgw);
        // The buckets take the pages' uploads (CORS) and notify the API's hook of each staged object.
        const events = { pushUrl: pushUrl({ secret, url: `${server.url}/v1/hooks/storage` }) };
        await setupBuckets(rgw, { origins: ['http://localhost:*'], ...DEFAULT_BUCKET_SETTINGS, stagingExpiryDays: 100, events });
        await deliveryStarted();
      }
      token = await server.token(user);
      browser = await launchBrowser();
    });
    after(async () => {
      await browser?.close();
      await server?.close();
      pages?.server.close();
      if (rgw) await removeStorageEvents(rgw);
      if (s3) await removeBuckets(s3, Object.values(buckets));
      s3?.destroy();
    });

    /** Records the storage hook handled, by any outcome. */
    const hookEvents = async (): Promise<number> => {
      const text = await (await server.api('/metrics')).text();
      return [...text.matchAll(/^upfront_storage_events_total\{outcome="\w+"\} (\d+)/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
    };
    /** RGW starts pushing a new notification after a while: objects nobody owns are sent until the hook sees one. */
    async function deliveryStarted(): Promise<void> {
      const before = await hookEvents();
      for (let attempt = 0; attempt < 90 && (await hookEvents()) === before; attempt++) {
        await s3!.send(new PutObjectCommand({ Bucket: buckets.staging, Key: `nobody/${randomUUID()}`, Body: 'x' }));
        await sleep(1000);
      }
      assert.ok((await hookEvents()) > before, 'RGW delivers events to the hook');
    }

    /** Opens the contract's page, chooses the file, and waits for what the page reports. */
    async function uploadWithPage(page: string, file: { name: string; mimeType: string; buffer: Buffer }): Promise<PageResult & { trouble: string[] }> {
      const context = await browser.newContext();
      context.setDefaultTimeout(30_000);
      try {
        const tab = await context.newPage();
        const trouble = recordPageTrouble(tab);
        await tab.goto(`${pages.origin}/${page}.html?api=${encodeURIComponent(server.url)}&token=${encodeURIComponent(token)}`);
        await tab.setInputFiles('#file', file);
        await tab.waitForSelector('#result[data-done="yes"]', { state: 'attached' });
        const result = JSON.parse(await tab.$eval('#result', (element) => element.textContent ?? '')) as PageResult;
        return { ...result, trouble };
      } finally {
        await context.close();
      }
    }

    const files = async (): Promise<FileJson[]> => ((await (await server.api('/v1/files?limit=100', { token })).json()) as { files: FileJson[] }).files;
    /** The upload a key was made for: every drop-in key holds its upload's id. */
    const uploadIdOf = (key: string): string => new RegExp(UUID).exec(key)![0];
    const uploadOf = async (key: string): Promise<{ state: string; errorCode: string | null; size: number }> =>
      (await server.api(`/v1/uploads/${uploadIdOf(key)}`, { token })).json() as Promise<{ state: string; errorCode: string | null; size: number }>;
    /** Polls until verification ended the upload one way or the other (RGW's push may still be on its way). */
    async function settled(key: string): Promise<{ state: string; errorCode: string | null; size: number }> {
      let upload = await uploadOf(key);
      for (let attempt = 0; attempt < 300 && ['pending', 'uploaded', 'verified'].includes(upload.state); attempt++) {
        await sleep(100);
        upload = await uploadOf(key);
      }
      return upload;
    }
    /** Listed by the API with the real size, and readable at its public URL with the very bytes sent. */
    async function assertPromoted(key: string, bytes: Buffer): Promise<void> {
      assert.equal((await settled(key)).state, 'ready', `the upload of ${key} is finalized`);
      const file = (await files()).find((listed) => listed.key === key);
      assert.ok(file, `${key} is listed by GET /v1/files`);
      assert.equal(file.size, bytes.length);
      assert.equal(file.contentType, 'image/png');
      const res = await fetch(file.url);
      assert.equal(res.status, 200, file.url);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes, 'the public URL serves the same bytes');
    }
    async function assertNotPromoted(key: string): Promise<void> {
      assert.ok(!(await files()).some((listed) => listed.key === key), `${key} is not listed`);
      assert.equal(await server.upfront.services.storage.head('public', key), null, `${key} is not in the public bucket`);
    }
    const assertProblem = (answer: Answer | undefined, status: number, code: string) => {
      assert.equal(answer?.status, status, JSON.stringify(answer));
      assert.match(answer?.type ?? '', /^application\/problem\+json/);
      assert.equal(answer?.body?.code, code);
      assert.ok(answer?.body?.detail, 'the problem says what to do');
    };
    const asPng = (name: string, buffer: Buffer) => ({ name, mimeType: 'image/png', buffer });

    it('create, PUT with XHR, finalize: promoted to media/{user}/{date}-{slug}-{uuid}.png', async () => {
      const result = await uploadWithPage('create-finalize', asPng('Holiday Photo.png', png));
      assert.equal(result.finalize?.status, 200, `${JSON.stringify(result)}\n${result.trouble.join('\n')}`);
      assert.equal(result.put?.status, 200);
      assert.match(result.key!, new RegExp(`^media/${user}/\\d{8}-holiday-photo-${UUID}\\.png$`));
      assert.equal(result.finalize?.body?.key, result.key);
      await assertPromoted(result.key!, png);
    });

    it('create refuses a type the route does not take, and finalize refuses bytes that are not a PNG (problem+json)', async () => {
      const refused = await uploadWithPage('create-finalize', { name: 'notes.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n%%EOF\n') });
      assertProblem(refused.create, 415, 'type_not_allowed');
      const fake = await uploadWithPage('create-finalize', asPng('fake.png', fakePng));
      assert.equal(fake.put?.status, 200, JSON.stringify(fake));
      assertProblem(fake.finalize, 422, 'content_type_mismatch');
      await assertNotPromoted(fake.key!);
    });

    it('GET /uploads, then a fetch PUT: verified and promoted without a finalize call, at {uuid}.png', async () => {
      const result = await uploadWithPage('get-url', asPng('photo.png', png));
      assert.equal(result.put?.status, 200, `${JSON.stringify(result)}\n${result.trouble.join('\n')}`);
      assert.match(result.key!, new RegExp(`^${UUID}\\.png$`));
      await assertPromoted(result.key!, png);
    });

    it('GET /uploads: bytes that are not a PNG end rejected, not promoted', async () => {
      const result = await uploadWithPage('get-url', asPng('fake.png', fakePng));
      assert.equal(result.put?.status, 200, JSON.stringify(result));
      const upload = await settled(result.key!);
      assert.deepEqual([upload.state, upload.errorCode], ['rejected', 'content_type_mismatch']);
      await assertNotPromoted(result.key!);
    });

    it('x-extension: png, then a fetch PUT: promoted at {uuid}.png', async () => {
      const result = await uploadWithPage('extension-header', asPng('shot.png', png));
      assert.equal(result.put?.status, 200, `${JSON.stringify(result)}\n${result.trouble.join('\n')}`);
      assert.match(result.key!, new RegExp(`^${UUID}\\.png$`));
      await assertPromoted(result.key!, png);
    });

    it('x-extension: an extension the route does not take is refused (problem+json); a file over maxSize is not promoted', async () => {
      const gif = await uploadWithPage('extension-header', { name: 'anim.gif', mimeType: 'image/gif', buffer: Buffer.from('GIF89a') });
      assertProblem(gif.signer, 415, 'type_not_allowed');
      const big = await uploadWithPage('extension-header', asPng('big.png', bigPng));
      if (driver === 'disk') {
        // The disk endpoint holds a PUT of unknown length to the maxSize signed into its URL.
        assert.equal(big.put?.status, 400, JSON.stringify(big));
        assert.equal((await uploadOf(big.key!)).state, 'pending');
      } else {
        // S3 cannot bind a PUT's length unless it is known: verification refuses the file after.
        assert.equal(big.put?.status, 200, JSON.stringify(big));
        const upload = await settled(big.key!);
        assert.deepEqual([upload.state, upload.errorCode], ['rejected', 'file_too_large']);
      }
      await assertNotPromoted(big.key!);
    });

    it('the policy document, then a FormData POST to the bucket: promoted at uploads/{uuid}/{slug}.png', async () => {
      const result = await uploadWithPage('policy-document', asPng('My Scan.png', png));
      assert.equal(result.put?.status, 204, `${JSON.stringify(result)}\n${result.trouble.join('\n')}`);
      for (const field of ['upload_url', 'encoded_policy', 'key', 'acl', 'x_amz_algorithm', 'x_amz_credential', 'x_amz_date', 'x_amz_signature']) {
        assert.ok(result.signer?.body?.[field], `the answer has ${field}`);
      }
      assert.match(result.key!, new RegExp(`^uploads/${UUID}/my-scan\\.png$`));
      await assertPromoted(result.key!, png);
    });

    it('the policy document: a file over maxSize is refused by storage (content-length-range), another type by the API', async () => {
      const big = await uploadWithPage('policy-document', asPng('big.png', bigPng));
      assert.equal(big.put?.status, 400, JSON.stringify(big));
      assert.equal((await uploadOf(big.key!)).state, 'pending', 'nothing arrived');
      await assertNotPromoted(big.key!);
      const pdf = await uploadWithPage('policy-document', { name: 'doc.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n%%EOF\n') });
      assertProblem(pdf.signer, 415, 'type_not_allowed');
    });

    it('answers preflights of each path with the API\'s origins and the headers the pages send', async () => {
      const paths = [['/upload/create', 'POST'], ['/upload/finalize', 'POST'], ['/uploads', 'GET'], ['/api/presigned', 'GET'], ['/s3-policy-document', 'GET']] as const;
      for (const [path, method] of paths) {
        const headers = { origin: pages.origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization,content-type,x-extension' };
        const res = await fetch(server.url + path, { method: 'OPTIONS', headers });
        assert.equal(res.status, 204, path);
        assert.equal(res.headers.get('access-control-allow-origin'), pages.origin, path);
        assert.ok(res.headers.get('access-control-allow-methods')?.split(', ').includes(method), path);
        assert.deepEqual(res.headers.get('access-control-allow-headers')?.toLowerCase().split(', ').sort(), ['authorization', 'content-type', 'x-extension'], path);
        const other = await fetch(server.url + path, { method: 'OPTIONS', headers: { ...headers, origin: 'http://elsewhere.example' } });
        assert.equal(other.headers.get('access-control-allow-origin'), null, `${path}: no CORS for an origin not allowed`);
      }
    });

    it('without a token: 401 problem+json that the page\'s origin may read', async () => {
      const res = await fetch(`${server.url}/uploads`, { headers: { origin: pages.origin } });
      assert.equal(res.status, 401);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(((await res.json()) as { code: string }).code, 'unauthorized');
      assert.equal(res.headers.get('access-control-allow-origin'), pages.origin);
    });
  });
}

describe('drop-in endpoints are off unless configured', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ driver: 'disk', routes });
  });
  after(async () => {
    await server?.close();
  });

  it('answers 404 problem+json at every contract\'s path', async () => {
    const token = await server.token('nobody');
    for (const [path, method] of [['/upload/create', 'POST'], ['/upload/finalize', 'POST'], ['/uploads', 'GET'], ['/presigned-url', 'GET'], ['/s3-policy-document?filename=a.png', 'GET']]) {
      const res = await server.api(path!, { method: method!, token, ...(method === 'POST' && { json: {} }) });
      assert.equal(res.status, 404, path);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(((await res.json()) as { code: string }).code, 'not_found');
    }
  });

  it('is turned on per contract by the environment, and refuses what cannot work', () => {
    // The default routes (image, document): no config file.
    const env = { AUTH_DEV_ISSUER: 'true', STORAGE_DRIVER: 'disk', UPFRONT_CONFIG: '' };
    const base = loadConfig({ env, mode: 'dev' });
    assert.equal(base.dropIn, undefined, 'off by default');
    const on = loadConfig({ env: { ...env, DROP_IN_GET_URL_ROUTE: 'image', DROP_IN_GET_URL_PATH: '/sign' }, mode: 'dev' });
    assert.deepEqual(on.dropIn, { getUrl: { route: 'image', path: '/sign', keyTemplate: '{uuid}.{ext}', contentType: 'image/png' } });
    assert.throws(() => loadConfig({ env: { ...env, DROP_IN_GET_URL_ROUTE: 'nope' }, mode: 'dev' }), ConfigError);
    assert.throws(() => loadConfig({ env: { ...env, DROP_IN_GET_URL_ROUTE: 'image', DROP_IN_GET_URL_PATH: '/v1/sign' }, mode: 'dev' }), ConfigError);
    assert.throws(() => loadConfig({ env: { ...env, DROP_IN_EXTENSION_HEADER_ROUTE: 'image', DROP_IN_EXTENSION_HEADER_KEY_TEMPLATE: 'media/{slug}.{ext}' }, mode: 'dev' }), /\{uuid\}/);
    assert.throws(
      () => loadConfig({ env: { ...env, DROP_IN_GET_URL_ROUTE: 'image', DROP_IN_EXTENSION_HEADER_ROUTE: 'image', DROP_IN_EXTENSION_HEADER_PATH: '/uploads' }, mode: 'dev' }),
      /already/,
    );
  });
});

describe('drop-in uploads keep the route\'s rules (disk driver)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      driver: 'disk',
      routes: { limited: { types: ['image/png'], maxSize: '64KB', visibility: 'public', quota: { files: 1 } } },
      dropIn: { createFinalize: { route: 'limited' }, getUrl: { route: 'limited' } },
    });
  });
  after(async () => {
    await server?.close();
  });

  it('an unfinished upload counts against the route\'s quota (the route\'s maxSize is reserved until it is verified)', async () => {
    const token = await server.token(`quota-${randomUUID().slice(0, 8)}`);
    const first = await server.api('/uploads', { token });
    assert.equal(first.status, 200, await first.clone().text());
    const usage = (await (await server.api('/v1/usage', { token })).json()) as { reservedBytes: number; reservedFiles: number };
    assert.deepEqual([usage.reservedBytes, usage.reservedFiles], [64 * 1024, 1]);
    const second = await server.api('/uploads', { token });
    assert.equal(second.status, 403);
    assert.match(second.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(((await second.json()) as { code: string }).code, 'quota_exceeded');
  });

  it('finalize finds only the caller\'s own uploads, and says what to send when the body is wrong', async () => {
    const [alice, bob] = await Promise.all([server.token(`alice-${randomUUID().slice(0, 8)}`), server.token(`bob-${randomUUID().slice(0, 8)}`)]);
    const created = await server.api('/upload/create', { token: alice, json: { original_filename: 'a.png', content_type: 'image/png' } });
    assert.equal(created.status, 200, await created.clone().text());
    const { key } = (await created.json()) as { key: string };
    const theirs = await server.api('/upload/finalize', { token: bob, json: { upload_key: key, filename: 'a.png' } });
    assert.equal(theirs.status, 404);
    assert.equal(((await theirs.json()) as { code: string }).code, 'not_found');
    const early = await server.api('/upload/finalize', { token: alice, json: { upload_key: key, filename: 'a.png' } });
    assert.equal(early.status, 409, 'nothing sent yet');
    assert.equal(((await early.json()) as { code: string }).code, 'upload_incomplete');
    const malformed = await server.api('/upload/finalize', { token: alice, json: { key } });
    assert.equal(malformed.status, 400);
    assert.match(((await malformed.json()) as { detail: string }).detail, /upload_key/);
  });
});

describe('drop-in uploads without storage events are finalized by the sweeper (Ceph RGW)', () => {
  const buckets = freshBuckets('dropsweep');
  let server: TestServer;
  let s3: S3Client;
  let token: string;

  before(async () => {
    const config = { ...rgwAdminConfig(), buckets };
    s3 = createS3Client(config);
    await setupBuckets(config, { origins: ['http://localhost:*'], ...DEFAULT_BUCKET_SETTINGS, stagingExpiryDays: 100 });
    server = await startTestServer({ driver: 's3', routes, dropIn: { extensionHeader: { route: 'photos' } }, env: ownBucketsEnv(buckets) });
    token = await server.token(`sweep-${randomUUID().slice(0, 8)}`);
  });
  after(async () => {
    await server?.close();
    if (s3) await removeBuckets(s3, Object.values(buckets));
    s3?.destroy();
  });

  /** Signs with the x-extension contract and PUTs the bytes as the page would. */
  async function sent(bytes: Buffer): Promise<string> {
    const signer = await server.api('/presigned-url', { token, headers: { 'x-extension': 'png' } });
    assert.equal(signer.status, 200, await signer.clone().text());
    const { presignedUrl, key } = (await signer.json()) as { presignedUrl: string; key: string };
    const put = await fetch(presignedUrl, { method: 'PUT', headers: { 'content-type': 'image/png' }, body: new Uint8Array(bytes) });
    assert.equal(put.status, 200, await put.text());
    return key;
  }
  const uploadOf = async (key: string) =>
    (await server.api(`/v1/uploads/${new RegExp(UUID).exec(key)![0]}`, { token })).json() as Promise<{ state: string; errorCode: string | null }>;

  it('verifies and promotes what arrived, and rejects a file over the route\'s maxSize', async () => {
    const [good, big] = [await sent(png), await sent(bigPng)];
    assert.equal((await uploadOf(good)).state, 'pending', 'no event, no finalize call: it waits');
    const report = await sweep(server.upfront.services, { settleSeconds: 0 });
    assert.equal(report.counts.finalized, 1, JSON.stringify(report));
    assert.equal((await uploadOf(good)).state, 'ready');
    const rejected = await uploadOf(big);
    assert.deepEqual([rejected.state, rejected.errorCode], ['rejected', 'file_too_large']);
    const listed = ((await (await server.api('/v1/files', { token })).json()) as { files: FileJson[] }).files;
    assert.deepEqual(listed.map((file) => [file.key, file.size]), [[good, png.length]]);
  });
});
