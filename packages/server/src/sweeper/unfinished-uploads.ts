/**
 * Uploads that may still become files, every user's, a page at a time: each one is finalized, healed,
 * expired or left alone.
 *
 * - Finalized: its bytes are in staging, but its browser never called complete (a closed tab, a lost
 *   storage event, a multipart upload whose parts all arrived). Once its signed URL has expired or the
 *   bytes have sat `settle` seconds, the sweeper completes it as the browser would: verified, promoted,
 *   recorded (a rejection is a normal outcome).
 * - Healed: nothing in staging, but a copy of the declared size in the final bucket: a crash stopped a
 *   promotion between copy and record. Completing it records that copy (see stagedObjectMissing).
 * - Expired: past its expiry with no bytes to finalize: `expired` (compare-and-set on the state read, so
 *   a complete or an abort that wins meanwhile stands), and whatever it staged (object, parts) deleted.
 */
import { UpfrontError } from '../errors.ts';
import type { Services } from '../services.ts';
import type { ListedObject } from '../storage/types.ts';
import type { UploadRecord } from '../store/types.ts';
import { completeUpload, discardStaged } from '../uploads/complete-upload.ts';
import { sizeFits } from '../uploads/verify-object.ts';
import { forEachLimited } from './concurrency.ts';
import type { ReportBuilder } from './report.ts';

const PAGE = 200;
const CONCURRENCY = 8;

export interface UnfinishedContext {
  services: Services;
  /** The staging bucket's objects by key, as listed at the start of the sweep; those dealt with here are taken out. */
  staged: Map<string, ListedObject>;
  now: number;
  settleMs: number;
  report: ReportBuilder;
}

export async function sweepUnfinishedUploads(context: UnfinishedContext): Promise<void> {
  const { store } = context.services;
  let after: string | undefined;
  for (;;) {
    const page = await store.listUnfinishedUploads({ ...(after !== undefined && { after }), limit: PAGE });
    await forEachLimited(page, CONCURRENCY, async (upload) => {
      try {
        await sweepUpload(context, upload);
      } catch (error) {
        context.report.failed(`upload ${upload.id}`, error);
      }
    });
    if (page.length < PAGE) return;
    after = page.at(-1)!.id;
  }
}

async function sweepUpload(context: UnfinishedContext, upload: UploadRecord): Promise<void> {
  const { services, now, settleMs } = context;
  const { storage } = services;
  const quiet = now - upload.createdAt.getTime() >= settleMs;
  const staged = context.staged.get(upload.key);
  if (staged) {
    const expiresIn = services.config.routes.get(upload.route)?.expiresIn ?? 0;
    const urlExpired = now >= upload.createdAt.getTime() + expiresIn * 1000;
    if (urlExpired || now - staged.lastModified.getTime() >= settleMs) await finalize(context, upload, 'finalized');
    return;
  }
  if (upload.multipart && upload.state === 'pending') {
    const parts = await storage.listParts(upload.key, upload.multipart.uploadId);
    if (parts && parts.length === upload.multipart.partCount && quiet) return finalize(context, upload, 'finalized');
  } else if (upload.replaces === null && quiet) {
    const promoted = await storage.head(upload.visibility, upload.key);
    if (promoted && sizeFits(upload, promoted.size)) return finalize(context, upload, 'healed');
  }
  if (now > upload.expiresAt.getTime()) await expire(context, upload);
}

async function finalize(context: UnfinishedContext, upload: UploadRecord, action: 'finalized' | 'healed'): Promise<void> {
  const { services, report } = context;
  try {
    await completeUpload(services, upload.userId, upload.id);
    report.add(action, upload.key);
    context.staged.delete(upload.key); // its staged copy is deleted after the record
  } catch (error) {
    const now = await services.store.getUpload(upload.id);
    if (now?.state === 'rejected' || now?.state === 'expired') context.staged.delete(upload.key); // its bytes went with it
    if (now?.state === 'rejected') report.add('rejected', `${upload.key} (${now.errorCode ?? 'rejected'})`);
    else if (now?.state === 'expired') report.add('expired', upload.key);
    // Parts or bytes not all there yet: the next sweep looks again.
    else if (!(error instanceof UpfrontError && error.code === 'upload_incomplete')) throw error;
  }
}

async function expire(context: UnfinishedContext, upload: UploadRecord): Promise<void> {
  const expired = await context.services.store.transitionUpload(upload.id, [upload.state], 'expired');
  if (!expired) return; // a complete or an abort moved it on meanwhile
  await discardStaged(context.services, upload);
  context.report.add('expired', upload.key);
}
