/**
 * @upfront/server — the Upfront API as one web-standard fetch handler.
 *
 *   const upfront = await createUpfront(loadConfig(), { publicUrl: 'http://localhost:3000' });
 *   serve(upfront.fetch)   // any runtime: Node (see ./node.ts), Lambda, Workers, Bun, Deno
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAuthenticator } from './auth/authenticate.ts';
import { createDevIssuer } from './auth/dev-issuer.ts';
import type { UpfrontConfig } from './config.ts';
import { createApp, type FetchHandler } from './http/app.ts';
import type { Services } from './services.ts';
import { createDiskDriver } from './storage/disk-driver.ts';
import { createDiskEndpoint } from './storage/disk-endpoint.ts';
import { createS3Driver } from './storage/s3-driver.ts';
import { openStore } from './store/open-store.ts';

export { loadConfig, defaultRoutes, ConfigError, type UpfrontConfig, type RouteConfig } from './config.ts';
export type { FetchHandler } from './http/app.ts';
export type { FileJson } from './http/file-json.ts';
export type { Bucket, StorageDriver } from './storage/types.ts';
export type { MetadataStore, UploadRecord, FileRecord } from './store/types.ts';

export interface UpfrontOptions {
  /** Where this API is reachable from browsers; the disk driver's signed URLs point here. */
  publicUrl: string;
  /** Handles what is not the API, e.g. static files of a web page. */
  fallback?: FetchHandler;
}

export interface Upfront {
  fetch: FetchHandler;
  services: Services;
  close(): Promise<void>;
}

/** The disk driver's signing secret: from config, else made once and kept in the data dir. */
function diskSecret(config: UpfrontConfig, given: string | undefined): string {
  if (given) return given;
  const path = join(config.dataDir, 'disk-secret');
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    mkdirSync(config.dataDir, { recursive: true });
    const secret = randomBytes(32).toString('hex');
    writeFileSync(path, secret, { mode: 0o600, flag: 'wx' });
    return secret;
  }
}

export async function createUpfront(config: UpfrontConfig, options: UpfrontOptions): Promise<Upfront> {
  const publicUrl = options.publicUrl.replace(/\/+$/, '');
  const store = await openStore(config.databaseUrl);
  let storageEndpoint: { pathPrefix: string; handler: FetchHandler } | undefined;
  let storage;
  if (config.storage.driver === 'disk') {
    const disk = createDiskDriver({
      dataDir: config.dataDir,
      baseUrl: `${publicUrl}/storage`,
      secret: diskSecret(config, config.storage.secret),
    });
    storage = disk;
    storageEndpoint = { pathPrefix: '/storage', handler: createDiskEndpoint(disk, { corsOrigins: config.corsOrigins }) };
  } else {
    storage = createS3Driver(config.storage);
  }
  const services: Services = { config, storage, store };
  const devIssuer = config.auth.devIssuer ? await createDevIssuer() : undefined;
  const app = createApp({
    services,
    authenticate: createAuthenticator(config.auth, devIssuer),
    ...(devIssuer && { devIssuer }),
    ...(storageEndpoint && { storageEndpoint }),
    ...(options.fallback && { fallback: options.fallback }),
  });
  return {
    fetch: async (request) => app.fetch(request),
    services,
    close: () => store.close(),
  };
}
