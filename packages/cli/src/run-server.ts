/**
 * upfront dev    API + disk storage + SQLite + dev sign-in + the web page, on one port.
 * upfront serve  the API with the configuration from upfront.config.json and the environment.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { serve } from '@upfront/server/node';
import { UsageError } from './usage.ts';
import { loadCommandConfig } from './load-config.ts';
import { staticFiles } from './static-files.ts';

// The demo web page, copied into the package by the build (scripts/build.sh).
const webDist = fileURLToPath(new URL('./web/', import.meta.url));

export async function runServer(command: 'dev' | 'serve', args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'public-url': { type: 'string' },
      'unsafe-dev-sign-in': { type: 'boolean' },
    },
  });
  const dev = command === 'dev';
  const port = Number(values.port ?? process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number (got ${values.port})`);
  const env = { ...process.env };
  if (dev) env.CORS_ORIGINS ??= 'http://localhost:*,http://127.0.0.1:*';
  if (values['unsafe-dev-sign-in']) {
    if (dev) throw new UsageError('--unsafe-dev-sign-in is for `upfront serve`; `upfront dev` has dev sign-in already');
    env.AUTH_DEV_ISSUER = 'true';
    env.AUTH_DEV_ISSUER_UNSAFE_IN_PRODUCTION = 'true';
  }
  const config = loadCommandConfig({ env, mode: dev ? 'dev' : 'production' });

  const hasWeb = dev && existsSync(webDist);
  const server = await serve(config, {
    port,
    hostname: values.host ?? (dev ? '127.0.0.1' : '0.0.0.0'),
    // With --port 0 only the server knows its port, and names its URL itself.
    ...((values['public-url'] ?? port) && { publicUrl: values['public-url'] ?? `http://localhost:${port}` }),
    ...(hasWeb && { fallback: staticFiles(webDist) }),
  });
  const storage = config.storage.driver === 'disk' ? `disk (${config.dataDir})` : `s3 (${config.storage.endpoint})`;
  console.log(`Upfront ${command} ready: ${server.url}`);
  console.log(`  storage: ${storage}   database: ${config.databaseUrl.replace(/\/\/[^@/]*@/, '//***@')}`);
  console.log(`  sign-in: ${config.auth.devIssuer ? 'dev issuer (POST /v1/dev/token)' : config.auth.jwksUrl}`);
  if (dev && !hasWeb) console.log('  web page not included: build the packages with "npm run build"');

  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
