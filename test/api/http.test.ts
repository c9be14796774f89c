/**
 * The API's HTTP surface, over real HTTP: CORS for allowed and foreign origins (preflights, answers
 * and errors) and the 64 KB limit on API bodies, declared or chunked.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../support/server.ts';

const allowed = 'http://localhost:5173';
const foreign = 'https://evil.example';
const upload = { route: 'image', filename: 'a.png', contentType: 'image/png', size: 1000 };

describe('API over HTTP', () => {
  let server: TestServer;
  let token: string;

  before(async () => {
    server = await startTestServer({ driver: 'disk' }); // CORS_ORIGINS: http://localhost:*, http://127.0.0.1:*
    token = await server.token('cors-user');
  });
  after(() => server?.close());

  async function problemCode(res: Response, status: number): Promise<string> {
    const body = await res.text();
    assert.equal(res.status, status, body);
    return (JSON.parse(body) as { code: string }).code;
  }

  describe('CORS', () => {
    const preflight = (origin: string) =>
      fetch(`${server.url}/v1/uploads`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      });

    it('answers a preflight from an allowed origin with what the API accepts', async () => {
      const res = await preflight(allowed);
      assert.equal(res.status, 204);
      assert.equal(res.headers.get('access-control-allow-origin'), allowed);
      assert.match(res.headers.get('access-control-allow-methods') ?? '', /\bPOST\b/);
      assert.match(res.headers.get('access-control-allow-methods') ?? '', /\bDELETE\b/);
      assert.match(res.headers.get('access-control-allow-headers') ?? '', /authorization/i);
      assert.match(res.headers.get('access-control-allow-headers') ?? '', /content-type/i);
      assert.equal(res.headers.get('access-control-max-age'), '600');
      assert.match(res.headers.get('vary') ?? '', /origin/i);
    });

    it('gives a foreign origin no CORS headers, so its browser blocks the call', async () => {
      const res = await preflight(foreign);
      assert.equal(res.headers.get('access-control-allow-origin'), null);
      assert.equal(res.headers.get('access-control-allow-methods'), null);
      const created = await server.api('/v1/uploads', { token, json: upload, headers: { origin: foreign } });
      assert.equal(created.headers.get('access-control-allow-origin'), null);
      assert.match(created.headers.get('vary') ?? '', /origin/i, 'caches keep per-origin answers apart');
    });

    it('marks answers and errors for an allowed origin, so the page can read both', async () => {
      const created = await server.api('/v1/uploads', { token, json: upload, headers: { origin: allowed } });
      assert.equal(created.status, 201);
      assert.equal(created.headers.get('access-control-allow-origin'), allowed);
      assert.match(created.headers.get('vary') ?? '', /origin/i);
      assert.equal((await created.json() as { filename: string }).filename, 'a.png');

      const unauthorised = await server.api('/v1/uploads', { json: upload, headers: { origin: allowed } });
      assert.equal(await problemCode(unauthorised.clone(), 401), 'unauthorized');
      assert.equal(unauthorised.headers.get('access-control-allow-origin'), allowed);
      assert.equal(unauthorised.headers.get('www-authenticate'), 'Bearer');

      const missing = await server.api('/v1/nothing-here', { token, headers: { origin: allowed } });
      assert.equal(await problemCode(missing.clone(), 404), 'not_found');
      assert.equal(missing.headers.get('access-control-allow-origin'), allowed);
    });
  });

  describe('API bodies', () => {
    const big = JSON.stringify({ ...upload, filename: 'a.png', padding: 'x'.repeat(70 * 1024) });

    /** POST over node:http, chunked (no Content-Length) when asked. */
    function post(path: string, body: string, chunked: boolean): Promise<Response> {
      return new Promise((resolve, reject) => {
        const headers: Record<string, string> = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
        if (!chunked) headers['content-length'] = String(Buffer.byteLength(body));
        const req = httpRequest(`${server.url}${path}`, { method: 'POST', headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 0 })));
        });
        req.on('error', reject);
        if (chunked) {
          const cut = body.length >> 1;
          req.write(body.slice(0, cut));
          req.end(body.slice(cut));
        } else {
          req.end(body);
        }
      });
    }

    it('refuses a body over 64 KB, declared or chunked, with payload_too_large', async () => {
      assert.equal(await problemCode(await post('/v1/uploads', big, false), 413), 'payload_too_large');
      assert.equal(await problemCode(await post('/v1/uploads', big, true), 413), 'payload_too_large');
    });

    it('takes a small body however it is framed', async () => {
      for (const chunked of [false, true]) {
        const res = await post('/v1/uploads', JSON.stringify(upload), chunked);
        assert.equal(res.status, 201, await res.clone().text());
        assert.equal((await res.json() as { size: number }).size, 1000);
      }
    });

    it('says what is wrong with a body that is not JSON', async () => {
      assert.equal(await problemCode(await post('/v1/uploads', '{"route": "image",', false), 400), 'invalid_request');
      const asText = await server.api('/v1/uploads', { token, body: JSON.stringify(upload), headers: { 'content-type': 'text/plain' } });
      assert.equal(await problemCode(asText, 400), 'invalid_request');
    });
  });
});
