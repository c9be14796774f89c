/**
 * Opens the metadata store named by a URL and migrates it.
 *
 * - `sqlite:<path>`, or a plain file path: SQLite, the embedded default. The parent directory is
 *   created; WAL journal, foreign keys on, and a busy timeout so several processes can share the
 *   file. `?synchronous=full` (the default) makes every commit durable before it is answered, even
 *   on power loss; `?synchronous=normal` skips that fsync and may lose the last commits on power loss
 *   or an OS crash (never on a crash of the process, and the file stays consistent). Open one store per file per process: better-sqlite3 waits for locks synchronously, so a
 *   second store in the same process would block the first.
 * - `sqlite::memory:`: a private in-memory database (gone when closed).
 * - `postgres://…` or `postgresql://…`: PostgreSQL through a connection pool (`poolSize`
 *   connections per process), for several API instances. Optional `?schema=name` (lowercase
 *   letters, digits, underscores) keeps every table in
 *   that schema: it becomes the connections' search_path and migrate() creates it if missing.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type SqliteDatabase } from 'kysely';
import { KyselyStore } from './kysely-store.ts';
import type { StoreDatabase } from './migrations.ts';
import type { MetadataStore } from './types.ts';

/** How long SQLite waits for another process's lock before failing with SQLITE_BUSY. */
const sqliteBusyTimeoutMs = 5000;

type Synchronous = 'full' | 'normal';

export type StoreTarget =
  | { kind: 'sqlite'; path: string; synchronous: Synchronous; name: string }
  | { kind: 'postgres'; connectionString: string; schema: string | undefined; name: string };

export interface OpenStoreOptions {
  /** PostgreSQL: connections in this process's pool (default 10, pg's own default). */
  poolSize?: number;
}

export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<MetadataStore> {
  const target = parseStoreUrl(url);
  let store: KyselyStore | undefined;
  try {
    store =
      target.kind === 'sqlite'
        ? await openSqlite(target.path, target.synchronous)
        : await openPostgres(target.connectionString, target.schema, options.poolSize ?? 10);
    await store.migrate();
    return store;
  } catch (error) {
    await store?.close();
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Could not open the metadata store at ${target.name}: ${reason}`, { cause: error });
  }
}

/** `name` says which database, without credentials, for error messages. */
export function parseStoreUrl(url: string): StoreTarget {
  // Two letters at least, so that a Windows path such as C:\data\upfront.db stays a path.
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) return parseSqliteUrl(url);
  if (scheme === 'sqlite') return parseSqliteUrl(url.slice('sqlite:'.length));
  if (scheme === 'postgres' || scheme === 'postgresql') return parsePostgresUrl(url);
  throw new Error(
    `The metadata store URL scheme "${scheme}:" is not supported: use sqlite:<path>, sqlite::memory:, ` +
      'a file path, or postgres://user@host:port/database.',
  );
}

/** `<path>[?synchronous=full|normal]` */
function parseSqliteUrl(rest: string): StoreTarget {
  const query = rest.lastIndexOf('?');
  const path = query < 0 ? rest : rest.slice(0, query);
  if (path === '') throw new Error('The metadata store URL "sqlite:" names no file: use sqlite:<path> or sqlite::memory:.');
  let synchronous: Synchronous = 'full';
  for (const [name, value] of new URLSearchParams(query < 0 ? '' : rest.slice(query + 1))) {
    const lower = value.toLowerCase();
    if (name !== 'synchronous' || (lower !== 'full' && lower !== 'normal')) {
      throw new Error(`The SQLite URL option ${name}=${value} is not supported: the one option is synchronous=full (default) or synchronous=normal.`);
    }
    synchronous = lower;
  }
  return { kind: 'sqlite', path, synchronous, name: path };
}

function parsePostgresUrl(url: string): StoreTarget {
  const parsed = new URL(url);
  const name = `${parsed.host}${parsed.pathname}`;
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
  return { kind: 'postgres', connectionString: parsed.toString(), schema, name };
}

async function openSqlite(path: string, synchronous: Synchronous): Promise<KyselyStore> {
  const inMemory = path === ':memory:';
  if (!inMemory) mkdirSync(dirname(resolve(path)), { recursive: true });
  const { default: Database } = await import('better-sqlite3');
  const database = new Database(path);
  try {
    database.pragma(`busy_timeout = ${sqliteBusyTimeoutMs}`);
    database.pragma('foreign_keys = ON');
    if (!inMemory) await useWriteAheadLog(database);
    // Group commit (group-commit.ts) shares one fsync among the creates that arrive together.
    database.pragma(`synchronous = ${synchronous.toUpperCase()}`);
  } catch (error) {
    database.close();
    throw error;
  }
  const db = new Kysely<StoreDatabase>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
  return new KyselyStore(db, { dialect: 'sqlite' });
}

/**
 * Kysely prepares every query anew, but the API runs the same few statements on every request:
 * preparing each once saves a large share of a create-upload's time.
 */
function withStatementCache(database: Database.Database): SqliteDatabase {
  const statements = new Map<string, Database.Statement>();
  return {
    close: () => database.close(),
    prepare(sql) {
      let statement = statements.get(sql);
      if (!statement) {
        if (statements.size >= 256) statements.clear();
        statement = database.prepare(sql);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}

/**
 * WAL lets readers proceed while one process writes. Switching to it needs an exclusive lock, and
 * SQLite answers SQLITE_BUSY at once, without its busy handler, while another process is creating
 * or switching the same file, so retry here for as long as busy_timeout would have waited.
 */
async function useWriteAheadLog(database: Database.Database): Promise<void> {
  const deadline = Date.now() + sqliteBusyTimeoutMs;
  for (;;) {
    try {
      database.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      const busy = (error as { code?: unknown }).code === 'SQLITE_BUSY';
      if (!busy || Date.now() >= deadline) throw error;
      await sleep(10);
    }
  }
}

async function openPostgres(connectionString: string, schema: string | undefined, poolSize: number): Promise<KyselyStore> {
  const { Pool } = (await import('pg')).default;
  const pool = new Pool({ connectionString, max: poolSize });
  // An idle connection that dies (server restart) is dropped by the pool and replaced on the next
  // query; without a listener the 'error' event would crash the process.
  pool.on('error', () => {});
  const db = new Kysely<StoreDatabase>({ dialect: new PostgresDialect({ pool }) });
  return new KyselyStore(db, { dialect: 'postgres', schema });
}
