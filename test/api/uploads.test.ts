/**
 * The upload flow through real HTTP, on both storage drivers (disk, Ceph RGW) and both strategies
 * (presigned PUT, POST policy): what must land, and everything that must be refused — by storage
 * itself where the signature binds it, by the API where it checks — leaving nothing in the final bucket.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Bucket } from '@upfront/server';
import { startIdp, type Idp } from '../support/idp.ts';
import { postgresSchema } from '../support/postgres.ts';
import { makePng } from '../support/png.ts';
import { startTestServer, type Driver, type TestServer } from '../support/server.ts';
import { sendToStorage, storageErrorCode, type CreatedUpload } from '../support/transfer.ts';

const png = makePng({ width: 16, height: 16, minBytes: 20_000 });
const pdf = Buffer.from('%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n');
const html = Buffer.from('<!doctype html><html><body><script>alert(document.cookie)</script></body></html>');
const script = Buffer.from('fetch("/steal?c=" + document.cookie);\n'.repeat(20));

const routes = (strategy: 'put' | 'post') => ({
  [`image-${strategy}`]: { types: ['image/png', 'image/jpeg'], maxSize: '64KB', visibility: 'public', strategy },
  [`doc-${strategy}`]: { types: ['application/pdf'], maxSize: '64KB', visibility: 'private', strategy },
  [`short-${strategy}`]: { types: ['image/png'], maxSize: '64KB', visibility: 'public', strategy, expiresIn: 1 },
});

async function problem(res: Response, status: number, code: string): Promise<void> {
  const body = await res.text();
  assert.equal(res.status, status, body);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const parsed = JSON.parse(body) as { code: string; detail: string };
  assert.equal(parsed.code, code, body);
  assert.ok(parsed.detail.length > 20, 'the detail says what to do');
}

const setups: { driver: Driver; database: 'sqlite' | 'postgres' }[] = [
  { driver: 'disk', database: 'sqlite' },
  { driver: 's3', database: 'sqlite' },
  { driver: 'disk', database: 'postgres' },
];

for (const { driver, database } of setups) {
  describe(`uploads on ${driver} with ${database}`, () => {
    let server: TestServer;
    let idp: Idp;
    let pgSchema: Awaited<ReturnType<typeof postgresSchema>> | undefined;
    let alice: string;
    let bob: string;

    before(async () => {
      idp = await startIdp();
      if (database === 'postgres') pgSchema = await postgresSchema();
      const env = { ...idp.env, ...(pgSchema && { DATABASE_URL: pgSchema.url }) };
      server = await startTestServer({ driver, routes: { ...routes('put'), ...routes('post') }, env });
      alice = await server.token(`alice-${randomUUID().slice(0, 8)}`);
      bob = await server.token(`bob-${randomUUID().slice(0, 8)}`);
    });
    after(async () => {
      await server?.close();
      await idp?.close();
      await pgSchema?.drop();
    });

    const create = (token: string, body: unknown) => server.api('/v1/uploads', { token, json: body });
    async function created(token: string, route: string, filename: string, contentType: string, size: number): Promise<CreatedUpload> {
      const res = await create(token, { route, filename, contentType, size });
      assert.equal(res.status, 201, await res.clone().text());
      return (await res.json()) as CreatedUpload;
    }
    const complete = (token: string, id: string) => server.api(`/v1/uploads/${id}/complete`, { method: 'POST', token });
    const exists = async (bucket: Bucket, key: string) => (await server.upfront.services.storage.head(bucket, key)) !== null;
    async function assertNothingFinal(key: string): Promise<void> {
      assert.equal(await exists('public', key), false, 'nothing in the public bucket');
      assert.equal(await exists('private', key), false, 'nothing in the private bucket');
    }

    for (const strategy of ['put', 'post'] as const) {
      describe(`${strategy} strategy`, () => {
        it('a valid image lands, is verified, promoted with bounded caching, listed, and deleted', async () => {
          const upload = await created(alice, `image-${strategy}`, 'holiday photo.png', 'image/png', png.length);
          assert.equal(upload.strategy, strategy);
          assert.ok(upload.key.endsWith('.png') && !upload.key.includes('holiday'), 'key is generated, not the filename');
          const sent = await sendToStorage(upload, png, 'image/png');
          assert.ok(sent.ok, `storage accepted: ${sent.status}`);

          const res = await complete(alice, upload.id);
          assert.equal(res.status, 200, await res.clone().text());
          const file = (await res.json()) as { id: string; url: string; size: number; contentType: string; filename: string };
          assert.equal(file.size, png.length);
          assert.equal(file.contentType, 'image/png');
          assert.equal(file.filename, 'holiday photo.png');
          await server.upfront.services.background.settled(); // the staged copy goes after the answer
          assert.equal(await exists('staging', upload.key), false, 'staging copy removed');

          const served = await fetch(file.url);
          assert.equal(served.status, 200);
          assert.equal(served.headers.get('cache-control'), 'public, max-age=3600, stale-while-revalidate=60');
          assert.equal(served.headers.get('content-type'), 'image/png');
          assert.deepEqual(Buffer.from(await served.arrayBuffer()), png);

          const again = await complete(alice, upload.id);
          assert.equal(again.status, 200, 'complete is idempotent');
          assert.equal(((await again.json()) as { id: string }).id, file.id);

          const list = (await (await server.api('/v1/files', { token: alice })).json()) as { files: { id: string }[] };
          assert.ok(list.files.some((f) => f.id === file.id));
          const bobList = (await (await server.api('/v1/files', { token: bob })).json()) as { files: { id: string }[] };
          assert.ok(!bobList.files.some((f) => f.id === file.id), "bob does not see alice's files");

          await problem(await server.api(`/v1/files/${file.id}`, { token: bob }), 404, 'not_found');
          await problem(await server.api(`/v1/files/${file.id}`, { method: 'DELETE', token: bob }), 404, 'not_found');
          assert.equal(await exists('public', upload.key), true, "bob's delete removed nothing");

          assert.equal((await server.api(`/v1/files/${file.id}`, { method: 'DELETE', token: alice })).status, 204);
          assert.equal(await exists('public', upload.key), false);
          await problem(await server.api(`/v1/files/${file.id}`, { token: alice }), 404, 'not_found');
        });

        it('a private document is only readable through a short-lived signed download', async () => {
          const upload = await created(alice, `doc-${strategy}`, 'Relevé 2026 📄.pdf', 'application/pdf', pdf.length);
          assert.ok((await sendToStorage(upload, pdf, 'application/pdf')).ok);
          const res = await complete(alice, upload.id);
          assert.equal(res.status, 200, await res.clone().text());
          const file = (await res.json()) as { id: string; url: string; filename: string };
          assert.equal(file.filename, 'Relevé 2026 📄.pdf', 'emoji and accents survive as metadata');
          assert.equal(await exists('private', upload.key), true);
          assert.equal(await exists('public', upload.key), false);

          const download = await fetch(file.url);
          assert.equal(download.status, 200);
          assert.deepEqual(Buffer.from(await download.arrayBuffer()), pdf);
          const disposition = download.headers.get('content-disposition') ?? '';
          assert.match(disposition, /^attachment;/);
          assert.ok(disposition.includes(`filename*=UTF-8''${encodeURIComponent('Relevé 2026 📄.pdf')}`), disposition);

          const unsigned = await fetch(file.url.split('?')[0]!);
          assert.ok(unsigned.status === 403 || unsigned.status === 401, `anonymous read refused (${unsigned.status})`);
        });

        it('storage refuses a body larger than declared; complete then reports nothing arrived', async () => {
          const upload = await created(alice, `image-${strategy}`, 'a.png', 'image/png', png.length - 100);
          const sent = await sendToStorage(upload, png, 'image/png');
          assert.ok(sent.status === 400 || sent.status === 403, `refused by storage (${sent.status})`);
          const code = await storageErrorCode(sent);
          assert.ok(
            strategy === 'put' ? ['SignatureDoesNotMatch', 'AccessDenied', 'BadDigest', 'IncompleteBody'].includes(code) : code === 'EntityTooLarge',
            `storage error code ${code}`,
          );
          assert.equal(await exists('staging', upload.key), false);
          await problem(await complete(alice, upload.id), 409, 'upload_incomplete');
          await assertNothingFinal(upload.key);
        });

        it('an HTML page or a script renamed .png and declared image/png is rejected at complete', async () => {
          for (const [body, name] of [[html, 'evil.png'], [script, 'steal.png']] as const) {
            const upload = await created(alice, `image-${strategy}`, name, 'image/png', body.length);
            assert.ok((await sendToStorage(upload, body, 'image/png')).ok, 'storage accepts bytes it cannot judge');
            await problem(await complete(alice, upload.id), 422, 'content_type_mismatch');
            assert.equal(await exists('staging', upload.key), false, 'rejected bytes deleted');
            await assertNothingFinal(upload.key);
            await problem(await complete(alice, upload.id), 422, 'content_type_mismatch');
            const state = (await (await server.api(`/v1/uploads/${upload.id}`, { token: alice })).json()) as { state: string };
            assert.equal(state.state, 'rejected');
          }
        });

        it('storage refuses a tampered signature', async () => {
          const upload = await created(alice, `image-${strategy}`, 'a.png', 'image/png', png.length);
          if (upload.put) {
            const url = new URL(upload.put.url);
            const sig = url.searchParams.get('X-Amz-Signature')!;
            url.searchParams.set('X-Amz-Signature', (sig[0] === 'a' ? 'b' : 'a') + sig.slice(1));
            upload.put.url = url.toString();
          } else {
            const name = Object.keys(upload.post!.fields).find((k) => k.toLowerCase() === 'x-amz-signature')!;
            const sig = upload.post!.fields[name]!;
            upload.post!.fields[name] = (sig[0] === 'a' ? 'b' : 'a') + sig.slice(1);
          }
          const sent = await sendToStorage(upload, png, 'image/png');
          assert.equal(sent.status, 403);
          // RGW answers a forged POST policy signature with AccessDenied; everything else with SignatureDoesNotMatch.
          const expected = strategy === 'post' && driver === 's3' ? 'AccessDenied' : 'SignatureDoesNotMatch';
          assert.equal(await storageErrorCode(sent), expected);
          assert.equal(await exists('staging', upload.key), false);
          await problem(await complete(alice, upload.id), 409, 'upload_incomplete');
          await assertNothingFinal(upload.key);
        });

        it('storage refuses an expired signed request; complete reports upload_expired', async () => {
          const upload = await created(alice, `short-${strategy}`, 'a.png', 'image/png', png.length);
          await new Promise((r) => setTimeout(r, 2500));
          const sent = await sendToStorage(upload, png, 'image/png');
          assert.equal(sent.status, 403, 'expired request refused');
          assert.equal(await storageErrorCode(sent), 'AccessDenied');
          assert.equal(await exists('staging', upload.key), false);
          await problem(await complete(alice, upload.id), 410, 'upload_expired');
          await assertNothingFinal(upload.key);
        });

        it('storage refuses a signed request reused for another key', async () => {
          const upload = await created(alice, `image-${strategy}`, 'a.png', 'image/png', png.length);
          const otherKey = upload.key.replace(/[^/]+$/, 'other.png');
          if (upload.put) {
            upload.put.url = upload.put.url.replace(encodeURI(upload.key.split('/').pop()!), 'other.png');
            assert.ok(upload.put.url.includes('other.png'));
          } else {
            upload.post!.fields.key = otherKey;
          }
          const sent = await sendToStorage(upload, png, 'image/png');
          assert.equal(sent.status, 403);
          assert.equal(await exists('staging', otherKey), false);
          assert.equal(await exists('staging', upload.key), false);
        });
      });
    }

    it('completing, reading or aborting another user\'s upload is not found', async () => {
      const upload = await created(alice, 'image-put', 'a.png', 'image/png', png.length);
      assert.ok((await sendToStorage(upload, png, 'image/png')).ok);
      await problem(await complete(bob, upload.id), 404, 'not_found');
      await problem(await server.api(`/v1/uploads/${upload.id}`, { token: bob }), 404, 'not_found');
      await problem(await server.api(`/v1/uploads/${upload.id}`, { method: 'DELETE', token: bob }), 404, 'not_found');
      await assertNothingFinal(upload.key);
      assert.equal(await exists('staging', upload.key), true, "alice's staged bytes are untouched");
      assert.equal((await complete(alice, upload.id)).status, 200);
    });

    it('refuses what the route does not allow before signing anything', async () => {
      await problem(await create(alice, { route: 'image-put', filename: 'a.png', contentType: 'image/png', size: 64 * 1024 + 1 }), 413, 'file_too_large');
      await problem(await create(alice, { route: 'image-post', filename: 'a.png', contentType: 'image/png', size: 10 ** 12 }), 413, 'file_too_large');
      await problem(await create(alice, { route: 'image-put', filename: 'a.html', contentType: 'text/html', size: 100 }), 415, 'type_not_allowed');
      await problem(await create(alice, { route: 'doc-post', filename: 'a.svg', contentType: 'image/svg+xml', size: 100 }), 415, 'type_not_allowed');
      await problem(await create(alice, { route: 'nope', filename: 'a.png', contentType: 'image/png', size: 100 }), 400, 'invalid_request');
      await problem(await create(alice, { route: 'image-put', filename: 'a.png', contentType: 'image/png', size: 0 }), 400, 'invalid_request');
      await problem(await create(alice, { route: 'image-put', filename: 'a.png', contentType: 'image/png', size: '100' }), 400, 'invalid_request');
    });

    it('refuses malformed JSON and non-JSON bodies', async () => {
      await problem(await server.api('/v1/uploads', { token: alice, body: '{"route": "image-put",' }), 400, 'invalid_request');
      await problem(await server.api('/v1/uploads', { token: alice, body: '[1,2]' }), 400, 'invalid_request');
      await problem(
        await server.api('/v1/uploads', { token: alice, body: 'route=image', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
        400,
        'invalid_request',
      );
    });

    it('handles hostile filenames: paths are dropped, NUL and over-long names refused, emoji kept', async () => {
      const body = (filename: string) => ({ route: 'image-put', filename, contentType: 'image/png', size: png.length });
      const traversal = await create(alice, body('../../etc/passwd.png'));
      assert.equal(traversal.status, 201);
      const t = (await traversal.json()) as CreatedUpload & { filename: string };
      assert.equal(t.filename, 'passwd.png');
      assert.ok(!t.key.includes('..') && !t.key.includes('etc'), t.key);
      const windows = (await (await create(alice, body('C:\\Users\\me\\cat.png'))).json()) as { filename: string };
      assert.equal(windows.filename, 'cat.png');

      await problem(await create(alice, body('cat\u0000.png')), 400, 'invalid_filename');
      await problem(await create(alice, body(`${'a'.repeat(296)}.png`)), 400, 'invalid_filename');
      await problem(await create(alice, body('../')), 400, 'invalid_filename');
      await problem(await create(alice, body('')), 400, 'invalid_filename');
      await problem(await create(alice, body('photo\u202Egnp.exe')), 400, 'invalid_filename');

      const emoji = await create(alice, body('🐱 cat 😺.png'));
      assert.equal(emoji.status, 201);
      const e = (await emoji.json()) as CreatedUpload & { filename: string };
      assert.equal(e.filename, '🐱 cat 😺.png');
      assert.match(e.key, /^[A-Za-z0-9._\/-]+$/, 'keys are plain ASCII whatever the filename');
      assert.ok((await sendToStorage(e, png, 'image/png')).ok);
      const file = (await (await complete(alice, e.id)).json()) as { filename: string };
      assert.equal(file.filename, '🐱 cat 😺.png');
    });

    it('refuses missing, malformed, expired, foreign-audience, foreign-issuer and alg:none tokens', async () => {
      const body = { route: 'image-put', filename: 'a.png', contentType: 'image/png', size: 100 };
      const good = await idp.sign({ sub: 'carol' });
      assert.equal((await create(good, body)).status, 201, 'a valid token of the configured IdP works');

      await problem(await server.api('/v1/uploads', { json: body }), 401, 'unauthorized');
      await problem(await create('not-a-jwt', body), 401, 'unauthorized');
      await problem(await create(await idp.sign({ sub: 'carol' }, { expiresIn: -120 }), body), 401, 'unauthorized');
      await problem(await create(await idp.sign({ sub: 'carol' }, { audience: 'some-other-api' }), body), 401, 'unauthorized');
      await problem(await create(await idp.sign({ sub: 'carol' }, { issuer: 'https://evil.example/' }), body), 401, 'unauthorized');
      await problem(await create(await idp.sign({}), body), 401, 'unauthorized');

      const [, payload] = good.split('.');
      const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
      await problem(await create(none, body), 401, 'unauthorized');
      const forged = `${good.split('.')[0]}.${Buffer.from(JSON.stringify({ sub: 'mallory', iss: idp.issuer, aud: idp.audience, exp: 2e9 })).toString('base64url')}.${good.split('.')[2]}`;
      await problem(await create(forged, body), 401, 'unauthorized');
    });
  });
}
