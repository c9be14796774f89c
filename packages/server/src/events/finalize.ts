/**
 * What the storage hook does with each record: an object created in the staging bucket under the key
 * of an unfinished upload finalizes that upload exactly as the browser's complete would
 * (completeUpload: verify, promote, record; idempotent and safe against a concurrent complete). So a
 * tab closed at 100 % still yields a file. Everything else is ignored and said so. Multipart uploads
 * are assembled by complete itself (storage announces only the assembled object, which complete
 * wrote): they are left to complete and the sweeper.
 */
import { UpfrontError, type ErrorCode } from '../errors.ts';
import type { Logger } from '../http/logging.ts';
import type { Services } from '../services.ts';
import type { UploadRecord } from '../store/types.ts';
import { completeUpload } from '../uploads/complete-upload.ts';
import type { StorageHookJson } from '../http/schemas.ts';
import type { StorageEventRecord } from './storage-event.ts';

/** What came of one record of an event (its outcomes and fields are documented in schemas.ts, StorageHookResult). */
export type EventSummary = StorageHookJson['records'][number];

/** Codes with which complete rejects an upload's bytes (verify-object.ts, complete-upload.ts, processors/). */
const REJECTIONS: readonly ErrorCode[] = [
  'content_type_mismatch',
  'size_mismatch',
  'checksum_mismatch',
  'type_not_allowed',
  'file_too_large',
  'image_invalid',
  'file_rejected',
  'processor_timeout',
];
/** Codes that say "try again": the event is worth sending again. */
const RETRYABLE: readonly ErrorCode[] = ['storage_unavailable', 'processing_failed', 'internal_error'];

/**
 * Handles an event's records (the storage hook's and the Lambda handler's): each outcome counted in
 * upfront_storage_events_total and logged, with `fields` (the request's id).
 */
export async function handleStorageEvents(services: Services, log: Logger, records: StorageEventRecord[], fields: object = {}): Promise<EventSummary[]> {
  const summaries = (await Promise.all(records.map((record) => handleStorageEvent(services, log, record)))).flat();
  for (const summary of summaries) {
    services.metrics.storageEvents.inc({ outcome: summary.outcome });
    log.info({ ...fields, ...summary }, 'storage event');
  }
  return summaries;
}

async function handleStorageEvent(services: Services, log: Logger, record: StorageEventRecord): Promise<EventSummary[]> {
  switch (record.kind) {
    case 'object-created':
      return objectCreated(services, log, record);
    case 'test':
      return [{ kind: 'test', outcome: 'ignored', ...(record.bucket && { bucket: record.bucket }), detail: 'a test event: the store reaches this hook' }];
    case 'subscription-confirmation':
      // Never fetched from here: the URL comes from the request. The operator confirms it (README, "Storage events").
      log.warn({ topicArn: record.topicArn, subscribeUrl: record.subscribeUrl }, 'SNS asks to confirm a subscription to the storage hook: open its SubscribeURL once to confirm it');
      return [{ kind: 'subscription-confirmation', outcome: 'ignored', detail: `confirm the subscription to ${record.topicArn} by opening its SubscribeURL (logged)` }];
    case 'other':
      return [{ kind: 'other', outcome: 'ignored', ...(record.bucket && { bucket: record.bucket }), ...(record.key !== undefined && { key: record.key }), detail: `${record.name} events change nothing` }];
    case 'unreadable':
      return [{ kind: 'unreadable', outcome: 'ignored', detail: record.reason }];
  }
}

async function objectCreated(services: Services, log: Logger, record: Extract<StorageEventRecord, { kind: 'object-created' }>): Promise<EventSummary[]> {
  const { storage } = services.config;
  const about = { kind: record.kind, bucket: record.bucket, key: record.keys[0]! };
  if (storage.driver !== 's3' || record.bucket !== storage.buckets.staging) return [{ ...about, outcome: 'ignored', detail: 'not the staging bucket' }];
  let uploads: UploadRecord[];
  try {
    uploads = await services.store.findUnfinishedUploadsByKey(record.keys);
  } catch (error) {
    log.error({ err: error }, 'storage hook: the database did not answer');
    return [{ ...about, outcome: 'failed', detail: 'the database did not answer' }];
  }
  // Usually the browser's complete came first; or the key is nobody's (a doctor probe, a stray write).
  if (uploads.length === 0) return [{ ...about, outcome: 'ignored', detail: 'no unfinished upload has this key (completed already, ended, or nobody\'s)' }];
  return Promise.all(uploads.map((upload) => finalizeUpload(services, log, { ...about, key: upload.key, uploadId: upload.id }, upload)));
}

/** Completes the upload as the browser would, saying what came of it (also the disk driver's drop-in notifications'). */
export async function finalizeUpload(services: Services, log: Logger, about: Omit<EventSummary, 'outcome'>, upload: UploadRecord): Promise<EventSummary> {
  if (upload.multipart) return { ...about, outcome: 'ignored', detail: 'a multipart upload: complete assembles and finalizes it' };
  try {
    const file = await completeUpload(services, upload.userId, upload.id);
    return { ...about, outcome: 'completed', fileId: file.id };
  } catch (error) {
    if (error instanceof UpfrontError && !RETRYABLE.includes(error.code)) {
      return { ...about, outcome: REJECTIONS.includes(error.code) ? 'rejected' : 'refused', code: error.code, detail: error.detail };
    }
    // Storage, the database or a processor failed: worth another delivery of the event (the sweeper is the last resort).
    log.error({ err: error, uploadId: upload.id }, 'storage hook: finalizing the upload failed');
    return { ...about, outcome: 'failed', detail: 'storage, the database or a processor failed; send the event again' };
  }
}
