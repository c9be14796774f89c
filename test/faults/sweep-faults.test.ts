/**
 * The API killed (SIGKILL) at each step of complete, then started again and `upfront sweep` run (the real
 * CLI, no settle time, no grace): afterwards the database and the buckets agree both ways (every file's
 * object holds its bytes, no staged object without an unfinished upload, no final object without a
 * record, no crash leftovers on disk) and nothing whose bytes storage accepted is lost.
 * (a) verified, before the copy; (b) copied, before the record; (c) recorded, before the staged delete;
 * (d) mid-way through 300 concurrent uploads on the disk driver. On the disk driver with SQLite and on
 * Ceph RGW (versioned buckets of the test's own, the API's least-privilege user) with PostgreSQL.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { StorageDriver, SweepReport } from '@upfront/server';
import { createDiskDriver } from '../../packages/server/src/storage/disk-driver.ts';
import { createS3Driver } from '../../packages/server/src/storage/s3-driver.ts';
import { openStore } from '../../packages/server/src/store/open-store.ts';
import type { MetadataStore } from '../../packages/server/src/store/types.ts';
import { faultyApi, type FaultyApi } from '../support/faulty-api-process.ts';
import { startIdp, type Idp } from '../support/idp.ts';
import { makePng } from '../support/png.ts';
import { postgresSchema } from '../support/postgres.ts';
import { rgwAdminConfig } from '../support/rgw-env.ts';
import { sendToStorage, type CreatedUpload } from '../support/transfer.ts';
import { versionedRgwBuckets } from '../support/versioned-buckets.ts';

const cli = fileURLToPath(new URL('../../packages/cli/src/bin.ts', import.meta.url));
const routes = { image: { types: ['image/png'], maxSize: '1MB', visibility: 'public', strategy: 'put' } };
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const pngOf = (n: number) => makePng({ width: 8, height: 8, minBytes: 3_000 + n });

let idp: Idp;
let dir: string;
before(async () => {
  idp = await startIdp();
  dir = await mkdtemp(join(tmpdir(), 'upfront-sweep-faults-'));
  await writeFile(join(dir, 'upfront.config.json'), JSON.stringify({ routes }));
});
after(async () => {
  await idp?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Setup {
  env: Record<string, string>;
  api: FaultyApi;
  token: string;
  store: MetadataStore;
  storage: StorageDriver;
  close(): Promise<void>;
}

async function setUp(driver: 'disk' | 's3', database: 'sqlite' | 'postgres'): Promise<Setup> {
  const dataDir = await mkdtemp(join(dir, `${driver}-`));
  const pg = database === 'postgres' ? await postgresSchema() : undefined;
  const buckets = driver === 's3' ? versionedRgwBuckets('sweep') : undefined;
  const s3 = driver === 's3' ? { ...Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('S3_'))), ...(await buckets!.provision()) } : {};
  const env: Record<string, string> = {
    ...idp.env,
    ...(s3 as Record<string, string>),
    STORAGE_DRIVER: driver,
    UPFRONT_DATA_DIR: dataDir,
    UPFRONT_CONFIG: join(dir, 'upfront.config.json'),
    DATABASE_URL: pg?.url ?? `sqlite:${join(dataDir, 'upfront.db')}`,
  };
  const api = await faultyApi(env);
  const store = await openStore(env.DATABASE_URL!);
  const storage =
    driver === 'disk'
      ? createDiskDriver({ dataDir, baseUrl: 'http://unused.invalid', secret: 'unused' })
      : createS3Driver({ ...rgwAdminConfig(), buckets: { staging: s3.S3_BUCKET_STAGING!, public: s3.S3_BUCKET_PUBLIC!, private: s3.S3_BUCKET_PRIVATE! } });
  return {
    env,
    api,
    token: await idp.sign({ sub: `sweep-${randomUUID().slice(0, 8)}` }, { expiresIn: 3600 }),
    store,
    storage,
    async close() {
      await api.kill();
      await store.close();
      await pg?.drop();
      await buckets?.remove();
    },
  };
}

const call = (setup: Setup, path: string, json?: unknown) =>
  fetch(setup.api.url + path, {
    method: json === undefined ? 'POST' : 'POST',
    headers: { authorization: `Bearer ${setup.token}`, ...(json !== undefined && { 'content-type': 'application/json' }) },
    ...(json !== undefined && { body: JSON.stringify(json) }),
  });

async function createAndSend(setup: Setup, bytes: Uint8Array): Promise<CreatedUpload> {
  const res = await call(setup, '/v1/uploads', { route: 'image', filename: 'a.png', contentType: 'image/png', size: bytes.length });
  assert.equal(res.status, 201, await res.clone().text());
  const upload = (await res.json()) as CreatedUpload;
  const sent = await sendToStorage(upload, bytes, 'image/png');
  assert.equal(sent.status, 200, await sent.text());
  return upload;
}

async function runSweep(setup: Setup): Promise<SweepReport> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--conditions=upfront-source', '--import', 'tsx', cli, 'sweep', '--json'], {
    env: { ...process.env, ...setup.env, SWEEP_SETTLE_SECONDS: '0', SWEEP_GRACE_SECONDS: '0' },
  });
  const report = JSON.parse(stdout) as SweepReport;
  assert.equal(report.counts.failed, 0, JSON.stringify(report.examples.failed));
  return report;
}

async function allKeys(storage: StorageDriver, bucket: 'staging' | 'public' | 'private'): Promise<string[]> {
  const keys: string[] = [];
  let after: string | undefined;
  do {
    const page = await storage.list(bucket, after === undefined ? {} : { after });
    keys.push(...page.objects.map((object) => object.key));
    after = page.next;
  } while (after !== undefined);
  return keys;
}

/** Database and buckets agree both ways; every upload in `accepted` (storage took its bytes) is a file with them. */
async function assertAgreement(setup: Setup, accepted: Map<string, Uint8Array>): Promise<void> {
  const { store, storage } = setup;
  for (const key of await allKeys(storage, 'staging')) {
    assert.ok((await store.findUnfinishedUploadsByKey([key])).length > 0, `staged ${key} has no unfinished upload`);
  }
  for (const bucket of ['public', 'private'] as const) {
    const keys = await allKeys(storage, bucket);
    const files = new Set((await store.findFilesByKey(bucket, keys)).map((file) => file.key));
    for (const key of keys) assert.ok(files.has(key), `${bucket}/${key} has no record`);
  }
  for (const file of await store.scanFiles({ limit: 10_000 })) {
    const object = await storage.readStart(file.visibility, file.key, file.size);
    assert.ok(object, `the object of file ${file.key} exists`);
    assert.equal(object.head.size, file.size);
    assert.equal(file.missingAt, undefined);
    const expected = accepted.get(file.uploadId);
    if (expected) assert.equal(sha256(object.bytes), sha256(expected), `file ${file.key} holds its bytes`);
  }
  for (const [id, bytes] of accepted) {
    const upload = await store.getUpload(id);
    const where = upload && JSON.stringify({ staged: await storage.head('staging', upload.key), final: await storage.head(upload.visibility, upload.key) });
    assert.equal(upload?.state, 'ready', `upload ${id} (${bytes.length} bytes accepted by storage) became a file; in storage: ${where}`);
  }
  if (setup.env.STORAGE_DRIVER === 'disk') {
    const dataDir = setup.env.UPFRONT_DATA_DIR!;
    assert.deepEqual(await readdir(join(dataDir, 'tmp')).catch(() => []), [], 'no temp files left');
    for (const bucket of ['staging', 'public', 'private']) {
      for (const relative of await filesUnder(join(dataDir, 'meta', bucket))) {
        assert.ok(await stat(join(dataDir, 'objects', bucket, relative)).then(() => true, () => false), `sidecar ${bucket}/${relative} has its object`);
      }
    }
  }
}

async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name).slice(root.length + 1));
}

const steps = [
  { fault: 'copy:before', what: '(a) verified, killed before the copy', action: 'finalized' },
  { fault: 'copy:after', what: '(b) copied, killed before the record', action: 'finalized' },
  { fault: 'staged-delete:before', what: '(c) recorded, killed before the staged delete', action: 'staged_deleted' },
] as const;

for (const [driver, database] of [['disk', 'sqlite'], ['s3', 'postgres']] as const) {
  describe(`complete killed at each step, then swept (${driver}, ${database})`, () => {
    for (const { fault, what, action } of steps) {
      it(what, async () => {
        const setup = await setUp(driver, database);
        try {
          await setup.api.start(fault);
          const bytes = pngOf(steps.findIndex((step) => step.fault === fault));
          const upload = await createAndSend(setup, bytes);
          await assert.rejects(call(setup, `/v1/uploads/${upload.id}/complete`), 'the API died answering complete');
          assert.equal(await setup.api.exited(), 'SIGKILL');
          await setup.api.start();
          const report = await runSweep(setup);
          assert.ok(report.examples[action]?.includes(upload.key), JSON.stringify(report));
          await assertAgreement(setup, new Map([[upload.id, bytes]]));
          // What the browser sees when it calls complete again: the file, with its bytes.
          const again = await call(setup, `/v1/uploads/${upload.id}/complete`);
          assert.equal(again.status, 200, await again.clone().text());
          const { url } = (await again.json()) as { url: string };
          assert.equal(sha256(new Uint8Array(await (await fetch(url)).arrayBuffer())), sha256(bytes));
          assert.deepEqual(Object.entries((await runSweep(setup)).counts).filter(([, count]) => count > 0), [], 'a second sweep finds nothing');
        } finally {
          await setup.close();
        }
      });
    }
  });
}

describe('killed mid-way through 300 concurrent uploads (disk, SQLite)', () => {
  it('after a restart and a sweep, everything storage accepted is a file, and nothing else is left', async () => {
    const setup = await setUp('disk', 'sqlite');
    try {
      await setup.api.start();
      const accepted = new Map<string, Uint8Array>();
      let completed = 0;
      let killing: Promise<void> | undefined;
      const one = async (n: number) => {
        const bytes = pngOf(n * 7);
        const res = await call(setup, '/v1/uploads', { route: 'image', filename: `${n}.png`, contentType: 'image/png', size: bytes.length });
        if (res.status !== 201) return;
        const upload = (await res.json()) as CreatedUpload;
        const sent = await sendToStorage(upload, bytes, 'image/png');
        if (sent.status !== 200) return;
        accepted.set(upload.id, bytes);
        const done = await call(setup, `/v1/uploads/${upload.id}/complete`);
        if (done.status === 200 && ++completed === 100) killing = setup.api.kill();
      };
      await Promise.all(Array.from({ length: 300 }, (_, n) => one(n).catch(() => undefined)));
      assert.ok(killing, 'the API was killed mid-way');
      await killing;
      assert.ok(accepted.size >= 100);
      await setup.api.start();
      const report = await runSweep(setup);
      await assertAgreement(setup, accepted);
      assert.deepEqual(Object.entries((await runSweep(setup)).counts).filter(([, count]) => count > 0), [], `a second sweep finds nothing (the first: ${JSON.stringify(report.counts)})`);
    } finally {
      await setup.close();
    }
  });
});
