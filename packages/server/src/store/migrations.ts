/**
 * The metadata schema and how it is created or upgraded, identically on SQLite and PostgreSQL.
 *
 * Timestamps are epoch milliseconds and sizes are byte counts, both in `bigint` columns: they
 * round-trip exactly on both databases (a 5 TB size and any millisecond date are safe JavaScript
 * integers). PostgreSQL's driver returns `bigint` as a string, so readers convert (see `Int8`).
 */
import { sql } from 'kysely';
import type { ColumnType, Kysely } from 'kysely';
import type { Strategy, UploadState, Visibility } from './types.ts';
import type { WebhookOutboxTable } from './webhook-outbox.ts';
import type { FileVariantsTable } from './file-variants.ts';

export type StoreDialect = 'sqlite' | 'postgres';

/** A `bigint` column: written as a number, read as a number (SQLite) or a string (PostgreSQL). */
export type Int8 = ColumnType<number | string, number, number>;

/** Reads an Int8 column: a number from SQLite, a decimal string from PostgreSQL. */
export function integer(value: number | string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`Stored integer ${value} is not a safe JavaScript integer.`);
  return n;
}

export interface UploadsTable {
  id: string;
  user_id: string;
  route: string;
  strategy: Strategy;
  key: string;
  visibility: Visibility;
  filename: string;
  content_type: string;
  size: Int8;
  state: UploadState;
  error_code: string | null;
  file_id: string | null;
  etag: string | null;
  multipart_id: string | null;
  part_size: Int8 | null;
  part_count: number | null;
  content_md5: string | null;
  sha256: string | null;
  fingerprint: string | null;
  replaces: string | null;
  /** 1 when no size was declared (drop-in endpoints, migration 9): `size` is then the most the upload may hold. */
  size_unknown: ColumnType<number, number | undefined, number>;
  created_at: Int8;
  updated_at: Int8;
  expires_at: Int8;
}

export interface FilesTable {
  id: string;
  upload_id: string;
  user_id: string;
  route: string;
  key: string;
  visibility: Visibility;
  filename: string;
  content_type: string;
  size: Int8;
  sha256: string | null;
  version_id: string | null;
  revision: ColumnType<number, number | undefined, number>;
  created_at: Int8;
  /** When the sweeper found the file's object gone from storage (migration 7); null while it is there. */
  missing_at: ColumnType<number | string | null, number | null | undefined, number | null>;
}

export interface FileVersionsTable {
  file_id: string;
  version_id: string;
  upload_id: string | null;
  filename: string;
  content_type: string;
  size: Int8;
  sha256: string | null;
  created_at: Int8;
}

export interface RateLimitWindowsTable {
  key: string;
  window_start: Int8;
  count: number;
}

interface MigrationsTable {
  version: number;
  name: string;
  applied_at: Int8;
}

export interface StoreDatabase {
  uploads: UploadsTable;
  files: FilesTable;
  file_versions: FileVersionsTable;
  webhook_outbox: WebhookOutboxTable;
  file_variants: FileVariantsTable;
  rate_limit_windows: RateLimitWindowsTable;
  upfront_migrations: MigrationsTable;
}

interface Migration {
  version: number;
  name: string;
  up(db: Kysely<StoreDatabase>): Promise<void>;
}

/** Append only: a released migration is never edited, a change is a new version. */
const migrations: Migration[] = [
  {
    version: 1,
    name: 'uploads and files',
    async up(db) {
      await db.schema
        .createTable('uploads')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('route', 'text', (c) => c.notNull())
        .addColumn('strategy', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('visibility', 'text', (c) => c.notNull())
        .addColumn('filename', 'text', (c) => c.notNull())
        .addColumn('content_type', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('error_code', 'text')
        // No foreign key to files: deleting a file nulls this in the same transaction instead.
        .addColumn('file_id', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('files')
        .addColumn('id', 'text', (c) => c.primaryKey())
        // UNIQUE: at most one file per upload, whatever races happen above this layer.
        .addColumn('upload_id', 'text', (c) => c.notNull().unique().references('uploads.id'))
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('route', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('visibility', 'text', (c) => c.notNull())
        .addColumn('filename', 'text', (c) => c.notNull())
        .addColumn('content_type', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      // Serves listFiles: one user's files, newest first, ties broken by id.
      await db.schema
        .createIndex('files_user_id_created_at_id')
        .on('files')
        .columns(['user_id', 'created_at', 'id'])
        .execute();
    },
  },
  {
    version: 2,
    name: 'verified etag of uploads',
    async up(db) {
      await db.schema.alterTable('uploads').addColumn('etag', 'text').execute();
    },
  },
  {
    version: 3,
    name: 'multipart uploads, checksums, fingerprints',
    async up(db) {
      // One column per statement: SQLite's ALTER TABLE adds one at a time.
      for (const [name, type] of [
        ['multipart_id', 'text'],
        ['part_size', 'bigint'],
        ['part_count', 'integer'],
        ['content_md5', 'text'],
        ['sha256', 'text'],
        ['fingerprint', 'text'],
      ] as const) {
        await db.schema.alterTable('uploads').addColumn(name, type).execute();
      }
      await db.schema.alterTable('files').addColumn('sha256', 'text').execute();
      // Serves findResumableUpload: one user's uploads of one file.
      await db.schema.createIndex('uploads_user_id_fingerprint').on('uploads').columns(['user_id', 'fingerprint']).execute();
    },
  },
  {
    version: 4,
    name: 'file versions',
    async up(db) {
      // The file an upload replaces (a new version of its key), if it does.
      await db.schema.alterTable('uploads').addColumn('replaces', 'text').execute();
      // Storage's id of the version the file row describes; null until known (files recorded before versions).
      await db.schema.alterTable('files').addColumn('version_id', 'text').execute();
      // Counts changes of the current version: they are compare-and-set on it.
      await db.schema.alterTable('files').addColumn('revision', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      // What was recorded of each version: storage keeps the bytes, not the filename or SHA-256.
      await db.schema
        .createTable('file_versions')
        .addColumn('file_id', 'text', (c) => c.notNull())
        .addColumn('version_id', 'text', (c) => c.notNull())
        .addColumn('upload_id', 'text')
        .addColumn('filename', 'text', (c) => c.notNull())
        .addColumn('content_type', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('sha256', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('file_versions_pkey', ['file_id', 'version_id'])
        .execute();
    },
  },
  {
    version: 5,
    name: 'webhook outbox',
    async up(db) {
      // Written in the transaction of the change it tells of; the delivery worker (webhooks/) claims
      // due rows by setting lease_until, so two instances never send one at the same time.
      await db.schema
        .createTable('webhook_outbox')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('route', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('lease_until', 'bigint')
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('delivered_at', 'bigint')
        .execute();
      // Serves the worker's claim: pending rows that are due, soonest first.
      await db.schema.createIndex('webhook_outbox_state_next_attempt_at').on('webhook_outbox').columns(['state', 'next_attempt_at']).execute();
    },
  },
  {
    version: 6,
    name: 'quotas and rate limits',
    async up(db) {
      // The one index that unfinished uploads are found by (every index costs each create its update: three
      // cost a quarter of create-upload's throughput): a user's, for usage (what they have reserved), and
      // every user's, for the sweeper and storage events (unfinished uploads are few; ended ones pile up).
      await db.schema.createIndex('uploads_state_user_id').on('uploads').columns(['state', 'user_id']).execute();
      // Requests counted per user (or other key) and fixed window; old windows are deleted as new ones start.
      await db.schema
        .createTable('rate_limit_windows')
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('window_start', 'bigint', (c) => c.notNull())
        .addColumn('count', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('rate_limit_windows_pkey', ['key', 'window_start'])
        .execute();
    },
  },
  {
    version: 7,
    name: 'sweeper',
    async up(db) {
      // Set by the sweeper when a file's object is gone from storage, cleared if it comes back.
      await db.schema.alterTable('files').addColumn('missing_at', 'bigint').execute();
      // Serves the sweeper: who owns a listed object's key (unfinished uploads are found by uploads_state_user_id).
      await db.schema.createIndex('files_key').on('files').column('key').execute();
    },
  },
  {
    version: 8,
    name: 'file variants',
    async up(db) {
      // Image sizes the `image` processor stored beside a file (processors/): by the file's bucket and key.
      await db.schema
        .createTable('file_variants')
        .addColumn('bucket', 'text', (c) => c.notNull())
        .addColumn('file_key', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('content_type', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('width', 'integer', (c) => c.notNull())
        .addColumn('height', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('file_variants_pkey', ['bucket', 'file_key', 'name'])
        .execute();
    },
  },
  {
    version: 9,
    name: 'uploads of unknown size',
    async up(db) {
      // The drop-in endpoints sign uploads before the size is known: `size` is then the route's maxSize
      // (reserved against quotas), and verification records the size storage received.
      await db.schema.alterTable('uploads').addColumn('size_unknown', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    },
  },
];

/** The newest schema version this code knows. */
export const latestSchemaVersion = migrations.reduce((latest, m) => Math.max(latest, m.version), 0);

/** Key of the PostgreSQL advisory lock that serialises migrations ("upfr" in ASCII). */
const migrationLockKey = 0x75706672;

/**
 * Runs `work` as one write transaction. On SQLite it starts with BEGIN IMMEDIATE, taking the write
 * lock before the first read: a deferred transaction that reads, then writes, fails with
 * SQLITE_BUSY when another process wrote in between, whereas BEGIN IMMEDIATE waits (busy_timeout).
 */
export async function inWriteTransaction<T>(
  db: Kysely<StoreDatabase>,
  dialect: StoreDialect,
  work: (trx: Kysely<StoreDatabase>) => Promise<T>,
): Promise<T> {
  if (dialect === 'postgres') return db.transaction().execute(work);
  return db.connection().execute(async (connection) => {
    await sql`begin immediate`.execute(connection);
    try {
      const result = await work(connection);
      await sql`commit`.execute(connection);
      return result;
    } catch (error) {
      await sql`rollback`.execute(connection);
      throw error;
    }
  });
}

export interface MigrateOptions {
  dialect: StoreDialect;
  /** PostgreSQL only: a schema to create if missing (the connection's search_path must name it). */
  schema?: string;
}

/**
 * Applies the migrations not yet recorded in `upfront_migrations`. Safe to run on every start and from several
 * instances at once: everything happens in one transaction that first takes a lock (an advisory
 * lock on PostgreSQL, the write lock on SQLite), and DDL is transactional on both databases, so a
 * migration is applied exactly once, entirely or not at all.
 */
export async function migrate(db: Kysely<StoreDatabase>, options: MigrateOptions): Promise<void> {
  // Usually all are applied: one read says so, without the lock and the DDL (which a cold start would wait for).
  if (await allApplied(db)) return;
  await inWriteTransaction(db, options.dialect, async (trx) => {
    if (options.dialect === 'postgres') {
      await sql`select pg_advisory_xact_lock(${sql.lit(migrationLockKey)})`.execute(trx);
      if (options.schema !== undefined) {
        await trx.schema.createSchema(options.schema).ifNotExists().execute();
      }
    }
    await trx.schema
      .createTable('upfront_migrations')
      .ifNotExists()
      .addColumn('version', 'integer', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('applied_at', 'bigint', (c) => c.notNull())
      .execute();
    const applied = await trx.selectFrom('upfront_migrations').select('version').execute();
    // Versions this code does not know (a newer instance migrated) are left alone: migrations
    // are additive, so an older instance keeps working during a rolling upgrade.
    const appliedVersions = new Set(applied.map((row) => row.version));
    for (const migration of migrations) {
      if (appliedVersions.has(migration.version)) continue;
      await migration.up(trx);
      await trx
        .insertInto('upfront_migrations')
        .values({ version: migration.version, name: migration.name, applied_at: Date.now() })
        .execute();
    }
  });
}

async function allApplied(db: Kysely<StoreDatabase>): Promise<boolean> {
  try {
    const applied = new Set((await db.selectFrom('upfront_migrations').select('version').execute()).map((row) => row.version));
    return migrations.every((migration) => applied.has(migration.version));
  } catch {
    return false; // no table (or schema) yet: the migration makes them
  }
}
