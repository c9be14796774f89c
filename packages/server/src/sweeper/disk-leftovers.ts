/**
 * What a crash (kill -9, power loss) leaves in the disk driver's data directory, which no listing shows:
 * - temp files under `<dataDir>/tmp/` of writes that died with their process (a live write keeps its
 *   file's mtime fresh; a copy's pinned link has a fresh ctime), removed once untouched for `settle` seconds;
 * - metadata sidecars under `<dataDir>/meta/<bucket>/` whose object is gone (a crash between placing the
 *   sidecar and its object, or between deleting the object and its sidecar), once `settle` seconds old.
 *
 * It relies on the disk driver's layout (storage/disk-driver.ts), as storage/disk-lifecycle.ts does.
 */
import { readdir, rm, rmdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Bucket } from '../storage/types.ts';
import type { ReportBuilder } from './report.ts';

const BUCKETS: readonly Bucket[] = ['staging', 'public', 'private'];

export async function sweepDiskLeftovers(dataDir: string, now: number, settleMs: number, report: ReportBuilder): Promise<void> {
  const root = path.resolve(dataDir);
  await removeStaleTemps(path.join(root, 'tmp'), now, settleMs, report);
  for (const bucket of BUCKETS) await removeOrphanSidecars(root, bucket, now, settleMs, report);
}

async function removeStaleTemps(tmpDir: string, now: number, settleMs: number, report: ReportBuilder): Promise<void> {
  for (const name of await readdir(tmpDir).catch(() => [] as string[])) {
    const file = path.join(tmpDir, name);
    const stats = await stat(file).catch(() => undefined);
    if (!stats || now - Math.max(stats.mtimeMs, stats.ctimeMs) < settleMs) continue;
    try {
      // Directories too: a removed multipart upload is renamed here before it is deleted.
      await rm(file, { recursive: true, force: true });
      report.add('temp_removed', `tmp/${name}`);
    } catch (error) {
      report.failed(`tmp/${name}`, error);
    }
  }
}

async function removeOrphanSidecars(root: string, bucket: Bucket, now: number, settleMs: number, report: ReportBuilder): Promise<void> {
  const metaDir = path.join(root, 'meta', bucket);
  for await (const relative of filesUnder(metaDir, '')) {
    const sidecar = path.join(metaDir, relative);
    const before = await stat(sidecar).catch(() => undefined);
    if (!before || now - before.mtimeMs < settleMs) continue;
    if (await stat(path.join(root, 'objects', bucket, relative)).then(() => true, () => false)) continue;
    try {
      // The same file still (a write of the key replaces its sidecar first, by rename: another inode).
      const again = await stat(sidecar).catch(() => undefined);
      if (!again || again.ino !== before.ino) continue;
      await unlink(sidecar);
      await pruneEmpty(metaDir, path.dirname(sidecar));
      report.add('sidecar_removed', `${bucket}/${relative.split(path.sep).join('/')}`);
    } catch (error) {
      report.failed(`sidecar ${bucket}/${relative}`, error);
    }
  }
}

async function* filesUnder(dir: string, relative: string): AsyncGenerator<string> {
  const entries = await readdir(path.join(dir, relative), { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const child = relative === '' ? entry.name : path.join(relative, entry.name);
    if (entry.isDirectory()) yield* filesUnder(dir, child);
    else if (entry.isFile()) yield child;
  }
}

/** Removes now-empty directories up to the bucket's own, as the driver's delete does. */
async function pruneEmpty(bucketDir: string, dir: string): Promise<void> {
  for (; dir.startsWith(bucketDir + path.sep); dir = path.dirname(dir)) {
    try {
      await rmdir(dir);
    } catch {
      return;
    }
  }
}
