/**
 * The served OpenAPI document describes the API as it really answers: every endpoint is called over
 * real HTTP, successes and errors, and each answer's status, media type and body are checked against
 * `GET /openapi.json` with a JSON Schema validator (Ajv, draft 2020-12). Every documented operation
 * must be exercised, and no answer may have a status the document does not list for its operation.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { makePng } from '../support/png.ts';
import { startTestServer, type Driver, type TestServer } from '../support/server.ts';
import { sendToStorage, type CreatedUpload } from '../support/transfer.ts';

interface MediaType {
  schema: Record<string, unknown>;
}
interface OperationDoc {
  responses: Record<string, { content?: Record<string, MediaType> }>;
}
type Document = { paths: Record<string, Record<string, OperationDoc>>; components: Record<string, unknown> };

const png = makePng({ width: 8, height: 8, minBytes: 2000 });
const HOOK_SECRET = 'contract-test-hook-secret-0123456789';
const html = Buffer.from('<!doctype html><script>alert(1)</script>'.padEnd(600, ' '));

for (const driver of ['disk', 's3'] as Driver[]) {
  describe(`the OpenAPI document matches real answers (${driver})`, () => {
    let server: TestServer;
    let doc: Document;
    let ajv: Ajv2020;
    let token: string;
    const exercised = new Set<string>();

    before(async () => {
      server = await startTestServer({
        driver,
        env: { STORAGE_EVENTS_SECRET: HOOK_SECRET },
        routes: {
          image: { types: ['image/png'], maxSize: '64KB', visibility: 'public', strategy: 'put' },
          form: { types: ['image/png'], maxSize: '64KB', visibility: 'private', strategy: 'post' },
          short: { types: ['image/png'], maxSize: '64KB', visibility: 'public', strategy: 'put', expiresIn: 1 },
          big: { types: ['image/png'], maxSize: '64MB', visibility: 'public', strategy: 'multipart', partSize: '5MB' },
          limited: { types: ['image/png'], maxSize: '64KB', visibility: 'public', strategy: 'put', quota: { files: 1 } },
        },
      });
      const res = await fetch(`${server.url}/openapi.json`);
      assert.equal(res.status, 200);
      doc = (await res.json()) as Document;
      ajv = new Ajv2020({ strict: false, allErrors: true });
      addFormats.default(ajv);
      // Stricter than the document itself (which lets clients ignore fields added later): every field the
      // server sends must be documented.
      ajv.addSchema({ $id: 'api', components: closed(doc.components) });
      await check('get', '/openapi.json', await fetch(`${server.url}/openapi.json`));
      token = await server.token('alice');
    });
    after(async () => {
      await server?.close();
    });

    /** Finds the documented operation for a concrete path and checks the answer against it. */
    async function check(method: string, path: string, res: Response): Promise<unknown> {
      const template = Object.keys(doc.paths).find((t) => new RegExp(`^${t.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path.split('?')[0]!));
      assert.ok(template, `${method.toUpperCase()} ${path} is documented`);
      const operation = doc.paths[template]?.[method];
      assert.ok(operation, `${method.toUpperCase()} ${template} is documented`);
      exercised.add(`${method} ${template}`);
      const documented = operation.responses[String(res.status)];
      const text = await res.text();
      assert.ok(documented, `${method.toUpperCase()} ${template} answered ${res.status}, which the document does not list: ${text}`);
      if (!documented.content) {
        assert.equal(text, '', 'a bodiless answer has no body');
        return undefined;
      }
      const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]!;
      const media = documented.content[mediaType];
      assert.ok(media, `${method.toUpperCase()} ${template} ${res.status}: media type ${mediaType} is documented`);
      const body: unknown = JSON.parse(text);
      const validate = ajv.compile(withApiRefs(media.schema));
      assert.ok(validate(body), `${method.toUpperCase()} ${template} ${res.status}: ${ajv.errorsText(validate.errors)}\n${text}`);
      return body;
    }

    const api = (path: string, init: { method?: string; json?: unknown; body?: string; auth?: boolean; headers?: Record<string, string> } = {}) =>
      server.api(path, {
        ...(init.method && { method: init.method }),
        ...(init.json !== undefined && { json: init.json }),
        ...(init.body !== undefined && { body: init.body }),
        ...(init.auth !== false && { token }),
        ...(init.headers && { headers: init.headers }),
      });
    const call = async (method: string, path: string, init: Parameters<typeof api>[1] = {}) =>
      check(method, path, await api(path, { ...init, method: method.toUpperCase() }));
    const create = async (route: string, contentType = 'image/png', size = png.length) =>
      (await call('post', '/v1/uploads', { json: { route, filename: 'a.png', contentType, size } })) as CreatedUpload;

    it('health, readiness, routes and dev sign-in', async () => {
      await call('get', '/healthz', { auth: false });
      await call('get', '/readyz', { auth: false });
      await call('get', '/v1/routes', { auth: false });
      await call('post', '/v1/dev/token', { json: { user: 'bob' }, auth: false });
      await call('post', '/v1/dev/token', { json: { user: '' }, auth: false });
      await call('post', '/v1/dev/token', { body: '{"user":', auth: false });
      // A page on another domain that resolves to 127.0.0.1 sends its own Host.
      const rebound = await rawPost(server.url, '/v1/dev/token', 'evil.example', '{"user":"x"}');
      assert.equal(rebound.status, 403);
      await check('post', '/v1/dev/token', rebound);
    });

    it('create-upload: both strategies and every refusal', async () => {
      await create('image');
      await create('form');
      await call('post', '/v1/uploads', { json: { route: 'image', filename: 'a.png', contentType: 'image/png' } });
      await call('post', '/v1/uploads', { json: { route: '__proto__', filename: 'a.png', contentType: 'image/png', size: 10 } });
      await call('post', '/v1/uploads', { json: { route: 'image', filename: 'a\u0000.png', contentType: 'image/png', size: 10 } });
      await call('post', '/v1/uploads', { json: { route: 'image', filename: 'a.png', contentType: 'image/png', size: 64 * 1024 + 1 } });
      await call('post', '/v1/uploads', { json: { route: 'image', filename: 'a.html', contentType: 'text/html', size: 10 } });
      await call('post', '/v1/uploads', { body: JSON.stringify({ route: 'image', pad: 'x'.repeat(70_000) }) });
      await call('post', '/v1/uploads', { json: { route: 'image', filename: 'a.png', contentType: 'image/png', size: 10 }, auth: false });
      await call('post', '/v1/uploads', { json: { route: 'image', filename: 'a.png', contentType: 'image/png', size: 10 }, headers: { authorization: 'Bearer not.a.jwt' } });
      await create('limited');
      await call('post', '/v1/uploads', { json: { route: 'limited', filename: 'a.png', contentType: 'image/png', size: 10 } }); // 403 quota_exceeded
      await call('get', '/v1/usage');
    });

    it('get, complete and abort uploads; get, list and delete files', async () => {
      const upload = await create('image');
      await call('get', `/v1/uploads/${upload.id}`);
      await call('get', '/v1/uploads/00000000-0000-4000-8000-000000000000');
      await call('post', `/v1/uploads/${upload.id}/complete`); // 409: nothing sent yet
      assert.ok((await sendToStorage(upload, png, 'image/png')).ok);
      const file = (await call('post', `/v1/uploads/${upload.id}/complete`)) as { id: string };
      await call('post', `/v1/uploads/${upload.id}/complete`);
      await call('delete', `/v1/uploads/${upload.id}`); // 409 upload_completed
      await call('post', '/v1/uploads/00000000-0000-4000-8000-000000000000/complete');

      const posted = await create('form');
      assert.ok((await sendToStorage(posted, png, 'image/png')).ok);
      await call('post', `/v1/uploads/${posted.id}/complete`); // private file: signed URL

      const disguised = await create('image', 'image/png', html.length);
      assert.ok((await sendToStorage(disguised, html, 'image/png')).ok);
      await call('post', `/v1/uploads/${disguised.id}/complete`); // 422
      const aborted = await create('image');
      await call('delete', `/v1/uploads/${aborted.id}`);
      await call('post', `/v1/uploads/${aborted.id}/complete`); // 409 upload_aborted
      await call('delete', '/v1/uploads/00000000-0000-4000-8000-000000000000');
      const expiring = await create('short');
      await sleep(1500);
      await call('post', `/v1/uploads/${expiring.id}/complete`); // 410

      await call('get', '/v1/files');
      await call('get', '/v1/files?limit=1');
      await call('get', '/v1/files?limit=0');
      await call('get', '/v1/files?before=not-a-file-id');
      await call('get', `/v1/files/${file.id}`);
      await call('get', '/v1/files/00000000-0000-4000-8000-000000000000');
      await call('delete', `/v1/files/${file.id}`);
      await call('delete', `/v1/files/${file.id}`);
    });

    it('multipart: create, resume, sign parts, the parts storage holds, complete with checksums, abort', async () => {
      const size = 11 * 1024 * 1024;
      const fingerprint = `openapi-${driver}-${Date.now()}`;
      const upload = (await call('post', '/v1/uploads', { json: { route: 'big', filename: 'big.png', contentType: 'image/png', size, fingerprint } })) as CreatedUpload & { id: string };
      await call('post', '/v1/uploads', { json: { route: 'big', filename: 'big.png', contentType: 'image/png', size, fingerprint } }); // 200: resumed
      const md5 = createHash('md5').update(png).digest('base64');
      const signed = (await call('post', `/v1/uploads/${upload.id}/parts`, { json: { parts: [{ partNumber: 3, md5 }, { partNumber: 1 }] } })) as { parts: { url: string; headers: Record<string, string> }[] };
      await call('post', `/v1/uploads/${upload.id}/parts`, { json: { parts: [{ partNumber: 4 }] } }); // 400
      await call('post', `/v1/uploads/${upload.id}/parts`, { json: { parts: [] } }); // 400
      await call('post', '/v1/uploads/00000000-0000-4000-8000-000000000000/parts', { json: { parts: [{ partNumber: 1 }] } }); // 404
      assert.equal(signed.parts.length, 2);
      await call('get', `/v1/uploads/${upload.id}`); // with parts: []
      await call('post', `/v1/uploads/${upload.id}/complete`, { json: { parts: [{ partNumber: 1, md5 }], sha256: 'ab'.repeat(32) } }); // 409 incomplete
      await call('post', `/v1/uploads/${upload.id}/complete`, { json: { parts: 'all of them' } }); // 400
      await call('delete', `/v1/uploads/${upload.id}`);
      await call('post', `/v1/uploads/${upload.id}/parts`, { json: { parts: [{ partNumber: 1 }] } }); // 409 aborted
    });

    it('versions: replace a file, list its versions, restore one, and the refusals', async () => {
      const upload = await create('form');
      assert.ok((await sendToStorage(upload, png, 'image/png')).ok);
      const file = (await call('post', `/v1/uploads/${upload.id}/complete`)) as { id: string };
      const replacement = (await call('post', '/v1/uploads', { json: { route: 'form', filename: 'b.png', contentType: 'image/png', size: png.length, replaces: file.id } })) as CreatedUpload;
      assert.equal(replacement.replaces, file.id);
      assert.ok((await sendToStorage(replacement, png, 'image/png')).ok);
      await call('post', `/v1/uploads/${replacement.id}/complete`);
      await call('post', '/v1/uploads', { json: { route: 'image', filename: 'b.png', contentType: 'image/png', size: 10, replaces: file.id } }); // 400 other route
      await call('post', '/v1/uploads', { json: { route: 'form', filename: 'b.png', contentType: 'image/png', size: 10, replaces: '00000000-0000-4000-8000-000000000000' } }); // 404
      const { versions } = (await call('get', `/v1/files/${file.id}/versions`)) as { versions: { id: string }[] };
      await call('get', '/v1/files/00000000-0000-4000-8000-000000000000/versions');
      await call('post', `/v1/files/${file.id}/versions/${encodeURIComponent(versions.at(-1)!.id)}/restore`);
      await call('post', `/v1/files/${file.id}/versions/no-such-version/restore`);
    });

    it('storage hook: an event, a wrong secret, a body that is no event', async () => {
      const hook = '/v1/hooks/storage';
      const staging = 'upfront-staging';
      await call('post', `${hook}?secret=${HOOK_SECRET}`, { auth: false, json: { Event: 's3:TestEvent', Bucket: staging } });
      await call('post', `${hook}?secret=${HOOK_SECRET}`, {
        auth: false,
        json: { Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: staging }, object: { key: 'nobody/owns-this.png', size: 1 } } }] },
      });
      await call('post', `${hook}?secret=not-the-secret-not-the-secret`, { auth: false, json: { Records: [] } });
      await call('post', `${hook}?secret=${HOOK_SECRET}`, { auth: false, body: '{"Records":' });
    });

    it('every documented operation was exercised', () => {
      const documented = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m} ${path}`));
      assert.deepEqual(documented.filter((operation) => !exercised.has(operation)), []);
    });
  });
}

/** An operation's schema, its `#/components/…` references pointing into the document added as `api`. */
function withApiRefs(schema: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"api#/components/')) as Record<string, unknown>;
}

/** A copy in which every object schema with properties allows no others. */
function closed<T>(schema: T): T {
  if (Array.isArray(schema)) return schema.map(closed) as T;
  if (typeof schema !== 'object' || schema === null) return schema;
  const copy = Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, closed(value)]));
  if ('properties' in copy && !('additionalProperties' in copy)) copy.additionalProperties = false;
  return copy as T;
}

/** A POST with a Host header of our choosing (fetch does not let a page, or us, set Host). */
function rawPost(base: string, path: string, host: string, body: string): Promise<Response> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { host, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') headers.set(name, value);
          resolve(new Response(Buffer.concat(chunks), { status: res.statusCode!, headers }));
        });
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}
