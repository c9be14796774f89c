/**
 * The disk driver's lifecycle rules, enforced by the server itself: what `upfront setup` asks an S3
 * store to do on the staging bucket (buckets/spec.ts), the API does for its own disk storage. Staged
 * objects expire `stagingExpiryDays` after they were written, and multipart uploads are aborted
 * `abortIncompleteDays` after they were started. Removal goes through the driver, so an object loses
 * its sidecar with it and an upload's parts go the way an abort takes them.
 *
 * It relies on the disk driver's layout: staged objects are files under `<dataDir>/objects/staging/`,
 * multipart uploads directories `<dataDir>/multipart/<uploadId>/` holding `upload.json`.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { StorageDriver } from './types.ts';

export interface DiskLifecycleRules {
  stagingExpiryDays: number;
  abortIncompleteDays: number;
  /** How long a lifecycle day lasts: 86,400 s, or a few seconds in tests (like RGW's `rgw lc debug interval`). */
  daySeconds: number;
}

export interface LifecycleReport {
  expiredObjects: number;
  abortedUploads: number;
}

/** Applies the rules once, as of `now`. */
export async function runDiskLifecycle(storage: StorageDriver, dataDir: string, rules: DiskLifecycleRules, now = Date.now()): Promise<LifecycleReport> {
  const dayMs = rules.daySeconds * 1000;
  const report: LifecycleReport = { expiredObjects: 0, abortedUploads: 0 };
  const stagingDir = path.join(dataDir, 'objects', 'staging');
  for await (const file of filesUnder(stagingDir)) {
    const stats = await stat(file).catch(() => undefined);
    if (!stats || now - stats.mtimeMs < rules.stagingExpiryDays * dayMs) continue;
    await storage.delete('staging', path.relative(stagingDir, file).split(path.sep).join('/'));
    report.expiredObjects++;
  }
  const multipartDir = path.join(dataDir, 'multipart');
  for (const uploadId of await readdir(multipartDir).catch(() => [] as string[])) {
    const manifest = await readManifest(path.join(multipartDir, uploadId, 'upload.json'));
    if (!manifest || now - Date.parse(manifest.created) < rules.abortIncompleteDays * dayMs) continue;
    await storage.abortMultipart(manifest.key, uploadId);
    report.abortedUploads++;
  }
  return report;
}

/**
 * Runs the rules every twenty-fourth of a day (hourly, or often enough for a test's short day), until
 * stopped; the first run within 10 s of start, so a server restarted often still runs them, yet
 * start-up (and the first requests) do not wait on a walk of staging. A failed run is logged and tried
 * again at the next tick.
 */
export function startDiskLifecycle(storage: StorageDriver, dataDir: string, rules: DiskLifecycleRules): { stop(): Promise<void> } {
  const every = Math.max(1000, (rules.daySeconds * 1000) / 24);
  let running: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout;
  const tick = () => {
    running = running.then(() => runDiskLifecycle(storage, dataDir, rules)).catch((error: unknown) => console.error('upfront: disk lifecycle run failed', error));
    timer = setTimeout(tick, every).unref();
  };
  timer = setTimeout(tick, Math.min(every, 10_000)).unref();
  return {
    async stop() {
      clearTimeout(timer);
      await running;
    },
  };
}

async function* filesUnder(dir: string): AsyncGenerator<string> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* filesUnder(full);
    else if (entry.isFile()) yield full;
  }
}

async function readManifest(file: string): Promise<{ key: string; created: string } | undefined> {
  try {
    const value = JSON.parse(await readFile(file, 'utf8')) as { key?: unknown; created?: unknown };
    return typeof value.key === 'string' && typeof value.created === 'string' ? { key: value.key, created: value.created } : undefined;
  } catch {
    return undefined; // gone meanwhile, or being written: the next run sees it
  }
}
