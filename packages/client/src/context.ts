/** What the parts of one upload share: the client's settings and API, and this upload's control and progress. */
import type { Control } from './control.ts';
import type { Acquire } from './limiter.ts';
import type { ProgressTracker } from './progress.ts';
import type { RetryPolicy } from './retry.ts';

/** A call to the Upfront API (JSON in and out, retried where that may help). */
export type Api = <T>(method: string, path: string, body?: unknown, signal?: AbortSignal) => Promise<T>;

export interface Settings extends RetryPolicy {
  partConcurrency: number;
  stallTimeout: number;
  workerUrl: string | URL | undefined;
}

export interface ClientContext {
  api: Api;
  fetch: typeof fetch;
  /** A place among the storage requests this client may have in flight. */
  acquire: Acquire;
  settings: Settings;
}

export interface UploadContext extends ClientContext {
  /** The upload's path on the API: `/v1/uploads/{id}`. */
  path: string;
  control: Control;
  progress: ProgressTracker;
}
