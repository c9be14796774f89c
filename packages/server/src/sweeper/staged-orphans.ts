/**
 * Staged objects no unfinished upload owns: bytes sent through a still-valid signed URL after their upload
 * was completed, aborted or rejected, or a staged copy a crash kept from being deleted after its record.
 * Deleted once they have sat `settle` seconds (the listing may be older than a complete racing it).
 */
import type { Services } from '../services.ts';
import type { ListedObject } from '../storage/types.ts';
import { ownedKeys } from './ownership.ts';
import type { ReportBuilder } from './report.ts';

const CHUNK = 500;

export async function sweepStagedOrphans(services: Services, staged: ReadonlyMap<string, ListedObject>, now: number, settleMs: number, report: ReportBuilder): Promise<void> {
  const settled = [...staged.values()].filter((object) => now - object.lastModified.getTime() >= settleMs);
  for (let start = 0; start < settled.length; start += CHUNK) {
    const chunk = settled.slice(start, start + CHUNK);
    const owned = await ownedKeys(services.store, 'staging', chunk.map((object) => object.key));
    for (const { key } of chunk) {
      if (owned.has(key)) continue;
      try {
        await services.storage.delete('staging', key);
        report.add('staged_deleted', key);
      } catch (error) {
        report.failed(`staged ${key}`, error);
      }
    }
  }
}
