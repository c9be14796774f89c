/**
 * The Node adapter and the BufferedRequest it hands to the fetch handler: small JSON bodies are read
 * up front and behave like any Request body; everything else stays a stream. Over real HTTP.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { BufferedRequest } from '../../packages/server/src/buffered-request.ts';
import { requestListener } from '../../packages/server/src/node.ts';

const json = { route: 'image', filename: 'Łódź 📷.png', size: 1234 };

function buffered(body: string, contentType = 'application/json'): BufferedRequest {
  const headers = new Headers({ 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)) });
  return new BufferedRequest('http://127.0.0.1/v1/uploads', 'POST', headers, new Uint8Array(Buffer.from(body)));
}

describe('BufferedRequest', () => {
  it('is a Request with the method, URL and headers it was given', () => {
    const request = buffered('{}');
    assert.ok(request instanceof Request);
    assert.equal(request.method, 'POST');
    assert.equal(request.url, 'http://127.0.0.1/v1/uploads');
    assert.equal(request.headers.get('content-type'), 'application/json');
    assert.equal(request.bodyUsed, false);
    assert.equal(request.signal.aborted, false);
    assert.equal(request.redirect, 'follow', 'what a handler asks beyond these comes from a standard Request');
    assert.equal(request.bodyUsed, false, 'and does not use up the body');
  });

  it('reads its body as json, text or bytes, once', async () => {
    const body = JSON.stringify(json);
    const viaJson = buffered(body);
    assert.deepEqual(await viaJson.json(), json);
    assert.equal(viaJson.bodyUsed, true);
    await assert.rejects(viaJson.text(), TypeError, 'a body is read once, as with any Request');
    await assert.rejects(viaJson.blob(), TypeError);
    assert.equal(viaJson.body, null, 'no second look at the bytes through the stream either');
    assert.equal(await buffered(body).text(), body);
    assert.deepEqual(Buffer.from(await buffered(body).arrayBuffer()), Buffer.from(body));
    assert.equal(await (await buffered(body).blob()).text(), body);
  });

  it('gives the same bytes through its body stream, then counts as read', async () => {
    const body = JSON.stringify(json);
    const request = buffered(body);
    assert.equal(await new Response(request.body).text(), body);
    assert.equal(request.bodyUsed, true);
    await assert.rejects(request.json(), TypeError);
  });

  it('parses form bodies and clones like a Request', async () => {
    const form = buffered('a=1&b=two', 'application/x-www-form-urlencoded');
    const copy = form.clone();
    assert.equal((await form.formData()).get('b'), 'two');
    assert.equal(await copy.text(), 'a=1&b=two', 'the clone has its own unread body');
    assert.throws(() => form.clone(), TypeError, 'a read body cannot be cloned');
  });

  it('rejects malformed JSON as Request.json() does', async () => {
    await assert.rejects(buffered('{"route": ').json(), SyntaxError);
  });
});

describe('Node adapter (requestListener)', () => {
  let server: Server;
  let port: number;
  const seen: { buffered: boolean; chunked: boolean }[] = [];

  before(async () => {
    // Echoes what the handler received: how it came (buffered or streamed) and a digest of the body.
    server = createServer(
      requestListener(async (request) => {
        seen.push({ buffered: request instanceof BufferedRequest, chunked: !request.headers.has('content-length') });
        const bytes = Buffer.from(await request.arrayBuffer());
        return Response.json({
          method: request.method,
          path: new URL(request.url).pathname,
          type: request.headers.get('content-type'),
          length: bytes.length,
          sha256: createHash('sha256').update(bytes).digest('hex'),
        });
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function send(body: Buffer, headers: Record<string, string>, chunked = false) {
    seen.length = 0;
    const response = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest({ port, host: '127.0.0.1', method: 'POST', path: '/echo?x=1', headers }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      if (chunked) {
        // Two writes and no Content-Length: node sends Transfer-Encoding: chunked.
        req.write(body.subarray(0, body.length >> 1));
        req.end(body.subarray(body.length >> 1));
      } else {
        req.end(body);
      }
    });
    assert.equal(response.status, 200, response.body);
    const echoed = JSON.parse(response.body) as { length: number; sha256: string; path: string; method: string };
    assert.equal(echoed.method, 'POST');
    assert.equal(echoed.path, '/echo');
    assert.equal(echoed.length, body.length);
    assert.equal(echoed.sha256, createHash('sha256').update(body).digest('hex'), 'the handler got exactly the bytes sent');
    return seen[0]!;
  }

  it('reads a small JSON body before the handler runs', async () => {
    const body = Buffer.from(JSON.stringify(json));
    const how = await send(body, { 'content-type': 'application/json', 'content-length': String(body.length) });
    assert.equal(how.buffered, true);
  });

  it('streams bodies that are large, not JSON, or of unknown length', async () => {
    const big = Buffer.alloc(200 * 1024, 7);
    assert.equal((await send(big, { 'content-type': 'application/json', 'content-length': String(big.length) })).buffered, false);
    const bytes = Buffer.from('\x89PNG\r\n\x1a\n binary');
    assert.equal((await send(bytes, { 'content-type': 'image/png', 'content-length': String(bytes.length) })).buffered, false);
    const chunked = await send(Buffer.from(JSON.stringify(json)), { 'content-type': 'application/json' }, true);
    assert.deepEqual(chunked, { buffered: false, chunked: true });
  });
});
