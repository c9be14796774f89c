/**
 * @upfront/server — the Upfront API as one web-standard fetch handler.
 *
 *   const upfront = await createUpfront(loadConfig(), { publicUrl: 'http://localhost:3000' });
 *   serve(upfront.fetch)   // any runtime: Node (see ./node.ts), Lambda, Workers, Bun, Deno
 */
import { randomBytes } from 'node:crypto';
import { createAuthenticator } from './auth/authenticate.ts';
import { createDevIssuer, type DevIssuer } from './auth/dev-issuer.ts';
import { checkDevIssuer, type UpfrontConfig } from './config.ts';
import { Background } from './background.ts';
import { keptInDataDir } from './data-dir-secret.ts';
import { createApp, type FetchHandler } from './http/app.ts';
import { configSecrets, createLogger, type DestinationStream, type Logger } from './http/logging.ts';
import { createMetrics } from './http/metrics.ts';
import { finalizeStagedDropIns } from './routes/drop-in/disk-staged.ts';
import { timedDriver } from './storage/timed-driver.ts';
import type { Services } from './services.ts';
import { appProcessors } from './processors/app-processors.ts';
import type { UploadProcessor } from './processors/types.ts';
import type { StorageDriver } from './storage/types.ts';
import { openStore } from './store/open-store.ts';
import { startSweeper } from './sweeper/schedule.ts';
import type { SweepOptions } from './sweeper/sweep.ts';
import type { SweepReport } from './sweeper/report.ts';

export { loadConfig, defaultRoutes, ConfigError, type LoadConfigOptions, type UpfrontConfig, type RouteConfig } from './config.ts';
export type { FetchHandler } from './http/app.ts';
export type { FileJson } from './http/file-json.ts';
export type { Bucket, StorageDriver } from './storage/types.ts';
export type { MetadataStore, UploadRecord, FileRecord } from './store/types.ts';
export { SWEEP_ACTIONS, type SweepAction, type SweepReport } from './sweeper/report.ts';
export type { SweepOptions } from './sweeper/sweep.ts';
export type { UploadProcessor, ProcessorInput, ProcessorUpload, ProcessorVerdict } from './processors/types.ts';
export { openStore } from './store/open-store.ts';
export type { OutboxMessage, OutboxState } from './store/webhook-outbox.ts';

/** One sweep now (README, "The sweeper"): the sweeper's code is loaded on first use, not at start-up. */
export async function sweep(services: Services, options?: SweepOptions): Promise<SweepReport> {
  return (await import('./sweeper/sweep.ts')).sweep(services, options);
}

export interface UpfrontOptions {
  /** Where this API is reachable from browsers; the disk driver's signed URLs point here. */
  publicUrl: string;
  /** Handles what is not the API, e.g. static files of a web page. */
  fallback?: FetchHandler;
  /** Where the JSON log lines go (default standard output). */
  logDestination?: DestinationStream;
  /** The app's own processors, by the names routes give them in `"processors"` (README, "Processors"). */
  processors?: Record<string, UploadProcessor>;
  /**
   * false: no timers at all (for runtimes that freeze between requests, e.g. Lambda): the sweeper does
   * not run on its interval and webhooks are not polled; the caller calls settle() before each answer
   * and sweep() on a schedule. Default true.
   */
  timers?: boolean;
}

export interface Upfront {
  fetch: FetchHandler;
  services: Services;
  /** The instance's JSON logger. */
  log: Logger;
  /**
   * Finishes what was started so far: background tasks and, with `timers: false`, delivery of the
   * webhooks written since (`{webhooks: 'due'}`: of every webhook due, e.g. on a schedule).
   */
  settle(options?: { webhooks?: 'written' | 'due' }): Promise<void>;
  close(): Promise<void>;
}

interface OpenedStorage {
  storage: StorageDriver;
  /** The disk driver's own HTTP endpoint, served by the API under this path prefix. */
  storageEndpoint?: { pathPrefix: string; handler: FetchHandler };
  /** Stops what runs beside the driver (the disk driver's lifecycle). */
  stop?: () => Promise<void>;
  /** The disk driver's signing secret, kept out of the logs. */
  secret?: string;
}

/** `onStaged`: told of each object the disk endpoint writes into staging (the drop-in endpoints' finalize). */
async function openStorage(config: UpfrontConfig, publicUrl: string, onStaged?: (key: string) => Promise<void>): Promise<OpenedStorage> {
  if (config.storage.driver === 's3') {
    // The SDK's presigners (a benchmark's reference) need the SDK at once; Upfront's signer does not.
    if (config.storage.presigner === 'aws-sdk') return { storage: (await import('./storage/s3-driver.ts')).createS3Driver(config.storage) };
    const { createLazyS3Driver } = await import('./storage/lazy-s3-driver.ts');
    return { storage: createLazyS3Driver(config.storage) };
  }
  const [{ createDiskDriver }, { createDiskEndpoint }, { startDiskLifecycle }] = await Promise.all([
    import('./storage/disk-driver.ts'),
    import('./storage/disk-endpoint.ts'),
    import('./storage/disk-lifecycle.ts'),
  ]);
  const secret = diskSecret(config, config.storage.secret);
  const disk = createDiskDriver({ dataDir: config.dataDir, baseUrl: `${publicUrl}/storage`, secret });
  // No store expires what the disk driver stages: the server applies the staging bucket's rules itself.
  const { stagingExpiryDays, abortIncompleteDays } = config.buckets;
  const lifecycle = startDiskLifecycle(disk, config.dataDir, { stagingExpiryDays, abortIncompleteDays, daySeconds: config.storage.lifecycleDaySeconds });
  return {
    storage: disk,
    storageEndpoint: { pathPrefix: '/storage', handler: createDiskEndpoint(disk, { corsOrigins: config.corsOrigins, ...(onStaged && { onStaged }) }) },
    stop: () => lifecycle.stop(),
    secret,
  };
}

/** The disk driver's signing secret: from config, else made once and kept in the data dir. */
function diskSecret(config: UpfrontConfig, given: string | undefined): string {
  return given || keptInDataDir(config.dataDir, 'disk-secret', () => randomBytes(32).toString('hex')).trim();
}

/**
 * Builds the API for `config`. Only what the configuration uses is loaded (the disk or the s3
 * driver, the SQLite or the PostgreSQL client), which keeps start-up short.
 */
export async function createUpfront(config: UpfrontConfig, options: UpfrontOptions): Promise<Upfront> {
  checkDevIssuer(config.mode, config.auth);
  const processors = appProcessors(config.routes, options.processors);
  if (config.mode === 'production' && config.auth.devIssuer) {
    console.warn('upfront: WARNING: the dev issuer is on in production: anyone can sign in as any user (POST /v1/dev/token).');
  }
  const publicUrl = options.publicUrl.replace(/\/+$/, '');
  const store = await openStore(config.databaseUrl, { poolSize: config.databasePoolSize });
  let opened: OpenedStorage;
  let devIssuer: DevIssuer | undefined;
  // Set once the services exist; the disk endpoint takes no uploads before the server listens.
  let finalizeStaged: ((key: string) => Promise<void>) | undefined;
  try {
    // Before the storage, whose disk lifecycle would keep running if the dev key were refused.
    devIssuer = config.auth.devIssuer ? await createDevIssuer({ dataDir: config.dataDir, ...(config.auth.devKey !== undefined && { key: config.auth.devKey }) }) : undefined;
    opened = await openStorage(config, publicUrl, config.dropIn && (async (key) => finalizeStaged?.(key)));
  } catch (error) {
    await store.close();
    throw error;
  }
  const { storageEndpoint, stop } = opened;
  const background = new Background();
  const metrics = createMetrics();
  const storage = timedDriver(opened.storage, metrics);
  const services: Services = { config, storage, store, background, metrics, processors };
  const log = createLogger(config.logLevel, configSecrets(config, [opened.secret]), options.logDestination);
  if (config.dropIn) finalizeStaged = finalizeStagedDropIns(services, log);
  const app = createApp({
    services,
    authenticate: createAuthenticator(config.auth, devIssuer),
    log,
    ...(devIssuer && { devIssuer }),
    ...(storageEndpoint && { storageEndpoint }),
    ...(options.fallback && { fallback: options.fallback }),
  });
  // Started only when a route has a webhook: otherwise nothing is written to the outbox.
  const webhooks = [...config.routes.values()].some((route) => route.webhook)
    ? (await import('./webhooks/worker.ts')).startWebhookDelivery({ outbox: store.webhookOutbox, routes: config.routes, settings: config.webhooks, metrics, log, timers: options.timers ?? true })
    : undefined;
  const sweeper = options.timers === false ? { stop: async () => undefined } : startSweeper(services, log);
  return {
    fetch: async (request) => app.fetch(request),
    services,
    log,
    async settle(settling = {}) {
      await background.settled();
      if (options.timers === false) await webhooks?.flush(settling.webhooks === 'due');
    },
    async close() {
      await sweeper.stop();
      await stop?.();
      await background.settled();
      await webhooks?.stop();
      await store.close();
    },
  };
}
