/** A throwaway schema on the developers' PostgreSQL for a server under test; fails loudly if unreachable. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const postgresUrl = process.env.DATABASE_URL_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

export async function postgresSchema(): Promise<{ url: string; drop(): Promise<void> }> {
  const schema = `upfront_api_test_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 5000 });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(`PostgreSQL is not reachable at ${postgresUrl} (${(error as Error).message}); start it or set DATABASE_URL_PG.`);
  }
  const url = new URL(postgresUrl);
  url.searchParams.set('schema', schema);
  return {
    url: url.toString(),
    async drop() {
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
    },
  };
}
