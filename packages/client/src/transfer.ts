/**
 * One request to storage with a signed instruction the API handed out, reporting how much of its body
 * has gone out, and cut short when it stalls (nothing sent, and no answer, for the stall timeout).
 * Browsers send with XMLHttpRequest (xhr-transfer.ts: fetch reports no upload progress); Node streams
 * the body through a counter with fetch (fetch-transfer.ts).
 */
export interface StorageRequest {
  method: 'PUT' | 'POST';
  url: string;
  headers: Record<string, string>;
  body: Blob | FormData;
}

export interface TransferOptions {
  fetch: typeof fetch;
  signal: AbortSignal;
  /** Milliseconds without upload progress (or, once all is sent, without an answer) before the request is cut. */
  stallTimeout: number;
  /** The share of the body sent so far, 0 to 1. */
  onSent(share: number): void;
}

export type Transfer = (request: StorageRequest, options: TransferOptions) => Promise<void>;

/** A POST policy form: every signed field in the order given, then the file last (storage ignores fields after it). */
export function buildPostForm(fields: Record<string, string>, file: Blob, filename: string): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', file, filename);
  return form;
}

/** Calls `onStall` unless kicked again within `ms`. */
export function watchdog(ms: number, onStall: () => void) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return {
    kick: () => {
      clearTimeout(timer);
      timer = setTimeout(onStall, ms);
    },
    stop: () => clearTimeout(timer),
  };
}
