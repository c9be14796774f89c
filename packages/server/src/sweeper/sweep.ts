/**
 * The sweeper: brings storage and the database back into agreement after what the request path cannot
 * guarantee (a browser that never calls complete, bytes sent through a still-valid URL after an upload
 * ended, a crash between two steps of complete, a lost storage event). One sweep, in order: the disk
 * driver's crash leftovers, the staging bucket against unfinished uploads (finalize, heal, expire, delete
 * what nobody owns), storage's multipart uploads, then the final buckets against the files (orphans,
 * missing marks), and last the database rows nobody needs any more.
 *
 * Safe from several instances at once: every state change is the store's compare-and-set or completeUpload
 * (idempotent, race-safe), and every delete is of something nobody owns, re-checked after listing.
 */
import type { Services } from '../services.ts';
import type { ListedObject } from '../storage/types.ts';
import { sweepDiskLeftovers } from './disk-leftovers.ts';
import { markMissingFiles, sweepFinalOrphans } from './final-buckets.ts';
import { pruneRecords } from './prune-records.ts';
import { objectPages } from './listing.ts';
import { ReportBuilder, type SweepReport } from './report.ts';
import { sweepStagedOrphans } from './staged-orphans.ts';
import { sweepStaleMultipart } from './stale-multipart.ts';
import { sweepUnfinishedUploads } from './unfinished-uploads.ts';

export { SWEEP_ACTIONS, type SweepAction, type SweepReport } from './report.ts';

export interface SweepOptions {
  /** Default services.config.sweeper.graceSeconds. */
  graceSeconds?: number;
  /** Default services.config.sweeper.settleSeconds. */
  settleSeconds?: number;
}

export async function sweep(services: Services, options: SweepOptions = {}): Promise<SweepReport> {
  const { config } = services;
  const graceMs = (options.graceSeconds ?? config.sweeper.graceSeconds) * 1000;
  const settleMs = (options.settleSeconds ?? config.sweeper.settleSeconds) * 1000;
  const report = new ReportBuilder((action) => services.metrics.sweeperActions.inc({ action }));
  const now = Date.now();
  const step = async (what: string, work: () => Promise<unknown>) => {
    try {
      await work();
    } catch (error) {
      report.failed(what, error);
    }
  };

  if (config.storage.driver === 'disk') await step('disk leftovers', () => sweepDiskLeftovers(config.dataDir, now, settleMs, report));
  const staged = new Map<string, ListedObject>();
  await step('listing staging', async () => {
    for await (const page of objectPages(services.storage, config, 'staging')) for (const object of page) staged.set(object.key, object);
  });
  await step('unfinished uploads', () => sweepUnfinishedUploads({ services, staged, now, settleMs, report }));
  await step('staged objects', () => sweepStagedOrphans(services, staged, now, settleMs, report));
  await step('multipart uploads', () => sweepStaleMultipart(services, now, settleMs, report));
  await step('final buckets', async () => markMissingFiles(services, await sweepFinalOrphans(services, now, graceMs, report), report));
  await step('database records', () => pruneRecords(services, now, report));
  // Staged copies whose deletion completeUpload left to run after its answer: done before the report is.
  await services.background.settled();
  return report.build();
}
