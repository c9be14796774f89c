/**
 * An Upfront API in a process of its own, for fault tests that kill it: reads the server's usual
 * environment (STORAGE_DRIVER, S3_*, UPFRONT_DATA_DIR, DATABASE_URL…), the routes from UPFRONT_CONFIG,
 * dev mode, and listens on PORT (fixed, so a restarted process answers at the same URL). Prints its URL.
 */
import { loadConfig } from '@upfront/server';
import { serve } from '@upfront/server/node';

const config = loadConfig({ mode: 'dev', env: { CORS_ORIGINS: 'http://localhost:*,http://127.0.0.1:*', ...process.env } });
const server = await serve(config, { port: Number(process.env.PORT), ...(process.env.PUBLIC_URL && { publicUrl: process.env.PUBLIC_URL }) });
process.stdout.write(`${server.url}\n`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
