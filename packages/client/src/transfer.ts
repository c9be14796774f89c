/**
 * One request to storage with a signed instruction the API handed out, reporting how much of its body
 * has gone out, and cut short when it stalls (nothing sent, and no answer, for the stall timeout).
 * Browsers send with XMLHttpRequest (xhr-transfer.ts: fetch reports no upload progress); Node with
 * node:http (http-transfer.ts), or through the app's own fetch when it gave one (fetch-transfer.ts).
 */
export interface StorageRequest {
  method: 'PUT' | 'POST';
  url: string;
  headers: Record<string, string>;
  body: Blob;
  /**
   * A POST policy upload: these signed fields go first in a form, then `body` as the field `file` (its
   * filename there is the File's name, or "blob": storage uses the signed key, not that name).
   */
  fields?: Record<string, string>;
}

export interface TransferOptions {
  fetch: typeof fetch;
  signal: AbortSignal;
  /** Milliseconds without upload progress (or, once all is sent, without an answer) before the request is cut. */
  stallTimeout: number;
  /** The share of the body sent so far, 0 to 1. */
  onSent(share: number): void;
}

/**
 * The runtime's fetch, the default for API and storage requests; wrapped so a browser's fetch is never
 * called detached from `window` ("Illegal invocation").
 */
export const globalFetch: typeof fetch = (input, init) => fetch(input, init);

export type Transfer = (request: StorageRequest, options: TransferOptions) => Promise<void>;

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
