/**
 * Multipart uploads storage holds that no unfinished upload owns (storage's own list against the uploads
 * table): left by an upload that ended while a part was on its way, or by a crash between starting one in
 * storage and recording its upload. Aborted once started `settle` seconds ago (create starts the multipart
 * upload before it records the upload).
 */
import type { Services } from '../services.ts';
import { isSweepable, routePrefixes } from './listing.ts';
import { isUnfinished } from './ownership.ts';
import type { ReportBuilder } from './report.ts';

export async function sweepStaleMultipart(services: Services, now: number, settleMs: number, report: ReportBuilder): Promise<void> {
  const { storage, store } = services;
  for (const prefix of routePrefixes(services.config, 'staging')) {
    const inProgress = (await storage.listMultipartUploads(prefix || undefined)).filter(
      (upload) => now - upload.initiated.getTime() >= settleMs && isSweepable(services.config, 'staging', upload.key),
    );
    if (inProgress.length === 0) continue;
    const uploads = await store.findUnfinishedUploadsByKey([...new Set(inProgress.map((upload) => upload.key))]);
    const owned = new Set(uploads.filter(isUnfinished).flatMap((upload) => upload.multipart?.uploadId ?? []));
    for (const { key, uploadId } of inProgress) {
      if (owned.has(uploadId)) continue;
      try {
        await storage.abortMultipart(key, uploadId);
        report.add('multipart_aborted', key);
      } catch (error) {
        report.failed(`multipart ${key}`, error);
      }
    }
  }
}
