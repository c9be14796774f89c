/**
 * Multipart uploads through the real API, on both storage drivers (disk, Ceph RGW) and both databases:
 * parts signed with their exact length and MD5, sent straight to storage, assembled, checked against
 * the MD5s the client computed, verified and promoted; resumed by fingerprint; and every way of bending
 * it refused — by storage where the signature binds it, by the API where it checks — with nothing
 * promoted.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { postgresSchema } from '../support/postgres.ts';
import { makePng } from '../support/png.ts';
import { startTestServer, type Driver, type TestServer } from '../support/server.ts';
import { storageErrorCode } from '../support/transfer.ts';

const MiB = 1024 * 1024;
// 5 MiB parts (S3's smallest): 5 + 5 + 1 MiB.
const png = makePng({ width: 16, height: 16, minBytes: 11 * MiB });
const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('base64');
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

const routes = {
  big: { types: ['image/png'], maxSize: '64MB', visibility: 'public', multipartThreshold: '6MB', partSize: '5MB' },
  // X-Amz-Date counts whole seconds, so a URL lives between expiresIn - 1 and expiresIn seconds: 3 leaves
  // the parts signed again over 2 s to arrive (with 1 they could expire on the way, as one CI run saw).
  short: { types: ['image/png'], maxSize: '64MB', visibility: 'public', strategy: 'multipart', partSize: '5MB', expiresIn: 3 },
  brief: { types: ['image/png'], maxSize: '64MB', visibility: 'public', strategy: 'multipart', partSize: '5MB', multipartExpiresIn: 2 },
  single: { types: ['image/png'], maxSize: '64MB', visibility: 'public', strategy: 'put' },
};

interface Upload {
  id: string;
  key: string;
  strategy: string;
  state: string;
  multipart: { partSize: number; partCount: number } | null;
  parts?: { partNumber: number; size: number; etag: string }[];
  put?: { url: string; headers: Record<string, string> };
}
interface SignedPart {
  partNumber: number;
  size: number;
  url: string;
  headers: Record<string, string>;
}

async function problem(res: Response, status: number, code: string): Promise<string> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  const body = JSON.parse(text) as { code: string; detail: string };
  assert.equal(body.code, code, text);
  return body.detail;
}

const partOf = (bytes: Uint8Array, partSize: number, partNumber: number) => bytes.subarray((partNumber - 1) * partSize, partNumber * partSize);

const setups: { driver: Driver; database: 'sqlite' | 'postgres' }[] = [
  { driver: 'disk', database: 'sqlite' },
  { driver: 's3', database: 'sqlite' },
  { driver: 'disk', database: 'postgres' },
  { driver: 's3', database: 'postgres' },
];

for (const { driver, database } of setups) {
  describe(`multipart uploads on ${driver} with ${database}`, () => {
    let server: TestServer;
    let pg: Awaited<ReturnType<typeof postgresSchema>> | undefined;
    let alice: string;
    let bob: string;

    before(async () => {
      if (database === 'postgres') pg = await postgresSchema();
      // The part-copy path of promotion, with a threshold small enough for these files (RGW only: disk links).
      server = await startTestServer({ driver, routes, env: { S3_PART_COPY_THRESHOLD: '6MB', ...(pg && { DATABASE_URL: pg.url }) } });
      alice = await server.token(`alice-${randomUUID().slice(0, 8)}`);
      bob = await server.token(`bob-${randomUUID().slice(0, 8)}`);
    });
    after(async () => {
      await server?.close();
      await pg?.drop();
    });

    async function create(token: string, body: Record<string, unknown>, status = 201): Promise<Upload> {
      const res = await server.api('/v1/uploads', {
        token,
        json: { route: 'big', filename: 'big.png', contentType: 'image/png', size: png.length, ...body },
      });
      assert.equal(res.status, status, await res.clone().text());
      return (await res.json()) as Upload;
    }
    const sign = (token: string, id: string, parts: { partNumber: number; md5?: string }[]) =>
      server.api(`/v1/uploads/${id}/parts`, { token, json: { parts } });
    async function signed(token: string, id: string, parts: { partNumber: number; md5?: string }[]): Promise<SignedPart[]> {
      const res = await sign(token, id, parts);
      assert.equal(res.status, 200, await res.clone().text());
      return ((await res.json()) as { parts: SignedPart[] }).parts;
    }
    const put = (part: SignedPart, body: Uint8Array) =>
      fetch(part.url, { method: 'PUT', headers: part.headers, body: new Uint8Array(body) });
    const complete = (token: string, id: string, body?: unknown) =>
      server.api(`/v1/uploads/${id}/complete`, { method: 'POST', token, ...(body !== undefined && { json: body }) });
    const get = async (token: string, id: string) => (await (await server.api(`/v1/uploads/${id}`, { token })).json()) as Upload;
    const declared = (upload: Upload) => ({
      parts: Array.from({ length: upload.multipart!.partCount }, (_, i) => ({
        partNumber: i + 1,
        md5: md5(partOf(png, upload.multipart!.partSize, i + 1)),
      })),
      sha256: sha256(png),
    });

    /** Signs (with MD5s) and sends the given parts of `png`. */
    async function send(upload: Upload, numbers: number[]): Promise<void> {
      const { partSize } = upload.multipart!;
      const parts = await signed(alice, upload.id, numbers.map((partNumber) => ({ partNumber, md5: md5(partOf(png, partSize, partNumber)) })));
      await Promise.all(
        parts.map(async (part) => {
          const res = await put(part, partOf(png, partSize, part.partNumber));
          assert.equal(res.status, 200, await res.text());
          assert.match(res.headers.get('etag') ?? '', /^"[0-9a-f]{32}"$/, 'storage answers the part\'s ETag');
        }),
      );
    }

    async function assertNothingFinal(key: string): Promise<void> {
      await server.upfront.services.background.settled();
      assert.equal(await server.upfront.services.storage.head('public', key), null, 'nothing in the public bucket');
    }

    it('a file above the threshold goes in parts, checked against its MD5s, promoted byte-identical with its SHA-256', async () => {
      const upload = await create(alice, {});
      assert.equal(upload.strategy, 'multipart');
      assert.deepEqual(upload.multipart, { partSize: 5 * MiB, partCount: 3 });
      assert.equal(upload.put, undefined);
      await send(upload, [3, 1, 2]);
      const listed = await get(alice, upload.id);
      assert.deepEqual(listed.parts?.map((p) => [p.partNumber, p.size]), [[1, 5 * MiB], [2, 5 * MiB], [3, MiB]]);

      const res = await complete(alice, upload.id, declared(upload));
      assert.equal(res.status, 200, await res.clone().text());
      const file = (await res.json()) as { url: string; size: number; sha256: string };
      assert.equal(file.size, png.length);
      assert.equal(file.sha256, sha256(png));
      const served = await fetch(file.url);
      assert.equal(served.status, 200);
      assert.equal(served.headers.get('cache-control'), 'public, max-age=3600, stale-while-revalidate=60');
      assert.equal(sha256(new Uint8Array(await served.arrayBuffer())), sha256(png), 'byte-identical');
      await server.upfront.services.background.settled();
      assert.equal(await server.upfront.services.storage.head('staging', upload.key), null, 'staging is empty');
      assert.equal((await complete(alice, upload.id)).status, 200, 'complete stays idempotent');
      await problem(await sign(alice, upload.id, [{ partNumber: 1 }]), 409, 'upload_completed');
    });

    it('resumes by fingerprint: the same upload, with the parts storage holds; only the others are sent', async () => {
      const fingerprint = `big.png|${png.length}|1700000000000|${randomUUID()}`;
      const first = await create(alice, { fingerprint });
      await send(first, [2]);
      const again = await create(alice, { fingerprint }, 200);
      assert.equal(again.id, first.id);
      assert.deepEqual(again.parts?.map((p) => p.partNumber), [2]);
      await create(bob, { fingerprint }); // another user's same fingerprint is another upload
      await send(again, [1, 3]);
      const res = await complete(alice, again.id, declared(again));
      assert.equal(res.status, 200, await res.clone().text());
      const fresh = await create(alice, { fingerprint }); // finished: a new upload of it starts anew
      assert.notEqual(fresh.id, first.id);
    });

    it('part URLs that expired are refused by storage and simply signed again', async () => {
      const upload = await create(alice, { route: 'short' });
      const [part] = await signed(alice, upload.id, [{ partNumber: 1 }]);
      await sleep(3100);
      const late = await put(part!, partOf(png, 5 * MiB, 1));
      assert.equal(late.status, 403, 'storage refuses an expired part URL');
      await send(upload, [1, 2, 3]);
      assert.equal((await complete(alice, upload.id, declared(upload))).status, 200);
    });

    it('refuses part numbers out of range, and parts of a single-request upload', async () => {
      const upload = await create(alice, {});
      await problem(await sign(alice, upload.id, [{ partNumber: 0 }]), 400, 'invalid_request');
      await problem(await sign(alice, upload.id, [{ partNumber: 10_001 }]), 400, 'invalid_request');
      await problem(await sign(alice, upload.id, [{ partNumber: 1.5 }]), 400, 'invalid_request');
      const detail = await problem(await sign(alice, upload.id, [{ partNumber: 4 }]), 400, 'invalid_request');
      assert.match(detail, /out of range: this upload has 3 parts/);
      await problem(await sign(alice, upload.id, []), 400, 'invalid_request');
      const single = await create(alice, { route: 'single' });
      assert.equal(single.strategy, 'put');
      await problem(await sign(alice, single.id, [{ partNumber: 1 }]), 400, 'invalid_request');
    });

    it('storage refuses a part of another length than signed, or of other bytes than its signed MD5', async () => {
      const upload = await create(alice, {});
      const body = partOf(png, 5 * MiB, 1);
      const [part] = await signed(alice, upload.id, [{ partNumber: 1, md5: md5(body) }]);
      const longer = await fetch(part!.url, { method: 'PUT', headers: part!.headers, body: new Uint8Array(Buffer.concat([body, Buffer.from('x')])) });
      assert.ok(longer.status === 400 || longer.status === 403, `longer part refused (${longer.status})`);
      const shorter = await fetch(part!.url, { method: 'PUT', headers: part!.headers, body: new Uint8Array(body.subarray(1)) });
      assert.ok(shorter.status === 400 || shorter.status === 403, `shorter part refused (${shorter.status})`);
      const tampered = Buffer.from(body);
      tampered[1000] = tampered[1000]! ^ 0xff;
      const corrupt = await put(part!, tampered);
      assert.equal(corrupt.status, 400);
      assert.equal(await storageErrorCode(corrupt), 'BadDigest');
      assert.deepEqual((await get(alice, upload.id)).parts, [], 'storage kept none of them');
    });

    it('complete names the missing parts, and promotes nothing', async () => {
      const upload = await create(alice, {});
      await send(upload, [1, 3]);
      const detail = await problem(await complete(alice, upload.id), 409, 'upload_incomplete');
      assert.match(detail, /holds 2 of the 3 parts; send part 2/);
      await assertNothingFinal(upload.key);
      assert.equal((await get(alice, upload.id)).state, 'pending', 'the client can still send part 2');
    });

    it('parts that do not match the MD5s the client computed are rejected, nothing promoted', async () => {
      const upload = await create(alice, {});
      // Sent without MD5s in their URLs, so storage cannot refuse them: the check at complete must.
      const { partSize } = upload.multipart!;
      const parts = await signed(alice, upload.id, [1, 2, 3].map((partNumber) => ({ partNumber })));
      const other = Buffer.from(partOf(png, partSize, 2));
      other[7] = other[7]! ^ 0xff;
      for (const part of parts) assert.equal((await put(part, part.partNumber === 2 ? other : partOf(png, partSize, part.partNumber))).status, 200);
      const detail = await problem(await complete(alice, upload.id, declared(upload)), 422, 'checksum_mismatch');
      assert.match(detail, /part 2/);
      await assertNothingFinal(upload.key);
      assert.equal((await get(alice, upload.id)).state, 'rejected');
      await problem(await complete(alice, upload.id), 422, 'checksum_mismatch');
      const afterwards = await put(parts[0]!, partOf(png, partSize, 1));
      assert.equal(afterwards.status, 404, 'the multipart upload is gone from storage');
      assert.equal(await storageErrorCode(afterwards), 'NoSuchUpload');
    });

    it('after an abort, storage refuses parts and the API refuses to sign them', async () => {
      const upload = await create(alice, {});
      const [part] = await signed(alice, upload.id, [{ partNumber: 1 }]);
      assert.equal((await server.api(`/v1/uploads/${upload.id}`, { method: 'DELETE', token: alice })).status, 204);
      const late = await put(part!, partOf(png, 5 * MiB, 1));
      assert.equal(late.status, 404);
      assert.equal(await storageErrorCode(late), 'NoSuchUpload');
      await problem(await sign(alice, upload.id, [{ partNumber: 2 }]), 409, 'upload_aborted');
      await problem(await complete(alice, upload.id), 409, 'upload_aborted');
      await assertNothingFinal(upload.key);
    });

    it('another user can neither sign, read, complete nor abort the parts of an upload', async () => {
      const upload = await create(alice, {});
      await problem(await sign(bob, upload.id, [{ partNumber: 1 }]), 404, 'not_found');
      await problem(await server.api(`/v1/uploads/${upload.id}`, { token: bob }), 404, 'not_found');
      await problem(await complete(bob, upload.id), 404, 'not_found');
      await problem(await server.api(`/v1/uploads/${upload.id}`, { method: 'DELETE', token: bob }), 404, 'not_found');
    });

    it('a multipart upload that outlived its lifetime cannot be signed again', async () => {
      const upload = await create(alice, { route: 'brief' });
      await signed(alice, upload.id, [{ partNumber: 1 }]);
      await sleep(2100);
      await problem(await sign(alice, upload.id, [{ partNumber: 1 }]), 410, 'upload_expired');
    });

    it('concurrent completes and aborts of an assembled-or-not multipart upload agree', async () => {
      const upload = await create(alice, {});
      await send(upload, [1, 2, 3]);
      const kinds = ['complete', 'complete', 'complete', 'abort', 'complete', 'complete'] as const;
      const answers = await Promise.all(
        kinds.map(async (kind) => {
          const res = kind === 'complete' ? await complete(alice, upload.id) : await server.api(`/v1/uploads/${upload.id}`, { method: 'DELETE', token: alice });
          const text = await res.text();
          return { kind, status: res.status, code: text ? (JSON.parse(text) as { code?: string; id?: string }).code : undefined };
        }),
      );
      for (const answer of answers) assert.ok(answer.status < 500, JSON.stringify(answers));
      const won = answers.some((a) => a.kind === 'complete' && a.status === 200);
      const aborted = answers.some((a) => a.kind === 'abort' && a.status === 204);
      assert.ok(won !== aborted, `exactly one outcome: ${JSON.stringify(answers)}`);
      await server.upfront.services.background.settled();
      const state = (await get(alice, upload.id)).state;
      assert.equal(state, won ? 'ready' : 'aborted');
      assert.equal((await server.upfront.services.storage.head('public', upload.key)) !== null, won);
    });
  });
}
