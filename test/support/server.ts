/**
 * Starts a real Upfront server over HTTP for tests: disk storage in a temp dir, or Ceph RGW from the
 * S3_* environment (scripts/rgw/start.sh). SQLite by default, PostgreSQL on request.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@upfront/server';
import { serve, type RunningServer, type ServeOptions } from '@upfront/server/node';
import { staticFiles } from '../../packages/cli/src/static-files.ts';
import { rgwConfig } from './rgw-env.ts';

export type Driver = 'disk' | 's3';

export interface TestServerOptions {
  driver: Driver;
  /** Serve apps/web/dist at / (build it first). */
  web?: boolean;
  /** Serve this directory at / (a test's own page); instead of `web`. */
  staticDir?: string;
  /** Replaces the routes of the config file. */
  routes?: Record<string, Record<string, unknown>>;
  /** Extra environment (AUTH_*, DATABASE_URL, …). */
  env?: Record<string, string>;
  /** A data dir of the caller's, e.g. shared by two instances (kept at close); default a temp dir of its own. */
  dataDir?: string;
  /** The app's processors (createUpfront's `processors`). */
  processors?: ServeOptions['processors'];
  /** The config file's `"dropIn"` (with `routes`: the drop-in endpoints, routes/drop-in/). */
  dropIn?: Record<string, Record<string, unknown>>;
}

export interface TestServer extends RunningServer {
  dataDir: string;
  /** A dev-issuer token for `user`. */
  token(user: string): Promise<string>;
  /** fetch against the API with JSON and an optional bearer token. */
  api(path: string, init?: { method?: string; token?: string; json?: unknown; body?: string; headers?: Record<string, string> }): Promise<Response>;
}

const webDist = fileURLToPath(new URL('../../apps/web/dist/', import.meta.url));

export async function startTestServer(options: TestServerOptions): Promise<TestServer> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'upfront-test-')));
  const env: Record<string, string | undefined> = {
    UPFRONT_DATA_DIR: dataDir,
    CORS_ORIGINS: 'http://localhost:*,http://127.0.0.1:*',
    STORAGE_DRIVER: options.driver,
    ...(options.driver === 's3' && s3Env()),
    ...options.env,
  };
  let file: string | undefined;
  if (options.routes) {
    file = join(dataDir, 'upfront.config.json');
    await writeFile(file, JSON.stringify({ routes: options.routes, ...(options.dropIn && { dropIn: options.dropIn }) }));
  }
  const config = loadConfig({ env, mode: 'dev', ...(file ? { file } : { file: fileURLToPath(new URL('../../upfront.config.json', import.meta.url)) }) });
  const running = await serve(config, { port: 0, ...((options.web || options.staticDir) && { fallback: staticFiles(options.staticDir ?? webDist) }), ...(options.processors && { processors: options.processors }) });
  const api: TestServer['api'] = (path, init = {}) =>
    fetch(running.url + path, {
      method: init.method ?? (init.json !== undefined || init.body !== undefined ? 'POST' : 'GET'),
      headers: {
        ...(init.token && { authorization: `Bearer ${init.token}` }),
        ...((init.json !== undefined || init.body !== undefined) && { 'content-type': 'application/json' }),
        ...init.headers,
      },
      ...(init.json !== undefined && { body: JSON.stringify(init.json) }),
      ...(init.body !== undefined && { body: init.body }),
    });
  return {
    ...running,
    dataDir,
    api,
    async token(user) {
      const res = await api('/v1/dev/token', { json: { user } });
      if (res.status !== 200) throw new Error(`dev token: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { token: string }).token;
    },
    async close() {
      await running.close();
      if (options.dataDir === undefined) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The S3_* variables of the running RGW (rgwConfig fails loudly, naming what is missing, if there is none). */
function s3Env(): Record<string, string | undefined> {
  rgwConfig();
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('S3_')));
}
