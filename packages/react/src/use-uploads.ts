import { useMemo, useState, useSyncExternalStore } from 'react';
import type { UpfrontClient } from '@upfront/client';
import { createUploadQueue, describeQueue, type QueueSnapshot, type UploadQueue } from '@upfront/client/queue';
import type { QueueTotal, UploadItem } from '@upfront/client/queue';
import { useUpfrontClient } from './context.tsx';
import type { RegisteredConfig, RouteOf } from './routes.ts';

export interface UseUploadsOptions<C = RegisteredConfig> {
  /** The server route every file goes to. */
  route: RouteOf<C>;
  /** Files uploading at once (default 3; read once). */
  concurrency?: number;
  /** Instead of the provider's (read once). */
  client?: UpfrontClient;
}

/** The queue's controls (pause, resume, cancel, retry, remove, clearFinished: see UploadQueue), its items and total. */
export interface Uploads extends Pick<UploadQueue, 'pause' | 'resume' | 'cancel' | 'retry' | 'remove' | 'clearFinished'> {
  /** Every file added and not removed, in the order added. */
  items: readonly UploadItem[];
  total: QueueTotal;
  /** One sentence on how the uploads stand (what the dropzone's live region says). */
  status: string;
  /** Queues files to the hook's route; answers their keys. */
  add(files: Iterable<Blob> | ArrayLike<Blob>): string[];
}

/** A queue of this component's (made once) and its current snapshot. */
export function useQueue(options: { concurrency?: number; client?: UpfrontClient }): [UploadQueue, QueueSnapshot] {
  const client = useUpfrontClient(options.client);
  const [queue] = useState(() => createUploadQueue(client, { concurrency: options.concurrency }));
  return [queue, useSyncExternalStore(queue.subscribe, queue.getSnapshot, queue.getSnapshot)];
}

/** Many files, a few at a time, each with its own progress and controls, and the total. */
export function useUploads<C = RegisteredConfig>(options: UseUploadsOptions<C>): Uploads {
  const [queue, snapshot] = useQueue(options);
  const { route } = options;
  return useMemo(
    () => ({
      items: snapshot.items,
      total: snapshot.total,
      status: describeQueue(snapshot),
      add: (files) => queue.add(Array.from(files), { route }),
      pause: queue.pause,
      resume: queue.resume,
      cancel: queue.cancel,
      retry: queue.retry,
      remove: queue.remove,
      clearFinished: queue.clearFinished,
    }),
    [queue, snapshot, route],
  );
}
