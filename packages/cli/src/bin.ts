#!/usr/bin/env node
/**
 * upfront dev    API + disk storage + SQLite + dev sign-in + the web page, on one port.
 * upfront serve  the API with the configuration from upfront.config.json and the environment.
 */
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '@upfront/server';
import { serve } from '@upfront/server/node';
import { staticFiles } from './static-files.ts';

const USAGE = `Usage: upfront <command> [options]

Commands:
  dev     Run everything locally: API, disk storage, SQLite, dev sign-in and the web page
  serve   Run the API (production config: upfront.config.json + environment)

Options:
  --port <n>      Port to listen on (default: $PORT or 3000)
  --host <addr>   Address to bind (default: 127.0.0.1 for dev, 0.0.0.0 for serve)
  --public-url    URL browsers reach this server at (default: http://localhost:<port>)
  --unsafe-dev-sign-in
                  serve only: turn the dev issuer on in production, so anyone can sign in as
                  any user. For throwaway demos; warned about at every start.
  -h, --help      Show this help
`;

// The demo web page, copied into the package by the build (scripts/build.sh).
const webDist = fileURLToPath(new URL('./web/', import.meta.url));

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'public-url': { type: 'string' },
      'unsafe-dev-sign-in': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals[0];
  if (values.help || (command !== 'dev' && command !== 'serve')) {
    process.stdout.write(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const dev = command === 'dev';
  const port = Number(values.port ?? process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`--port must be a port number (got ${values.port})`);
  const env = { ...process.env };
  if (dev) env.CORS_ORIGINS ??= 'http://localhost:*,http://127.0.0.1:*';
  if (values['unsafe-dev-sign-in']) {
    if (dev) throw new ConfigError('--unsafe-dev-sign-in is for `upfront serve`; `upfront dev` has dev sign-in already');
    env.AUTH_DEV_ISSUER = 'true';
    env.AUTH_DEV_ISSUER_UNSAFE_IN_PRODUCTION = 'true';
  }
  const config = loadConfig({ env, mode: dev ? 'dev' : 'production' });

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

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`upfront: configuration error: ${error.message}`);
    process.exit(2);
  }
  if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    console.error(`upfront: the port is already in use; pick another with --port or PORT.`);
    process.exit(1);
  }
  console.error(error);
  process.exit(1);
});
