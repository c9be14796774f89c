/** Waiting that an abort ends (with the `aborted` error) instead of leaving a promise hanging. */
import { aborted } from './errors.ts';

/** Calls `start(done)`, which returns how to undo itself; resolves at `done`, rejects when `signal` aborts first. */
export function until(start: (done: () => void) => () => void, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(aborted());
    const finish = (error?: unknown) => {
      signal?.removeEventListener('abort', onAbort);
      undo();
      if (error) reject(error);
      else resolve();
    };
    const onAbort = () => finish(aborted());
    const undo = start(() => finish());
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Waits `ms`; then, in a browser that knows it is offline, until it is online again. */
export async function delay(ms: number, signal?: AbortSignal): Promise<void> {
  await until((done) => {
    const timer = setTimeout(done, ms);
    return () => clearTimeout(timer);
  }, signal);
  if (globalThis.navigator?.onLine === false) {
    await until((done) => {
      addEventListener('online', done);
      return () => removeEventListener('online', done);
    }, signal);
  }
}
