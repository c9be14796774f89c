/**
 * Opens the metadata store named by a URL and migrates it.
 *
 * - `sqlite:<path>`, or a plain file path: SQLite, the embedded default. The parent directory is
 *   created; WAL journal, foreign keys on, and a busy timeout so several processes can share the
 *   file. Open one store per file per process: better-sqlite3 waits for locks synchronously, so a
 *   second store in the same process would block the first.
 * - `sqlite::memory:`: a private in-memory database (gone when closed).
 * - `postgres://…` or `postgresql://…`: PostgreSQL through a connection pool, for several API
 *   instances. Optional `?schema=name` (lowercase letters, digits, underscores) keeps every table in
 *   that schema: it becomes the connections' search_path and migrate() creates it if missing.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { Pool } from 'pg';
import { KyselyStore } from './kysely-store.ts';
import type { StoreDatabase } from './migrations.ts';
import type { MetadataStore } from './types.ts';

/** How long SQLite waits for another process's write lock before failing with SQLITE_BUSY. */
const sqliteBusyTimeoutMs = 5000;

export async function openStore(url: string): Promise<MetadataStore> {
  const { store, target } = connect(url);
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Could not open the metadata store at ${target}: ${reason}`, { cause: error });
  }
  return store;
}

/** `target` names the database for error messages, without credentials. */
function connect(url: string): { store: KyselyStore; target: string } {
  // Two letters at least, so that a Windows path such as C:\data\upfront.db stays a path.
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) return { store: openSqlite(url), target: url };
  if (scheme === 'sqlite') {
    const path = url.slice('sqlite:'.length);
    if (path === '') throw new Error('The metadata store URL "sqlite:" names no file: use sqlite:<path> or sqlite::memory:.');
    return { store: openSqlite(path), target: path };
  }
  if (scheme === 'postgres' || scheme === 'postgresql') return openPostgres(url);
  throw new Error(
    `The metadata store URL scheme "${scheme}:" is not supported: use sqlite:<path>, sqlite::memory:, ` +
      'a file path, or postgres://user@host:port/database.',
  );
}

function openSqlite(path: string): KyselyStore {
  const inMemory = path === ':memory:';
  if (!inMemory) mkdirSync(dirname(resolve(path)), { recursive: true });
  const database = new Database(path);
  // First, so that switching to WAL below also waits for a concurrent opener.
  database.pragma(`busy_timeout = ${sqliteBusyTimeoutMs}`);
  if (!inMemory) database.pragma('journal_mode = WAL');
  database.pragma('foreign_keys = ON');
  const db = new Kysely<StoreDatabase>({ dialect: new SqliteDialect({ database }) });
  return new KyselyStore(db, { dialect: 'sqlite' });
}

function openPostgres(url: string): { store: KyselyStore; target: string } {
  const parsed = new URL(url);
  const target = `${parsed.host}${parsed.pathname}`;
  const schema = parsed.searchParams.get('schema') ?? undefined;
  if (schema !== undefined) {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
      throw new Error(
        `The metadata store URL parameter schema="${schema}" must be a lowercase SQL identifier ` +
          '(letters, digits and underscores, at most 63).',
      );
    }
    parsed.searchParams.delete('schema');
    // In the connection string, since pg lets its parameters override the config object's.
    const options = parsed.searchParams.get('options');
    parsed.searchParams.set('options', [options, `-c search_path=${schema}`].filter(Boolean).join(' '));
  }
  const pool = new Pool({ connectionString: parsed.toString() });
  // An idle connection that dies (server restart) is dropped by the pool and replaced on the next
  // query; without a listener the 'error' event would crash the process.
  pool.on('error', () => {});
  const db = new Kysely<StoreDatabase>({ dialect: new PostgresDialect({ pool }) });
  return { store: new KyselyStore(db, { dialect: 'postgres', schema }), target };
}
