/**
 * Processors between verification and promotion (processors/), through real HTTP on both storage
 * drivers: the built-in image processor (whole decode, nothing after the image's end, metadata
 * stripped, variants stored, listed and deleted with the file) and an app's own (a rejection with its
 * code, a timeout, a failure that keeps the upload for a retry), and their configuration errors.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { ConfigError, createUpfront, loadConfig, type ProcessorInput, type ProcessorVerdict, type UploadProcessor } from '@upfront/server';
import { hasGpsIfd } from '../support/exif.ts';
import { makePng } from '../support/png.ts';
import { postgresSchema } from '../support/postgres.ts';
import { startTestServer, type Driver, type TestServer } from '../support/server.ts';
import { sendToStorage, type CreatedUpload } from '../support/transfer.ts';

interface VariantJson {
  name: string;
  url: string;
  width: number;
  height: number;
  contentType: string;
  size: number;
}
interface FileJson {
  id: string;
  key: string;
  url: string;
  size: number;
  sha256: string | null;
  visibility: string;
  variants: VariantJson[];
}

/** The image processor's temporary folders that exist now: none is left once a complete has answered. */
const imageTempDirs = async () => (await readdir(tmpdir())).filter((name) => name.startsWith('upfront-image-'));
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const html = Buffer.from('<!doctype html><html><body><script>alert(document.cookie)</script></body></html>\n');

const routes = {
  photo: {
    types: ['image/png', 'image/jpeg'],
    maxSize: '1MB',
    visibility: 'public',
    strategy: 'put',
    processors: ['image'],
    image: {
      variants: [
        { name: 'thumb', width: 32, height: 32, fit: 'cover', format: 'webp' },
        { name: 'small', width: 48, format: 'jpeg', quality: 70 },
      ],
    },
  },
  scanned: {
    types: ['image/png'],
    maxSize: '1MB',
    visibility: 'private',
    strategy: 'put',
    processors: ['image', 'scan'],
    image: { variants: [{ name: 'thumb', width: 16, height: 16 }] },
  },
  hangs: { types: ['image/png'], maxSize: '1MB', visibility: 'public', strategy: 'put', processors: ['slow'] },
  flaky: { types: ['image/png'], maxSize: '1MB', visibility: 'public', strategy: 'put', processors: ['flaky'] },
  plain: { types: ['image/png'], maxSize: '1MB', visibility: 'public', strategy: 'put' },
  aborted: {
    types: ['image/png'],
    maxSize: '1MB',
    visibility: 'public',
    strategy: 'put',
    processors: ['image', 'aborter'],
    image: { variants: [{ name: 'thumb', width: 8, height: 8 }] },
  },
};

/** What the scan processor saw of each upload it read: the SHA-256 of every byte it streamed. */
const scanned = new Map<string, string>();
const scan: UploadProcessor = {
  async run({ upload, read, head }: ProcessorInput): Promise<ProcessorVerdict> {
    const hash = createHash('sha256');
    let size = 0;
    const reader = read().getReader();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      hash.update(chunk.value);
      size += chunk.value.byteLength;
    }
    assert.equal(size, head.size);
    scanned.set(upload.id, hash.digest('hex'));
    if (upload.filename.startsWith('infected')) return { ok: false, code: 'virus_found', detail: 'The file carries a known virus; it was not stored.' };
    return { ok: true };
  },
};
/** Signals seen by the hanging processor: aborted once its time is up. */
const hangSignals: AbortSignal[] = [];
const slow: UploadProcessor = {
  timeoutMs: 300,
  run: ({ signal }) => {
    hangSignals.push(signal);
    return new Promise<ProcessorVerdict>(() => undefined);
  },
};
/** Fails the first time it sees an upload (a scanner that is down), accepts it the next. */
const failedOnce = new Set<string>();
const flaky: UploadProcessor = {
  run({ upload }) {
    if (failedOnce.has(upload.id)) return { ok: true };
    failedOnce.add(upload.id);
    throw new Error('the scanner is not reachable');
  },
};

/** Aborts the upload it runs on (through the API of the server under test), as a user racing complete would. */
let abortThrough: ((uploadId: string) => Promise<Response>) | undefined;
const aborter: UploadProcessor = {
  async run({ upload }) {
    const res = await abortThrough!(upload.id);
    assert.equal(res.status, 204, await res.text());
    return { ok: true };
  },
};

const setups: { driver: Driver; database: 'sqlite' | 'postgres' }[] = [
  { driver: 'disk', database: 'sqlite' },
  { driver: 's3', database: 'sqlite' },
  { driver: 'disk', database: 'postgres' },
];

for (const { driver, database } of setups) {
  describe(`processors on ${driver} with ${database}`, () => {
    let server: TestServer;
    let pgSchema: Awaited<ReturnType<typeof postgresSchema>> | undefined;
    let alice: string;

    before(async () => {
      if (database === 'postgres') pgSchema = await postgresSchema();
      server = await startTestServer({ driver, routes, processors: { scan, slow, flaky, aborter }, ...(pgSchema && { env: { DATABASE_URL: pgSchema.url } }) });
      alice = await server.token(`alice-${randomUUID().slice(0, 8)}`);
      abortThrough = (id) => server.api(`/v1/uploads/${id}`, { method: 'DELETE', token: alice });
    });
    after(async () => {
      await server?.close();
      await pgSchema?.drop();
    });

    async function upload(route: string, bytes: Buffer, contentType: string, filename = 'picture', replaces?: string): Promise<CreatedUpload> {
      const res = await server.api('/v1/uploads', { token: alice, json: { route, filename, contentType, size: bytes.length, ...(replaces && { replaces }) } });
      assert.equal(res.status, 201, await res.clone().text());
      const created = (await res.json()) as CreatedUpload;
      const sent = await sendToStorage(created, bytes, contentType);
      assert.ok(sent.ok, `storage took the bytes: ${sent.status}`);
      return created;
    }
    const complete = (id: string) => server.api(`/v1/uploads/${id}/complete`, { method: 'POST', token: alice });
    async function completed(id: string): Promise<FileJson> {
      const res = await complete(id);
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()) as FileJson;
    }
    async function problem(res: Response, status: number, code: string): Promise<string> {
      const body = await res.text();
      assert.equal(res.status, status, body);
      const parsed = JSON.parse(body) as { code: string; detail: string };
      assert.equal(parsed.code, code, body);
      return parsed.detail;
    }
    const state = async (id: string) => (await (await server.api(`/v1/uploads/${id}`, { token: alice })).json()) as { state: string; errorCode: string | null };
    const exists = async (bucket: 'staging' | 'public' | 'private', key: string) => (await server.upfront.services.storage.head(bucket, key)) !== null;
    async function assertRejected(created: CreatedUpload, errorCode: string): Promise<void> {
      assert.deepEqual(await state(created.id), { ...(await state(created.id)), state: 'rejected', errorCode });
      assert.equal(await exists('staging', created.key), false, 'the staged bytes are deleted');
      assert.equal(await exists('public', created.key), false, 'nothing promoted');
      assert.equal(await exists('private', created.key), false, 'nothing promoted');
      for (const bucket of ['public', 'private'] as const) assert.deepEqual(await server.upfront.services.store.variants.list(bucket, created.key), [], 'no variants recorded');
    }

    it('rejects a PNG with an HTML page after its IEND chunk (a polyglot), image_invalid', async () => {
      const polyglot = Buffer.concat([makePng({ width: 20, height: 20 }), html]);
      assert.equal((await sharp(polyglot, { failOn: 'error' }).stats()).channels.length, 3, 'the decoder alone accepts it');
      const created = await upload('photo', polyglot, 'image/png');
      const detail = await problem(await complete(created.id), 422, 'image_invalid');
      assert.match(detail, /bytes after its IEND chunk/);
      await assertRejected(created, 'image_invalid');
      assert.deepEqual(await imageTempDirs(), [], 'no temporary files left');
    });

    it('rejects a truncated PNG, image_invalid', async () => {
      const png = makePng({ width: 40, height: 40 });
      const created = await upload('photo', png.subarray(0, png.length - 300), 'image/png');
      await problem(await complete(created.id), 422, 'image_invalid');
      await assertRejected(created, 'image_invalid');
      await problem(await complete(created.id), 422, 'image_invalid'); // a repeated complete answers the same
      assert.deepEqual(await imageTempDirs(), [], 'no temporary files left');
    });

    it('rejects a JPEG with data after its end marker, image_invalid', async () => {
      const jpeg = await sharp({ create: { width: 24, height: 24, channels: 3, background: 'blue' } }).jpeg().toBuffer();
      const created = await upload('photo', Buffer.concat([jpeg, html]), 'image/jpeg');
      await problem(await complete(created.id), 422, 'image_invalid');
      await assertRejected(created, 'image_invalid');
    });

    it('promotes a valid PNG with its variants listed and downloadable, deleted with the file', async () => {
      const png = makePng({ width: 64, height: 48 });
      const created = await upload('photo', png, 'image/png', 'holiday.png');
      const file = await completed(created.id);
      const served = Buffer.from(await (await fetch(file.url)).arrayBuffer());
      assert.deepEqual([(await sharp(served).metadata()).width, (await sharp(served).metadata()).height], [64, 48]);
      // Stripped means re-encoded: the record describes the stored bytes, not the uploaded ones.
      assert.equal(file.size, served.length);
      assert.equal(file.sha256, sha256(served));
      assert.deepEqual(
        file.variants.map(({ name, width, height, contentType }) => ({ name, width, height, contentType })),
        [
          { name: 'small', width: 48, height: 36, contentType: 'image/jpeg' },
          { name: 'thumb', width: 32, height: 32, contentType: 'image/webp' },
        ],
      );
      for (const variant of file.variants) {
        const res = await fetch(variant.url);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('content-type'), variant.contentType);
        const bytes = Buffer.from(await res.arrayBuffer());
        assert.equal(bytes.length, variant.size);
        const metadata = await sharp(bytes).metadata();
        assert.deepEqual([metadata.format, metadata.width, metadata.height], [variant.contentType === 'image/webp' ? 'webp' : 'jpeg', variant.width, variant.height]);
        assert.ok(variant.url.includes(`${file.key}.variants/`), 'stored beside the file');
      }
      assert.deepEqual(await imageTempDirs(), [], 'no temporary files left');
      const listed = (await (await server.api('/v1/files', { token: alice })).json()) as { files: FileJson[] };
      assert.deepEqual(listed.files.find((f) => f.id === file.id)?.variants.map((v) => v.name), ['small', 'thumb']);

      const keys = (await server.upfront.services.store.variants.list('public', file.key)).map((v) => v.key);
      assert.equal(keys.length, 2);
      assert.equal((await server.api(`/v1/files/${file.id}`, { method: 'DELETE', token: alice })).status, 204);
      for (const key of keys) assert.equal(await exists('public', key), false, `${key} deleted with the file`);
      assert.deepEqual(await server.upfront.services.store.variants.list('public', file.key), []);
      assert.equal((await fetch(file.variants[0]!.url)).status >= 400, true, 'no longer served');
    });

    it('a replacement is processed too: the new version is stripped and its variants replace the old ones', async () => {
      const first = await completed((await upload('photo', makePng({ width: 64, height: 64 }), 'image/png', 'a.png')).id);
      assert.deepEqual(first.variants.map((v) => [v.name, v.width, v.height]), [['small', 48, 48], ['thumb', 32, 32]]);
      const second = await completed((await upload('photo', makePng({ width: 96, height: 24 }), 'image/png', 'b.png', first.id)).id);
      assert.equal(second.id, first.id);
      const served = Buffer.from(await (await fetch(second.url)).arrayBuffer());
      assert.deepEqual([(await sharp(served).metadata()).width, (await sharp(served).metadata()).height], [96, 24]);
      assert.equal(second.sha256, sha256(served));
      assert.deepEqual(second.variants.map((v) => [v.name, v.width, v.height]), [['small', 48, 12], ['thumb', 32, 24]]); // never enlarged: 24 pixels high at most
      const small = Buffer.from(await (await fetch(second.variants[0]!.url)).arrayBuffer());
      assert.deepEqual([(await sharp(small).metadata()).width, (await sharp(small).metadata()).height], [48, 12], 'the variant object is the new one');
      const versions = (await (await server.api(`/v1/files/${first.id}/versions`, { token: alice })).json()) as { versions: { size: number; isCurrent: boolean }[] };
      // The disk driver keeps versions; the dev RGW's buckets do not (test/support/versioned-buckets.ts makes such).
      assert.equal(versions.versions.length, driver === 'disk' ? 2 : 1);
      assert.equal(versions.versions.find((v) => v.isCurrent)?.size, served.length);
    });

    it('stores a public JPEG without its EXIF and GPS tags, its orientation applied', async () => {
      const jpeg = await sharp({ create: { width: 40, height: 30, channels: 3, background: 'red' } })
        .jpeg()
        .withExif({ IFD0: { Make: 'PhoneCam', Copyright: 'Alice' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 0/1', GPSLongitudeRef: 'W', GPSLongitude: '0/1 7/1 0/1' } })
        .withMetadata({ orientation: 6 })
        .toBuffer();
      const uploaded = await sharp(jpeg).metadata();
      assert.ok(hasGpsIfd(uploaded.exif), 'the upload carries GPS tags');
      assert.equal(uploaded.orientation, 6);
      const file = await completed((await upload('photo', jpeg, 'image/jpeg', 'IMG_0001.jpg')).id);
      const res = await fetch(file.url);
      assert.equal(res.headers.get('content-type'), 'image/jpeg');
      const served = Buffer.from(await res.arrayBuffer());
      const metadata = await sharp(served).metadata();
      assert.equal(metadata.exif, undefined, 'no EXIF at all');
      assert.equal(hasGpsIfd(metadata.exif), false);
      assert.equal(metadata.xmp, undefined);
      assert.ok(!served.includes(Buffer.from('PhoneCam')), 'no trace of the camera in the bytes');
      // Rotated by its orientation (6: 90° clockwise) before the tag went: 40×30 becomes 30×40.
      assert.deepEqual([metadata.width, metadata.height, metadata.orientation ?? 1], [30, 40, 1]);
      assert.equal(file.size, served.length);
    });

    it('an app processor streams the verified bytes, and its rejection ends the upload with its code', async () => {
      const png = makePng({ width: 24, height: 24, minBytes: 200_000 });
      const clean = await upload('scanned', png, 'image/png', 'clean.png');
      const file = await completed(clean.id);
      assert.equal(scanned.get(clean.id), sha256(png), 'the processor read every staged byte');
      // A private route keeps the uploaded bytes (copied, not re-encoded); its variants are signed like the file.
      const served = Buffer.from(await (await fetch(file.url)).arrayBuffer());
      assert.deepEqual(served, png);
      assert.equal(file.sha256, null);
      assert.deepEqual(file.variants.map((v) => [v.name, v.width, v.height]), [['thumb', 16, 16]]);
      assert.match(file.variants[0]!.url, /X-Amz-Signature=/);
      assert.equal((await fetch(file.variants[0]!.url)).status, 200);

      const infected = await upload('scanned', png, 'image/png', 'infected.png');
      const detail = await problem(await complete(infected.id), 422, 'file_rejected');
      assert.equal(detail, 'The file carries a known virus; it was not stored.');
      await assertRejected(infected, 'virus_found');
      assert.equal(await exists('private', `${infected.key}.variants/thumb.webp`), false, 'no variant written for a rejected file');
      await problem(await complete(infected.id), 422, 'file_rejected');
    });

    it('a processor that hangs past its timeout rejects the upload, processor_timeout', async () => {
      const created = await upload('hangs', makePng(), 'image/png');
      await problem(await complete(created.id), 422, 'processor_timeout');
      await assertRejected(created, 'processor_timeout');
      assert.equal(hangSignals.at(-1)?.aborted, true, 'its signal was aborted');
    });

    it('a processor that throws keeps the upload: 503 processing_failed, then complete again succeeds', async () => {
      const png = makePng();
      const created = await upload('flaky', png, 'image/png');
      await problem(await complete(created.id), 503, 'processing_failed');
      assert.notEqual((await state(created.id)).state, 'rejected');
      assert.equal(await exists('staging', created.key), true, 'the staged bytes are kept');
      const file = await completed(created.id);
      assert.deepEqual(Buffer.from(await (await fetch(file.url)).arrayBuffer()), png);
    });

    it('an upload aborted while it was processed leaves neither the file nor its variants', async () => {
      const created = await upload('aborted', makePng({ width: 20, height: 20 }), 'image/png');
      await problem(await complete(created.id), 409, 'upload_aborted');
      assert.equal((await state(created.id)).state, 'aborted');
      assert.equal(await exists('public', created.key), false, 'the promoted bytes are deleted');
      assert.equal(await exists('public', `${created.key}.variants/thumb.webp`), false, 'the variant written is deleted');
      assert.deepEqual(await server.upfront.services.store.variants.list('public', created.key), []);
    });

    it('a route without processors promotes the uploaded bytes as they are, without variants', async () => {
      const png = makePng({ width: 30, height: 30 });
      const file = await completed((await upload('plain', png, 'image/png')).id);
      assert.deepEqual(Buffer.from(await (await fetch(file.url)).arrayBuffer()), png);
      assert.equal(file.size, png.length);
      assert.deepEqual(file.variants, []);
    });

    it('counts processor runs by processor and outcome', async () => {
      const metrics = await (await server.api('/metrics')).text();
      for (const [processor, outcome] of [['image', 'ok'], ['image', 'rejected'], ['scan', 'rejected'], ['slow', 'timeout'], ['flaky', 'failed']]) {
        assert.match(metrics, new RegExp(`upfront_processor_runs_total\\{processor="${processor}",outcome="${outcome}"\\} [1-9]`));
      }
    });
  });
}

describe('processor configuration', () => {
  const env = { AUTH_DEV_ISSUER: 'true', UPFRONT_DATA_DIR: '/tmp/upfront-processors-config' };
  const configWith = (route: Record<string, unknown>) => {
    const file = `/tmp/upfront-processors-config-${randomUUID()}.json`;
    return import('node:fs/promises').then(async ({ writeFile, rm }) => {
      await writeFile(file, JSON.stringify({ routes: { r: { types: ['image/png'], maxSize: '1MB', ...route } } }));
      try {
        return loadConfig({ env, file, mode: 'dev' });
      } finally {
        await rm(file);
      }
    });
  };

  for (const [route, message] of [
    [{ processors: 'image,image' }, /names "image" twice/],
    [{ processors: ['Bad Name'] }, /processor names like/],
    [{ image: { variants: [] } }, /apply only with "processors": \["image"\]/],
    [{ types: ['application/pdf'], processors: ['image'] }, /decodes image\/png, image\/jpeg, image\/webp, image\/gif only, not application\/pdf/],
    [{ processors: ['image'], image: { variants: [{ name: 'thumb' }] } }, /give "width", "height" or both/],
    [{ processors: ['image'], image: { variants: [{ name: 'thumb', width: 10, format: 'bmp' }] } }, /"format" is one of webp, jpeg, png, avif/],
    [{ processors: ['image'], image: { variants: [{ name: 'a', width: 10 }, { name: 'a', height: 10 }] } }, /two named "a"/],
    [{ processors: ['image'], image: { maxPixel: 10 } }, /takes "maxPixels", "stripMetadata", "variants", not "maxPixel"/],
  ] as const) {
    it(`refuses ${JSON.stringify(route)}`, async () => {
      await assert.rejects(configWith(route), (error: unknown) => error instanceof ConfigError && message.test(error.message));
    });
  }

  it('defaults: metadata stripped on public routes only, 50 megapixels', async () => {
    const publicRoute = (await configWith({ visibility: 'public', processors: ['image'] })).routes.get('r');
    assert.deepEqual(publicRoute?.image, { maxPixels: 50_000_000, stripMetadata: true, variants: [] });
    assert.equal((await configWith({ visibility: 'private', processors: ['image'] })).routes.get('r')?.image?.stripMetadata, false);
    assert.deepEqual((await configWith({ processors: ['image'], image: { variants: [{ name: 't', width: 8 }] } })).routes.get('r')?.image?.variants, [
      { name: 't', width: 8, fit: 'inside', format: 'webp', quality: 80 },
    ]);
  });

  it('refuses to start when a route names a processor the app did not pass', async () => {
    const config = await configWith({ processors: ['scan'] });
    await assert.rejects(
      createUpfront(config, { publicUrl: 'http://localhost:1' }),
      (error: unknown) => error instanceof ConfigError && /route "r" names the processor "scan", which is neither built in nor passed/.test(error.message),
    );
    await assert.rejects(
      createUpfront(config, { publicUrl: 'http://localhost:1', processors: { scan: { timeoutMs: 0, run: () => ({ ok: true }) } } }),
      (error: unknown) => error instanceof ConfigError && /timeoutMs is a whole number/.test(error.message),
    );
  });
});
