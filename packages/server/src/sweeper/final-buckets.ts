/**
 * The public and private buckets against the files table, both ways:
 * - an object no record owns (see ownership.ts) is deleted once older than the grace period: a copy whose
 *   record a crash prevented and whose upload then ended, or a file deleted from the table but not from storage;
 * - a file whose object is gone is marked missing (files.missing_at), and unmarked if it comes back.
 */
import type { Services } from '../services.ts';
import type { Visibility } from '../store/types.ts';
import { objectPages, routePrefixes } from './listing.ts';
import { ownedKeys } from './ownership.ts';
import type { ReportBuilder } from './report.ts';

const FILES_PAGE = 500;
const FINAL_BUCKETS: readonly Visibility[] = ['public', 'private'];

/** Deletes unowned objects; answers the keys each listed bucket holds (for the missing marks). */
export async function sweepFinalOrphans(services: Services, now: number, graceMs: number, report: ReportBuilder): Promise<Map<Visibility, Set<string>>> {
  const present = new Map<Visibility, Set<string>>();
  for (const bucket of FINAL_BUCKETS) {
    if (routePrefixes(services.config, bucket).length === 0) continue; // no route promotes there
    const keys = new Set<string>();
    present.set(bucket, keys);
    for await (const page of objectPages(services.storage, services.config, bucket)) {
      for (const object of page) keys.add(object.key);
      const old = page.filter((object) => now - object.lastModified.getTime() >= graceMs);
      if (old.length === 0) continue;
      const owned = await ownedKeys(services.store, bucket, old.map((object) => object.key));
      for (const { key } of old) {
        if (owned.has(key)) continue;
        try {
          await services.storage.delete(bucket, key);
          keys.delete(key);
          report.add('orphan_deleted', `${bucket}/${key}`);
        } catch (error) {
          report.failed(`${bucket}/${key}`, error);
        }
      }
    }
  }
  return present;
}

/**
 * Every file against the listing; a file the listing did not show is looked up (it may have been
 * promoted after the listing passed its key) before it is marked.
 */
export async function markMissingFiles(services: Services, present: ReadonlyMap<Visibility, Set<string>>, report: ReportBuilder): Promise<void> {
  const { storage, store } = services;
  let after: string | undefined;
  for (;;) {
    const files = await store.scanFiles({ ...(after !== undefined && { after }), limit: FILES_PAGE });
    for (const file of files) {
      try {
        const there = present.get(file.visibility)?.has(file.key) || (await storage.head(file.visibility, file.key)) !== null;
        if (there && file.missingAt && (await store.setFileMissing(file.id, null))) report.add('missing_cleared', `${file.visibility}/${file.key}`);
        if (!there && !file.missingAt && (await store.setFileMissing(file.id, new Date()))) report.add('marked_missing', `${file.visibility}/${file.key}`);
      } catch (error) {
        report.failed(`file ${file.id}`, error);
      }
    }
    if (files.length < FILES_PAGE) return;
    after = files.at(-1)!.id;
  }
}
