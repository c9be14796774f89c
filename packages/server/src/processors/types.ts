/**
 * The API of an app's own processors (createUpfront's `processors`), named by routes in their
 * `"processors"` list and run, in that order, between verification and promotion.
 */
import type { ObjectHead } from '../storage/types.ts';
import type { UploadRecord } from '../store/types.ts';

/** What a processor is told of the upload (the verified, staged file; `contentType` verified by magic bytes). */
export type ProcessorUpload = Pick<UploadRecord, 'id' | 'userId' | 'route' | 'key' | 'visibility' | 'filename' | 'contentType' | 'size'>;

export interface ProcessorInput {
  upload: ProcessorUpload;
  /** Size, type and ETag of the staged object: the bytes `read` streams are exactly these. */
  head: ObjectHead;
  /** Streams the staged bytes from storage; each call reads them again. Never buffer a large file whole. */
  read(): ReadableStream<Uint8Array>;
  /** Aborted when the processor's time is up (its reads are cancelled then too). */
  signal: AbortSignal;
}

/**
 * `ok: false` rejects the upload: it ends `rejected` with `code` as its errorCode, its staged bytes are
 * deleted, and complete answers 422 `file_rejected` with `detail` (a sentence for the user).
 */
export type ProcessorVerdict = { ok: true } | { ok: false; code: string; detail: string };

export interface UploadProcessor {
  /** Milliseconds it may take (default 30,000); then the upload is rejected `processor_timeout`. */
  timeoutMs?: number;
  /**
   * Decides on the file. Throwing (a scanner that is down) keeps the upload as it is: complete answers
   * 503 `processing_failed` and may be called again.
   */
  run(input: ProcessorInput): ProcessorVerdict | Promise<ProcessorVerdict>;
}

/** A code of a processor's rejection: the upload's errorCode. */
export const PROCESSOR_CODE = /^[a-z][a-z0-9_]{0,63}$/;
export const DEFAULT_PROCESSOR_TIMEOUT_MS = 30_000;
