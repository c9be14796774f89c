/**
 * What a user keeps and has reserved, derived from the rows themselves: their files, and their
 * unfinished uploads (each reserves its declared size, and a file unless it replaces one). Being
 * derived, usage is reconciled at complete, rejection, expiry and delete by those state changes
 * themselves, and can never drift from the records.
 */
import { sql, type Kysely } from 'kysely';
import type { StoreDatabase, StoreDialect } from './migrations.ts';
import { UNFINISHED_STATES, type RouteUsage, type UserUsage } from './types.ts';

/** First key of the PostgreSQL advisory locks that serialise one user's quota checks ("quot"). */
const quotaLockNamespace = 0x71756f74;

/**
 * Serialises quota checks of one user until the transaction ends: across instances sharing
 * PostgreSQL by an advisory lock on the user; SQLite's BEGIN IMMEDIATE already serialises writers.
 */
export async function lockUserQuota(trx: Kysely<StoreDatabase>, dialect: StoreDialect, userId: string): Promise<void> {
  if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(${quotaLockNamespace}, hashtext(${userId}))`.execute(trx);
}

/** The user's usage per route (routes with neither files nor unfinished uploads are left out). */
export async function readUsage(db: Kysely<StoreDatabase>, userId: string): Promise<UserUsage> {
  const [stored, reserved] = await Promise.all([
    db
      .selectFrom('files')
      .select(['route', (eb) => eb.fn.countAll<number | string>().as('files'), (eb) => eb.fn.sum<number | string | null>('size').as('bytes')])
      .where('user_id', '=', userId)
      .groupBy('route')
      .execute(),
    db
      .selectFrom('uploads')
      .select([
        'route',
        sql<number | string>`sum(case when replaces is null then 1 else 0 end)`.as('files'),
        (eb) => eb.fn.sum<number | string | null>('size').as('bytes'),
      ])
      .where('user_id', '=', userId)
      .where('state', 'in', UNFINISHED_STATES)
      .groupBy('route')
      .execute(),
  ]);
  const routes = new Map<string, RouteUsage>();
  const of = (route: string) => routes.get(route) ?? routes.set(route, { bytes: 0, files: 0, reservedBytes: 0, reservedFiles: 0 }).get(route)!;
  for (const row of stored) Object.assign(of(row.route), { bytes: Number(row.bytes ?? 0), files: Number(row.files) });
  for (const row of reserved) Object.assign(of(row.route), { reservedBytes: Number(row.bytes ?? 0), reservedFiles: Number(row.files) });
  const total: RouteUsage = { bytes: 0, files: 0, reservedBytes: 0, reservedFiles: 0 };
  for (const usage of routes.values()) {
    total.bytes += usage.bytes;
    total.files += usage.files;
    total.reservedBytes += usage.reservedBytes;
    total.reservedFiles += usage.reservedFiles;
  }
  return { total, routes };
}

/**
 * Counts one request under `key` in the window that starts at `windowStart` (one atomic upsert, so
 * instances sharing the database count together) and answers this window's count and the previous one's.
 */
export async function countRequest(db: Kysely<StoreDatabase>, key: string, windowStart: number, windowMs: number): Promise<{ current: number; previous: number }> {
  const row = await db
    .insertInto('rate_limit_windows')
    .values({ key, window_start: windowStart, count: 1 })
    .onConflict((conflict) => conflict.columns(['key', 'window_start']).doUpdateSet({ count: sql`rate_limit_windows.count + 1` }))
    .returning('count')
    .executeTakeFirstOrThrow();
  const current = Number(row.count);
  if (current === 1) {
    // A new window: windows before the previous one no longer count.
    await db.deleteFrom('rate_limit_windows').where('key', '=', key).where('window_start', '<', windowStart - windowMs).execute();
  }
  const previous = await db
    .selectFrom('rate_limit_windows')
    .select('count')
    .where('key', '=', key)
    .where('window_start', '=', windowStart - windowMs)
    .executeTakeFirst();
  return { current, previous: Number(previous?.count ?? 0) };
}
