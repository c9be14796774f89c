/**
 * Upload progress that never goes backwards: bytes storage acknowledged plus what requests in flight
 * have sent, and never below what was shown before. A request that fails or is paused drops its
 * in-flight bytes; the bar then holds still until the new attempt passes it. It shows the total only
 * once storage acknowledged every byte.
 */
import type { UploadProgress } from './types.ts';

export interface ProgressTracker {
  /** Request `key` has sent `bytes` so far. */
  sending(key: number, bytes: number): void;
  /** Request `key` ended: `bytes` acknowledged by storage (0 when it failed). */
  settled(key: number, bytes: number): void;
}

export function progressTracker(total: number, report?: (progress: UploadProgress) => void): ProgressTracker {
  let acknowledged = 0;
  let shown = -1;
  const inFlight = new Map<number, number>();
  const update = () => {
    let loaded = acknowledged;
    for (const bytes of inFlight.values()) loaded += bytes;
    loaded = Math.min(loaded, acknowledged < total ? total - 1 : total);
    if (loaded > shown) report?.({ loaded: (shown = loaded), total });
  };
  update();
  return {
    sending(key, bytes) {
      inFlight.set(key, bytes);
      update();
    },
    settled(key, bytes) {
      inFlight.delete(key);
      acknowledged += bytes;
      update();
    },
  };
}
