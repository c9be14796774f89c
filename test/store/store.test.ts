/**
 * The metadata store against real databases: one suite, run on SQLite (a temp file) and on
 * PostgreSQL (DATABASE_URL_PG, each run in its own throwaway schema). An unreachable PostgreSQL
 * fails the suite: a skipped database is an untested one.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { FinishUploadError } from '../../packages/server/src/store/errors.ts';
import { latestSchemaVersion } from '../../packages/server/src/store/migrations.ts';
import { openStore, parseStoreUrl } from '../../packages/server/src/store/open-store.ts';
import type { MetadataStore, NewFile, NewUpload, UploadRecord } from '../../packages/server/src/store/types.ts';

const openStoreModule = fileURLToPath(new URL('../../packages/server/src/store/open-store.ts', import.meta.url));
const postgresUrl = process.env.DATABASE_URL_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

type Row = Record<string, unknown>;
/** Raw SQL with `?` placeholders, beside the store, to look at what it wrote. */
type Query = (text: string, params?: unknown[]) => Promise<Row[]>;

interface TestDatabase {
  url: string;
  query: Query;
}

interface Backend {
  name: string;
  /** Throws a sentence saying why when the database cannot be used. */
  start(): Promise<void>;
  /** A new, empty database (a file, or a schema). */
  freshDatabase(): TestDatabase;
  /** Closes raw connections and deletes every database it made. */
  stop(): Promise<void>;
}

function sqliteBackend(): Backend {
  let dir: string | undefined;
  const connections: Database.Database[] = [];
  return {
    name: 'SQLite',
    async start() {
      dir = await mkdtemp(join(tmpdir(), 'upfront-store-'));
    },
    freshDatabase() {
      if (dir === undefined) throw new Error('start() first');
      // A directory that does not exist yet: openStore must create it.
      const path = join(dir, randomUUID(), 'metadata.sqlite');
      let connection: Database.Database | undefined;
      return {
        url: `sqlite:${path}`,
        async query(text, params = []) {
          if (!connection) {
            connection = new Database(path);
            connection.pragma('busy_timeout = 5000');
            connections.push(connection);
          }
          const statement = connection.prepare(text);
          if (statement.reader) return statement.all(...params) as Row[];
          statement.run(...params);
          return [];
        },
      };
    },
    async stop() {
      for (const connection of connections) connection.close();
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    },
  };
}

function postgresBackend(baseUrl: string): Backend {
  const runId = randomBytes(4).toString('hex');
  const schemas: string[] = [];
  const clients: pg.Client[] = [];
  let admin: pg.Client | undefined;
  const where = (() => {
    const url = new URL(baseUrl);
    return `${url.host}${url.pathname}`;
  })();

  async function connected(config: pg.ClientConfig): Promise<pg.Client> {
    const client = new pg.Client({ connectionTimeoutMillis: 5000, ...config });
    client.on('error', () => {});
    await client.connect();
    return client;
  }

  return {
    name: 'PostgreSQL',
    async start() {
      try {
        admin = await connected({ connectionString: baseUrl });
      } catch (error) {
        const reason = error instanceof Error ? error.message || error.name : String(error);
        throw new Error(
          `PostgreSQL is not reachable at ${where} (${reason}). Start it, or set DATABASE_URL_PG ` +
            'to a server this machine can reach: the store suite fails rather than skip a database.',
        );
      }
    },
    freshDatabase() {
      const schema = `upfront_test_${runId}_${schemas.length + 1}`;
      schemas.push(schema);
      const url = new URL(baseUrl);
      url.searchParams.set('schema', schema);
      let client: Promise<pg.Client> | undefined;
      return {
        url: url.toString(),
        async query(text, params = []) {
          client ??= connected({ connectionString: baseUrl, options: `-c search_path=${schema}` }).then((c) => {
            clients.push(c);
            return c;
          });
          let n = 0;
          const result = await (await client).query(text.replace(/\?/g, () => `$${++n}`), params);
          return result.rows as Row[];
        },
      };
    },
    async stop() {
      for (const client of clients) await client.end();
      if (!admin) return;
      for (const schema of schemas) await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
    },
  };
}

let sequence = 0;

function newUpload(overrides: Partial<NewUpload> = {}): NewUpload {
  sequence += 1;
  const userId = overrides.userId ?? 'user-a';
  return {
    id: `up${String(sequence).padStart(4, '0')}`,
    userId,
    route: 'photos',
    strategy: 'put',
    key: `${userId}/2025-06-01-${sequence}.png`,
    visibility: 'public',
    filename: `photo ${sequence}.png`,
    contentType: 'image/png',
    size: 1024,
    multipart: null,
    contentMd5: null,
    sha256: null,
    fingerprint: null,
    expiresAt: new Date(Date.now() + 15 * 60_000),
    ...overrides,
  };
}

function fileFor(upload: NewUpload | UploadRecord, overrides: Partial<NewFile> = {}): NewFile {
  return {
    id: `file-${upload.id}`,
    uploadId: upload.id,
    userId: upload.userId,
    route: upload.route,
    key: upload.key,
    visibility: upload.visibility,
    filename: upload.filename,
    contentType: upload.contentType,
    size: upload.size,
    sha256: null,
    ...overrides,
  };
}

/** Starts `count` processes that each open (and so migrate) the store at `url` on one signal. */
async function openStoreInProcesses(url: string, count: number): Promise<void> {
  const script = `
    import { openStore } from ${JSON.stringify(pathToFileURL(openStoreModule).href)};
    import { once } from 'node:events';
    console.log('ready');
    await once(process.stdin, 'data');
    const store = await openStore(process.env.STORE_URL);
    await store.close();
  `;
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, STORE_URL: url },
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  );
  const outcomes = children.map(
    (child) =>
      new Promise<string>((resolve) => {
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('close', (code) => resolve(code === 0 ? '' : `exit ${code}: ${stderr}`));
      }),
  );
  await Promise.all(
    children.map((child) => new Promise<void>((resolve) => child.stdout.once('data', () => resolve()))),
  );
  for (const child of children) child.stdin.end('go\n');
  assert.deepEqual(await Promise.all(outcomes), children.map(() => ''));
}

const isFinishUploadError = (reason: string) => (error: unknown) =>
  error instanceof FinishUploadError && error.reason === reason;

for (const backend of [sqliteBackend(), postgresBackend(postgresUrl)]) {
  describe(`metadata store on ${backend.name}`, () => {
    let store: MetadataStore;
    let database: TestDatabase;

    before(async () => {
      await backend.start();
      database = backend.freshDatabase();
      store = await openStore(database.url);
    });

    after(async () => {
      await store?.close();
      await backend.stop();
    });

    /** A new upload whose bytes passed verification: the only state finishUpload records a file in. */
    const verifiedUpload = async (overrides: Partial<NewUpload> = {}) => {
      const upload = await store.createUpload(newUpload(overrides));
      const verified = await store.transitionUpload(upload.id, ['pending'], 'verified', { etag: '"0123abcd"' });
      assert.ok(verified);
      return verified;
    };

    const countFiles = async (uploadId: string) =>
      Number((await database.query('select count(*) as n from files where upload_id = ?', [uploadId]))[0]?.n);

    it('stores an upload and gives back every field exactly', async () => {
      const input = newUpload({
        strategy: 'multipart',
        visibility: 'private',
        filename: 'Ünïcødé 名前 — 🚀 "quoted".png',
        size: 5 * 2 ** 40,
        multipart: { uploadId: '2~rgw-style.upload_id', partSize: 525 * 2 ** 20, partCount: 9987 },
        contentMd5: '1B2M2Y8AsgTpgAmY7PhCfg==',
        sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        fingerprint: 'a.png|5497558138880|1700000000000|abc',
        expiresAt: new Date(Date.UTC(2031, 0, 2, 3, 4, 5, 678)),
      });
      const earliest = Date.now();
      const created = await store.createUpload(input);
      const latest = Date.now();
      assert.deepEqual(created, {
        ...input,
        state: 'pending',
        errorCode: null,
        etag: null,
        fileId: null,
        replaces: null,
        sizeUnknown: false,
        createdAt: created.createdAt,
        updatedAt: created.createdAt,
      });
      assert.ok(created.createdAt.getTime() >= earliest && created.createdAt.getTime() <= latest);
      assert.deepEqual(await store.getUpload(input.id), created);
      assert.equal(await store.getUpload('no-such-upload'), undefined);
      await assert.rejects(store.createUpload(input), 'a second upload with the same id');
    });

    it('stores uploads created together (one batched insert), each given back exactly', async () => {
      // Twice: the second round reuses the statements compiled for the first one's batch sizes.
      for (let round = 0; round < 2; round++) {
        // Different users, types and sizes, so a value landing in another row's column would show.
        const inputs = Array.from({ length: 70 }, (_, i) =>
          newUpload({ userId: `batch-user-${i}`, size: 1000 + i, strategy: i % 2 ? 'post' : 'put', filename: `f${i} ✓.png` }),
        );
        const created = await Promise.all(inputs.map((input) => store.createUpload(input)));
        for (const [i, input] of inputs.entries()) {
          const { createdAt } = created[i]!;
          assert.deepEqual(created[i], { ...input, state: 'pending', errorCode: null, etag: null, fileId: null, replaces: null, sizeUnknown: false, createdAt, updatedAt: createdAt });
          assert.deepEqual(await store.getUpload(input.id), created[i]);
        }
      }
    });

    it('fails only the one bad upload among those created together', async () => {
      const existing = await store.createUpload(newUpload());
      const fresh = [newUpload(), newUpload(), newUpload()];
      const outcomes = await Promise.allSettled([fresh[0]!, newUpload({ id: existing.id }), fresh[1]!, fresh[2]!].map((u) => store.createUpload(u)));
      assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
      for (const input of fresh) assert.equal((await store.getUpload(input.id))?.key, input.key);
      assert.deepEqual(await store.getUpload(existing.id), existing, 'the existing upload is untouched');
    });

    it('rejects a size that is not a whole number of bytes', async () => {
      await assert.rejects(store.createUpload(newUpload({ size: 1.5 })), RangeError);
      await assert.rejects(store.createUpload(newUpload({ size: -1 })), RangeError);
    });

    it('moves an upload only from an expected state', async () => {
      const upload = await store.createUpload(newUpload());
      assert.equal(await store.transitionUpload(upload.id, [], 'uploaded'), undefined);
      assert.equal(await store.transitionUpload(upload.id, ['uploaded', 'verified'], 'ready'), undefined);
      assert.equal((await store.getUpload(upload.id))?.state, 'pending');

      const uploaded = await store.transitionUpload(upload.id, ['pending'], 'uploaded');
      assert.equal(uploaded?.state, 'uploaded');
      assert.ok(uploaded.updatedAt.getTime() >= upload.updatedAt.getTime());
      assert.deepEqual({ ...uploaded, state: 'pending', updatedAt: upload.updatedAt }, upload);
      assert.deepEqual(await store.getUpload(upload.id), uploaded);
      assert.equal(await store.transitionUpload(upload.id, ['pending'], 'uploaded'), undefined);
      assert.equal(await store.transitionUpload('no-such-upload', ['pending'], 'uploaded'), undefined);
    });

    it('sets, keeps and clears the error code on a transition', async () => {
      const upload = await store.createUpload(newUpload());
      const rejected = await store.transitionUpload(upload.id, ['pending'], 'rejected', {
        errorCode: 'content_type_mismatch',
      });
      assert.equal(rejected?.errorCode, 'content_type_mismatch');
      const expired = await store.transitionUpload(upload.id, ['rejected'], 'expired');
      assert.equal(expired?.errorCode, 'content_type_mismatch');
      const cleared = await store.transitionUpload(upload.id, ['expired'], 'aborted', { errorCode: null });
      assert.equal(cleared?.errorCode, null);
      assert.deepEqual(await store.getUpload(upload.id), cleared);
    });

    it('lets exactly one of several concurrent transitions win', async () => {
      const upload = await store.createUpload(newUpload());
      const targets = ['uploaded', 'aborted', 'expired', 'rejected', 'uploaded'] as const;
      const results = await Promise.all(
        targets.map((to) => store.transitionUpload(upload.id, ['pending'], to)),
      );
      const winners = results.filter((result) => result !== undefined);
      assert.equal(winners.length, 1);
      assert.equal((await store.getUpload(upload.id))?.state, winners[0]?.state);
    });

    it('finishes an upload once: the file is recorded and the upload is ready', async () => {
      const upload = await store.createUpload(newUpload({ filename: 'résumé 📄.pdf', size: 5 * 2 ** 40 }));
      await store.transitionUpload(upload.id, ['pending'], 'verified');
      const input = fileFor(upload, { contentType: 'application/pdf' });
      const earliest = Date.now();
      const file = await store.finishUpload(input);
      assert.deepEqual(file, { ...input, versionId: null, revision: 0, createdAt: file.createdAt });
      assert.ok(file.createdAt.getTime() >= earliest);
      assert.deepEqual(await store.getFile(file.id), file);
      const ready = await store.getUpload(upload.id);
      assert.equal(ready?.state, 'ready');
      assert.equal(ready.fileId, file.id);
      assert.equal(await store.getFile('no-such-file'), undefined);

      const again = await store.finishUpload(fileFor(upload, { id: 'another-file-id' }));
      assert.deepEqual(again, file);
      assert.equal(await countFiles(upload.id), 1);
      assert.equal(await store.getFile('another-file-id'), undefined);
    });

    it('gives every concurrent finisher the same single file', async () => {
      const upload = await store.createUpload(newUpload());
      await store.transitionUpload(upload.id, ['pending'], 'verified');
      const files = await Promise.all(
        ['f1', 'f2', 'f3', 'f4'].map((suffix) => store.finishUpload(fileFor(upload, { id: `${upload.id}-${suffix}` }))),
      );
      const [first] = files;
      assert.ok(first);
      for (const file of files) assert.deepEqual(file, first);
      assert.equal(await countFiles(upload.id), 1);
      assert.equal((await store.getUpload(upload.id))?.fileId, first.id);
    });

    it('refuses to finish an upload that ended without a file (aborted, rejected, expired), writing nothing', async () => {
      for (const state of ['aborted', 'rejected', 'expired'] as const) {
        const upload = await store.createUpload(newUpload());
        await store.transitionUpload(upload.id, ['pending'], state);
        await assert.rejects(store.finishUpload(fileFor(upload)), isFinishUploadError('upload_ended'), state);
        assert.equal(await countFiles(upload.id), 0);
        assert.equal((await store.getUpload(upload.id))?.state, state);
      }
      for (const state of ['pending', 'uploaded'] as const) {
        const upload = await store.createUpload(newUpload());
        if (state !== 'pending') await store.transitionUpload(upload.id, ['pending'], state);
        await store.finishUpload(fileFor(upload));
        assert.equal((await store.getUpload(upload.id))?.state, 'ready', state);
      }
    });

    it('finds an unfinished upload of a user by its fingerprint, newest first, never an ended or expired one', async () => {
      const userId = `user-${randomUUID()}`;
      const fingerprint = `fp-${randomUUID()}`;
      const now = new Date();
      assert.equal(await store.findResumableUpload(userId, fingerprint, now), undefined);
      const older = await store.createUpload(newUpload({ userId, fingerprint }));
      const newer = await store.createUpload(newUpload({ userId, fingerprint }));
      await database.query('update uploads set created_at = created_at - 1000 where id = ?', [older.id]);
      assert.equal((await store.findResumableUpload(userId, fingerprint, now))?.id, newer.id);
      await store.transitionUpload(newer.id, ['pending'], 'aborted');
      assert.equal((await store.findResumableUpload(userId, fingerprint, now))?.id, older.id);
      assert.equal(await store.findResumableUpload('someone-else', fingerprint, now), undefined);
      assert.equal(await store.findResumableUpload(userId, fingerprint, new Date(older.expiresAt.getTime() + 1)), undefined);
      await store.finishUpload(fileFor(older, { sha256: 'ab'.repeat(32) }));
      assert.equal(await store.findResumableUpload(userId, fingerprint, now), undefined);
      assert.equal((await store.getFile(`file-${older.id}`))?.sha256, 'ab'.repeat(32));
    });

    it('keeps the promoted ETag with the upload', async () => {
      const upload = await store.createUpload(newUpload());
      await store.finishUpload(fileFor(upload), { etag: '"0123abcd"' });
      assert.equal((await store.getUpload(upload.id))?.etag, '"0123abcd"');
    });

    it('refuses to finish an unknown upload or another user\'s, writing nothing', async () => {
      const ghost = newUpload();
      await assert.rejects(store.finishUpload(fileFor(ghost)), isFinishUploadError('upload_not_found'));
      assert.equal(await countFiles(ghost.id), 0);

      const upload = await store.createUpload(newUpload({ userId: 'user-owner' }));
      await assert.rejects(
        store.finishUpload(fileFor(upload, { userId: 'user-intruder' })),
        isFinishUploadError('user_mismatch'),
      );
      assert.equal(await countFiles(upload.id), 0);
      assert.equal((await store.getUpload(upload.id))?.state, 'pending');
    });

    it('lists a user\'s files newest first, ties by id, page by page', async () => {
      const userId = `user-${randomUUID()}`;
      // Created in an order unrelated to the ids, so that the tie-break is visible.
      const ids = ['m3', 'a7', 'z1', 'b2', 'k9', 'c4', 'y0'];
      for (const id of ids) {
        const upload = await verifiedUpload({ userId });
        await store.finishUpload(fileFor(upload, { id: `${userId}-${id}` }));
      }
      // Files finished in the same millisecond tie on created_at; make ties certain.
      const base = Date.now();
      const stamps = [base, base, base + 1, base + 1, base + 1, base - 5, base];
      for (const [index, id] of ids.entries()) {
        await database.query('update files set created_at = ? where id = ?', [stamps[index], `${userId}-${id}`]);
      }
      const expected = ids
        .map((id, index) => ({ id: `${userId}-${id}`, createdAt: stamps[index] ?? 0 }))
        .sort((x, y) => y.createdAt - x.createdAt || (x.id < y.id ? 1 : -1))
        .map((file) => file.id);

      const all = await store.listFiles(userId);
      assert.deepEqual(all.map((file) => file.id), expected);
      for (const file of all) assert.deepEqual(await store.getFile(file.id), file);

      const pages: string[][] = [];
      let before: string | undefined;
      for (;;) {
        const page = await store.listFiles(userId, { limit: 3, ...(before !== undefined && { before }) });
        if (page.length === 0) break;
        pages.push(page.map((file) => file.id));
        before = page.at(-1)?.id;
      }
      assert.deepEqual(pages.map((page) => page.length), [3, 3, 1]);
      assert.deepEqual(pages.flat(), expected);
    });

    it('keeps users\' files apart, cursors included', async () => {
      const alice = `user-${randomUUID()}`;
      const bob = `user-${randomUUID()}`;
      const filesOf = async (userId: string, count: number) => {
        const made: string[] = [];
        for (let i = 0; i < count; i++) {
          const upload = await verifiedUpload({ userId });
          made.push((await store.finishUpload(fileFor(upload))).id);
        }
        return made;
      };
      const aliceFiles = await filesOf(alice, 3);
      const bobFiles = await filesOf(bob, 2);
      assert.deepEqual(new Set((await store.listFiles(alice)).map((f) => f.id)), new Set(aliceFiles));
      assert.deepEqual(new Set((await store.listFiles(bob)).map((f) => f.id)), new Set(bobFiles));
      assert.deepEqual(await store.listFiles(bob, { before: aliceFiles[2] }), []);
      assert.deepEqual(await store.listFiles(alice, { before: 'no-such-file' }), []);
      assert.deepEqual(await store.listFiles(`user-${randomUUID()}`), []);
    });

    it('clamps the page size to 1..200, 50 by default', async () => {
      const userId = `user-${randomUUID()}`;
      for (let i = 0; i < 205; i++) {
        const upload = await verifiedUpload({ userId });
        await store.finishUpload(fileFor(upload));
      }
      const sizeOf = async (limit?: number) =>
        (await store.listFiles(userId, limit === undefined ? {} : { limit })).length;
      assert.equal(await sizeOf(), 50);
      assert.equal(await sizeOf(Number.NaN), 50);
      assert.equal(await sizeOf(1000), 200);
      assert.equal(await sizeOf(Number.POSITIVE_INFINITY), 200);
      assert.equal(await sizeOf(200), 200);
      assert.equal(await sizeOf(0), 1);
      assert.equal(await sizeOf(-3), 1);
      assert.equal(await sizeOf(2.9), 2);
    });

    it('deletes a file, keeps the upload ready without it, and never brings it back', async () => {
      const userId = `user-${randomUUID()}`;
      const upload = await verifiedUpload({ userId });
      const file = await store.finishUpload(fileFor(upload));
      assert.equal(await store.deleteFile(file.id), true);
      assert.equal(await store.getFile(file.id), undefined);
      assert.deepEqual(await store.listFiles(userId), []);
      const after = await store.getUpload(upload.id);
      assert.equal(after?.state, 'ready');
      assert.equal(after.fileId, null);
      assert.equal(await store.deleteFile(file.id), false);
      assert.equal(await store.deleteFile('no-such-file'), false);

      await assert.rejects(store.finishUpload(fileFor(upload)), isFinishUploadError('file_deleted'));
      assert.equal(await countFiles(upload.id), 0);
    });

    it('migrates again without change', async () => {
      const upload = await store.createUpload(newUpload());
      await store.migrate();
      await Promise.all([store.migrate(), store.migrate()]);
      const again = await openStore(database.url);
      try {
        assert.deepEqual(await again.getUpload(upload.id), await store.getUpload(upload.id));
      } finally {
        await again.close();
      }
      const versions = await database.query('select version from upfront_migrations order by version');
      assert.deepEqual(
        versions.map((row) => row.version),
        Array.from({ length: latestSchemaVersion }, (_, i) => i + 1),
      );
    });

    it('migrates a new database from several processes at once', async () => {
      const fresh = backend.freshDatabase();
      await openStoreInProcesses(fresh.url, 3);
      const versions = await fresh.query('select version from upfront_migrations order by version');
      assert.deepEqual(
        versions.map((row) => row.version),
        Array.from({ length: latestSchemaVersion }, (_, i) => i + 1),
      );
      const freshStore = await openStore(fresh.url);
      try {
        const upload = await freshStore.createUpload(newUpload());
        assert.deepEqual(await freshStore.getUpload(upload.id), upload);
      } finally {
        await freshStore.close();
      }
    });
  });
}

describe('openStore URLs', () => {
  it('opens an in-memory SQLite store', async () => {
    const store = await openStore('sqlite::memory:');
    try {
      const upload = await store.createUpload(newUpload());
      assert.deepEqual(await store.getUpload(upload.id), upload);
    } finally {
      await store.close();
    }
  });

  it('takes a plain file path as SQLite and creates its directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'upfront-store-'));
    try {
      const store = await openStore(join(dir, 'nested', 'metadata.sqlite'));
      await store.close();
      const database = new Database(join(dir, 'nested', 'metadata.sqlite'), { readonly: true });
      assert.equal(database.pragma('journal_mode', { simple: true }), 'wal');
      database.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('says which URLs it accepts when given another', async () => {
    await assert.rejects(openStore('mysql://root@127.0.0.1/upfront'), /scheme "mysql:" is not supported: use sqlite:<path>/);
    await assert.rejects(openStore('sqlite:'), /names no file/);
    await assert.rejects(
      openStore('postgres://postgres@127.0.0.1:5432/test?schema=Robert%27);drop'),
      /must be a lowercase SQL identifier/,
    );
  });

  it('makes SQLite commits durable by default (synchronous=full); normal only when asked', async () => {
    assert.deepEqual(parseStoreUrl('sqlite:/data/upfront.db'), { kind: 'sqlite', path: '/data/upfront.db', synchronous: 'full', name: '/data/upfront.db' });
    assert.equal((parseStoreUrl('sqlite:/data/upfront.db?synchronous=NORMAL') as { synchronous: string }).synchronous, 'normal');
    assert.equal((parseStoreUrl('/data/upfront.db?synchronous=full') as { path: string }).path, '/data/upfront.db');
    assert.throws(() => parseStoreUrl('sqlite:/data/upfront.db?synchronous=off'), /synchronous=full \(default\) or synchronous=normal/);
    assert.throws(() => parseStoreUrl('sqlite:/data/upfront.db?journal=delete'), /not supported/);
    const dir = await mkdtemp(join(tmpdir(), 'upfront-store-'));
    try {
      const store = await openStore(`sqlite:${join(dir, 'normal.db')}?synchronous=normal`);
      await store.close();
      assert.ok(existsSync(join(dir, 'normal.db')), 'the option is not part of the file name');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
