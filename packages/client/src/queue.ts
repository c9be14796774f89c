/**
 * `@upfront/client/queue`: many files, a few at a time, as one observable state. Framework-free; the
 * React hooks and <upfront-uploader> are views of it. Each change makes a new immutable snapshot
 * (`subscribe` + `getSnapshot` fit React's useSyncExternalStore).
 *
 * The stages come from the client's progress reports: `starting` (checksums, create) until the first
 * report, which follows the create; `uploading` until loaded equals total, which the client reports only
 * once storage acknowledged every byte; then `finishing` (the server verifies) until the task settles.
 */
import type { UpfrontClient } from './client.ts';
import { aborted, UpfrontError } from './errors.ts';
import type { UploadedFile, UploadOptions, UploadTask } from './types.ts';

export { describeQueue } from './queue-status.ts';

export type UploadState = 'queued' | 'starting' | 'uploading' | 'finishing' | 'done' | 'error';

export interface UploadItem {
  /** The queue's name for this item (stable; fit for a React key). */
  readonly key: string;
  readonly name: string;
  readonly size: number;
  readonly type: string;
  readonly route: string;
  /** What was added: the browser File or Blob (e.g. for a preview). */
  readonly source: Blob;
  /** A cancelled upload ends as `error` with the code `aborted`. */
  readonly state: UploadState;
  readonly paused: boolean;
  readonly loaded: number;
  readonly total: number;
  /** The upload's id on the server, once it is created. */
  readonly uploadId?: string;
  /** Why it failed: a stable code and a sentence fit to show. */
  readonly error?: { readonly code: string; readonly detail: string };
  /** The stored file, once done. */
  readonly file?: UploadedFile;
}

export interface QueueTotal {
  /** Bytes sent of the items that have not failed. */
  readonly loaded: number;
  /** Bytes of the items that have not failed. */
  readonly total: number;
  readonly done: number;
  readonly failed: number;
  /** Items waiting or uploading (queued, starting, uploading, finishing). */
  readonly active: number;
}

export interface QueueSnapshot {
  readonly items: readonly UploadItem[];
  readonly total: QueueTotal;
}

export type QueueAddOptions = Pick<UploadOptions, 'route' | 'filename' | 'contentType' | 'checksums'>;

export interface UploadQueueOptions {
  /** Files uploading at once (default 3). */
  concurrency?: number;
}

export interface UploadQueue {
  /** Queues files; answers their keys. */
  add(files: Iterable<Blob>, options: QueueAddOptions): string[];
  /** A paused item keeps its place; a queued one is not started until resumed. */
  pause(key: string): void;
  resume(key: string): void;
  /** Stops the item and aborts its upload on the server; it ends as `error` with the code `aborted`. */
  cancel(key: string): Promise<void>;
  /** Queues a failed item again (an upload the server still has is resumed). */
  retry(key: string): void;
  /** Cancels the item if it is running, and drops it from the list. */
  remove(key: string): void;
  /** Drops the items that are done or failed. */
  clearFinished(): void;
  subscribe(listener: () => void): () => void;
  getSnapshot(): QueueSnapshot;
}

interface Entry {
  item: UploadItem;
  options: QueueAddOptions;
  task?: UploadTask;
}

const RUNNING: readonly UploadState[] = ['starting', 'uploading', 'finishing'];
const FINISHED: readonly UploadState[] = ['done', 'error'];

export function createUploadQueue(client: UpfrontClient, { concurrency = 3 }: UploadQueueOptions = {}): UploadQueue {
  const entries = new Map<string, Entry>();
  const listeners = new Set<() => void>();
  let snapshot: QueueSnapshot = { items: [], total: { loaded: 0, total: 0, done: 0, failed: 0, active: 0 } };
  let counter = 0;

  const changed = () => {
    const items = [...entries.values()].map((entry) => entry.item);
    const total = { loaded: 0, total: 0, done: 0, failed: 0, active: 0 };
    for (const item of items) {
      if (item.state === 'error') total.failed++;
      else {
        total.loaded += item.loaded;
        total.total += item.total;
        if (item.state === 'done') total.done++;
        else total.active++;
      }
    }
    snapshot = { items, total };
    for (const listener of listeners) listener();
  };

  const update = (entry: Entry, patch: Partial<UploadItem>) => {
    entry.item = { ...entry.item, ...patch };
    changed();
  };

  const start = (entry: Entry) => {
    const { item } = entry;
    const task = client.upload(item.source, {
      ...entry.options,
      onProgress: ({ loaded, total }) => {
        if (entry.task !== task) return;
        update(entry, { loaded, total, state: loaded < total ? 'uploading' : 'finishing', uploadId: task.id });
      },
    });
    entry.task = task;
    update(entry, { state: 'starting' });
    task.then(
      (file) => entry.task === task && update(entry, { state: 'done', loaded: item.total, file, paused: false }),
      (error: unknown) => entry.task === task && update(entry, { state: 'error', error: describeError(error), paused: false, uploadId: task.id }),
    ).finally(pump);
  };

  function pump() {
    let running = 0;
    for (const entry of entries.values()) if (RUNNING.includes(entry.item.state)) running++;
    for (const entry of entries.values()) {
      if (running >= concurrency) return;
      if (entry.item.state === 'queued' && !entry.item.paused) {
        running++;
        start(entry);
      }
    }
  }

  return {
    add(files, options) {
      const keys: string[] = [];
      for (const source of files) {
        const key = `upload-${++counter}`;
        const name = options.filename ?? (source as { name?: string }).name ?? 'file';
        const item: UploadItem = { key, name, size: source.size, type: options.contentType || source.type, route: options.route, source, state: 'queued', paused: false, loaded: 0, total: source.size };
        entries.set(key, { item, options });
        keys.push(key);
      }
      changed();
      pump();
      return keys;
    },

    pause(key) {
      const entry = entries.get(key);
      if (!entry || entry.item.paused || FINISHED.includes(entry.item.state)) return;
      entry.task?.pause();
      update(entry, { paused: true });
    },

    resume(key) {
      const entry = entries.get(key);
      if (!entry?.item.paused) return;
      entry.task?.resume();
      update(entry, { paused: false });
      pump();
    },

    async cancel(key) {
      const entry = entries.get(key);
      if (!entry || FINISHED.includes(entry.item.state)) return;
      if (entry.task) return entry.task.cancel();
      update(entry, { state: 'error', error: describeError(aborted()), paused: false });
    },

    retry(key) {
      const entry = entries.get(key);
      if (entry?.item.state !== 'error') return;
      entry.task = undefined;
      update(entry, { state: 'queued', loaded: 0, paused: false, error: undefined, uploadId: undefined });
      pump();
    },

    remove(key) {
      const entry = entries.get(key);
      if (!entry) return;
      const { task } = entry;
      entry.task = undefined;
      // Nobody waits for the cancel once the item is gone.
      task?.cancel().catch(() => {});
      entries.delete(key);
      changed();
      pump();
    },

    clearFinished() {
      const before = entries.size;
      for (const [key, entry] of entries) if (FINISHED.includes(entry.item.state)) entries.delete(key);
      if (entries.size !== before) changed();
    },

    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    getSnapshot: () => snapshot,
  };
}

function describeError(error: unknown): { code: string; detail: string } {
  if (error instanceof UpfrontError) return { code: error.code, detail: error.detail };
  return { code: 'unexpected', detail: `The upload failed unexpectedly: ${error instanceof Error ? error.message : String(error)}` };
}
