/**
 * Runs a route's processors between verification and promotion (complete-upload.ts), in the order the
 * route lists them; the first rejection ends it. Every processor sees the staged bytes as verified
 * (reads are bound to their ETag). Only once all have accepted the file is anything written: the
 * image's variants beside the final key, and, when the image processor strips metadata, the stripped
 * image in place of the staged bytes (a write instead of the usual server-side copy).
 *
 * A processor that throws leaves the upload as it is (503 `processing_failed`, complete may be called
 * again); one that takes longer than its timeout rejects it `processor_timeout`: a file that hangs a
 * scanner once will hang it again, and the user should hear so rather than retry forever.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { UpfrontError } from '../errors.ts';
import type { Services } from '../services.ts';
import { ObjectChangedError, ObjectMissingError } from '../storage/errors.ts';
import type { CopyResult, ObjectHead, PutOptions, StorageDriver } from '../storage/types.ts';
import type { UploadRecord, Visibility } from '../store/types.ts';
import type { Rejection } from '../uploads/verify-object.ts';
import { IMAGE_PROCESSOR } from './config.ts';
import { prepareImage, type PreparedImage } from './image.ts';
import { DEFAULT_PROCESSOR_TIMEOUT_MS, PROCESSOR_CODE, type ProcessorVerdict, type UploadProcessor } from './types.ts';
import { variantFilename, variantKey } from './variant-keys.ts';

export type Processed =
  /** Promote the staged bytes as they are (the copy). */
  | { outcome: 'kept' }
  /** The processed bytes were written to the final key: record these. */
  | { outcome: 'rewritten'; written: CopyResult; size: number; sha256: string }
  | { outcome: 'rejected'; rejection: Rejection }
  /** The staged object changed or went while it was read: read the upload again. */
  | { outcome: 'changed' };

/** Where the file is promoted to: its own key, or the key of the file it replaces. */
export interface PromotionTarget {
  visibility: Visibility;
  key: string;
}

/** Metadata of an object written to the final bucket (complete-upload's finalCopyOptions for the route). */
export type FinalMetadata = (contentType: string, filename: string) => Omit<PutOptions, 'size'>;

export async function processUpload(
  services: Services,
  upload: UploadRecord,
  head: ObjectHead,
  target: PromotionTarget,
  metadata: FinalMetadata,
): Promise<Processed> {
  const route = services.config.routes.get(upload.route);
  const names = route?.processors ?? [];
  if (names.length === 0) return { outcome: 'kept' };
  let image: PreparedImage | undefined;
  try {
    for (const name of names) {
      const result = name === IMAGE_PROCESSOR ? await runImage(services, upload, head) : await runCustom(services, name, upload, head);
      if ('rejection' in result) return { outcome: 'rejected', rejection: result.rejection };
      image ??= result.image;
    }
    if (!image) return { outcome: 'kept' };
    await storeVariants(services, image, upload, target, metadata);
    const { stripped } = image;
    if (!stripped) return { outcome: 'kept' };
    const written = await services.storage.put(target.visibility, target.key, fileBody(stripped.path), { ...metadata(stripped.contentType, upload.filename), size: stripped.size });
    return { outcome: 'rewritten', written, size: stripped.size, sha256: stripped.sha256 };
  } catch (error) {
    if (error instanceof ObjectChangedError || error instanceof ObjectMissingError) return { outcome: 'changed' };
    throw error;
  } finally {
    await image?.dispose();
  }
}

type Run = { rejection: Rejection } | { image?: PreparedImage };

async function runImage(services: Services, upload: UploadRecord, head: ObjectHead): Promise<Run> {
  const settings = services.config.routes.get(upload.route)?.image;
  if (!settings) throw new Error(`route "${upload.route}" names the image processor without its settings`);
  const count = (outcome: string) => services.metrics.processorRuns.inc({ processor: IMAGE_PROCESSOR, outcome });
  try {
    const result = await prepareImage(services.storage, upload, head, settings);
    count('rejection' in result ? 'rejected' : 'ok');
    return 'rejection' in result ? result : { image: result.prepared };
  } catch (error) {
    throw failure(IMAGE_PROCESSOR, error, count);
  }
}

async function runCustom(services: Services, name: string, upload: UploadRecord, head: ObjectHead): Promise<Run> {
  const count = (outcome: string) => services.metrics.processorRuns.inc({ processor: name, outcome });
  const processor: UploadProcessor | undefined = services.processors.get(name);
  if (!processor) throw failure(name, new Error(`no processor named "${name}" was passed to createUpfront`), count);
  const timeoutMs = processor.timeoutMs ?? DEFAULT_PROCESSOR_TIMEOUT_MS;
  const controller = new AbortController();
  const { id, userId, route, key, visibility, filename, contentType, size } = upload;
  const running = Promise.resolve().then(() =>
    processor.run({
      upload: { id, userId, route, key, visibility, filename, contentType, size },
      head,
      read: () => stagedStream(services.storage, key, head, controller.signal),
      signal: controller.signal,
    }),
  );
  running.catch(() => undefined); // one that fails after its time is up has been answered already
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  let verdict: ProcessorVerdict | 'timeout';
  try {
    verdict = await Promise.race([running, timedOut]);
  } catch (error) {
    throw failure(name, error, count);
  } finally {
    clearTimeout(timer);
    controller.abort(new Error(`the "${name}" processor's run is over`));
  }
  if (verdict === 'timeout') {
    count('timeout');
    const detail = `Checking the file took longer than the ${timeoutMs} ms the "${name}" processor may take; upload another file, or ask the site's operator.`;
    return { rejection: { code: 'processor_timeout', detail } };
  }
  if (verdict?.ok === true) {
    count('ok');
    return {};
  }
  if (verdict?.ok === false && typeof verdict.code === 'string' && PROCESSOR_CODE.test(verdict.code) && typeof verdict.detail === 'string' && verdict.detail !== '') {
    count('rejected');
    return { rejection: { code: 'file_rejected', reason: verdict.code, detail: verdict.detail } };
  }
  throw failure(name, new Error(`returned ${JSON.stringify(verdict)}, not {ok: true} or {ok: false, code: /^[a-z][a-z0-9_]*$/, detail}`), count);
}

/**
 * What a processor's unexpected error becomes: the staged object changing (or storage not answering) is
 * passed on as it is; anything else keeps the upload unfinished, 503 `processing_failed`, its cause logged.
 */
function failure(name: string, error: unknown, count: (outcome: string) => void): unknown {
  if (error instanceof ObjectChangedError || error instanceof ObjectMissingError || error instanceof UpfrontError) return error;
  count('failed');
  if ((error as { code?: unknown } | null)?.code === 'storage_unavailable') return error;
  const failed = new UpfrontError('processing_failed', `The "${name}" processor of this route failed; the upload is kept as it is: complete it again in a moment.`);
  failed.cause = error;
  return failed;
}

/**
 * Writes the variants beside the final key and records them (a replacement's replace the replaced
 * file's; objects of variants no longer made are deleted).
 */
async function storeVariants(services: Services, image: PreparedImage, upload: UploadRecord, target: PromotionTarget, metadata: FinalMetadata): Promise<void> {
  const { storage, store } = services;
  const stored = [];
  for (const variant of image.variants) {
    const key = variantKey(target.key, variant.spec.name, variant.spec.format);
    await storage.put(target.visibility, key, fileBody(variant.path), { ...metadata(variant.contentType, variantFilename(upload.filename, key)), size: variant.size });
    stored.push({ bucket: target.visibility, fileKey: target.key, name: variant.spec.name, key, contentType: variant.contentType, size: variant.size, width: variant.width, height: variant.height });
  }
  const before = await store.variants.replace(target.visibility, target.key, stored);
  for (const old of before) {
    if (!stored.some((variant) => variant.key === old.key)) await storage.delete(old.bucket, old.key);
  }
}

function fileBody(path: string): ReadableStream<Uint8Array> {
  return Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>;
}

/** The staged object, read from storage only when the processor first pulls, and cancelled with the run. */
function stagedStream(storage: StorageDriver, key: string, head: ObjectHead, signal: AbortSignal): ReadableStream<Uint8Array> {
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  const stop = () => void reader?.cancel(signal.reason).catch(() => undefined);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!reader) {
        signal.throwIfAborted();
        const opened = await storage.read('staging', key, head.etag !== undefined ? { ifMatch: head.etag } : {});
        if (!opened) throw new ObjectMissingError(`staging/${key} does not exist`);
        reader = opened.body.getReader();
        signal.addEventListener('abort', stop, { once: true });
      }
      const { done, value } = await reader.read();
      if (done) {
        signal.removeEventListener('abort', stop);
        controller.close();
      } else {
        controller.enqueue(value);
      }
    },
    async cancel(reason) {
      signal.removeEventListener('abort', stop);
      await reader?.cancel(reason);
    },
  });
}
