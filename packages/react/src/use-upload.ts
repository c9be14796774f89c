import { useMemo } from 'react';
import type { UploadedFile, UpfrontClient } from '@upfront/client';
import { useQueue } from './use-uploads.ts';
import type { RegisteredConfig, RouteOf } from './routes.ts';

export type UploadStage = 'idle' | 'starting' | 'uploading' | 'finishing' | 'done' | 'error';

export interface UseUploadOptions<C = RegisteredConfig> {
  route: RouteOf<C>;
  /** Instead of the provider's (read once). */
  client?: UpfrontClient;
}

export interface Upload {
  /** idle → starting (checksums, create) → uploading → finishing (the server verifies) → done | error. */
  state: UploadStage;
  paused: boolean;
  /** `percent` is a whole number, 0–100. */
  progress: { loaded: number; total: number; percent: number };
  /** Why it failed: a stable code (`aborted` after cancel) and a sentence fit to show. */
  error?: { code: string; detail: string };
  /** The stored file, once done. */
  file?: UploadedFile;
  /** The upload's id on the server, once it is created. */
  uploadId?: string;
  /** Starts uploading `file`, in place of the upload before (which is cancelled if still running). */
  upload(file: Blob, options?: { filename?: string }): void;
  pause(): void;
  resume(): void;
  /** Ends the upload as `error` with the code `aborted`, and aborts it on the server. */
  cancel(): Promise<void>;
  /** Back to idle (a running upload is cancelled). */
  reset(): void;
}

/** One upload at a time, with its stage, progress, error or stored file. */
export function useUpload<C = RegisteredConfig>(options: UseUploadOptions<C>): Upload {
  const [queue, snapshot] = useQueue({ concurrency: 1, client: options.client });
  const { route } = options;
  return useMemo(() => {
    const item = snapshot.items.at(-1);
    const key = item?.key ?? '';
    const reset = () => {
      for (const { key } of queue.getSnapshot().items) queue.remove(key);
    };
    const loaded = item?.loaded ?? 0;
    const total = item?.total ?? 0;
    return {
      state: !item ? 'idle' : item.state === 'queued' ? 'starting' : item.state,
      paused: item?.paused ?? false,
      progress: { loaded, total, percent: total ? Math.floor((loaded / total) * 100) : item?.state === 'done' ? 100 : 0 },
      error: item?.error,
      file: item?.file,
      uploadId: item?.uploadId,
      upload(file, { filename } = {}) {
        reset();
        queue.add([file], { route, filename });
      },
      pause: () => queue.pause(key),
      resume: () => queue.resume(key),
      cancel: () => queue.cancel(key),
      reset,
    };
  }, [queue, snapshot, route]);
}
