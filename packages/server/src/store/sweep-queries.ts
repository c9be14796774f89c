/**
 * The sweeper's queries (sweeper/): every user's rows a page at a time, who owns a listed object's key,
 * and the mark of a file whose object is gone. Reads only, but for that mark, which is one UPDATE.
 */
import type { Kysely } from 'kysely';
import type { StoreDatabase } from './migrations.ts';
import { UNFINISHED_STATES, type Visibility } from './types.ts';

/** Keys per IN (…) list: far below SQLite's and PostgreSQL's parameter limits. */
const MAX_KEYS = 500;

export interface Page {
  /** Rows with ids after this one (ids order the pages). */
  after?: string;
  limit: number;
}

export function unfinishedUploads(db: Kysely<StoreDatabase>, { after, limit }: Page) {
  return db
    .selectFrom('uploads')
    .selectAll()
    .where('state', 'in', UNFINISHED_STATES)
    .$if(after !== undefined, (query) => query.where('id', '>', after!))
    .orderBy('id')
    .limit(limit)
    .execute();
}

export async function unfinishedUploadsByKey(db: Kysely<StoreDatabase>, keys: string[]) {
  const rows = [];
  for (const chunk of chunks(keys)) {
    rows.push(...(await db.selectFrom('uploads').selectAll().where('state', 'in', UNFINISHED_STATES).where('key', 'in', chunk).execute()));
  }
  return rows;
}

export async function filesByKey(db: Kysely<StoreDatabase>, visibility: Visibility, keys: string[]) {
  const rows = [];
  for (const chunk of chunks(keys)) {
    rows.push(...(await db.selectFrom('files').selectAll().where('visibility', '=', visibility).where('key', 'in', chunk).execute()));
  }
  return rows;
}

export function filesPage(db: Kysely<StoreDatabase>, { after, limit }: Page) {
  return db
    .selectFrom('files')
    .selectAll()
    .$if(after !== undefined, (query) => query.where('id', '>', after!))
    .orderBy('id')
    .limit(limit)
    .execute();
}

/** Sets (a Date) or clears (null) the file's missing mark; true when it changed. */
export async function markMissing(db: Kysely<StoreDatabase>, id: string, missingAt: Date | null): Promise<boolean> {
  const result = await db
    .updateTable('files')
    .set({ missing_at: missingAt === null ? null : missingAt.getTime() })
    .where('id', '=', id)
    .where((eb) => (missingAt === null ? eb('missing_at', 'is not', null) : eb('missing_at', 'is', null)))
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

function* chunks(keys: string[]): Generator<string[]> {
  for (let start = 0; start < keys.length; start += MAX_KEYS) yield keys.slice(start, start + MAX_KEYS);
}
