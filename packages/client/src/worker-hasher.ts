/**
 * Hashing in browsers: in hash-worker.js (hash-wasm inside), started for each upload and loaded only
 * then, so the client itself stays small and the page stays responsive. The worker answers in the
 * order it was asked, so answers are matched to requests by position.
 */
import { UpfrontError } from './errors.ts';
import type { CreateHasher, HashReply, HashRequest } from './hashing.ts';

/** Undefined where there are no Web Workers. */
export const createHasher: CreateHasher = (workerUrl) => {
  if (typeof Worker !== 'function') return undefined;
  const url = workerUrl ?? new URL('./hash-worker.js', import.meta.url);
  const worker = new Worker(url);
  const waiting: [resolve: (value: string) => void, reject: (error: UpfrontError) => void][] = [];
  const failed = (detail: string) => new UpfrontError('hashing_failed', detail);
  worker.onmessage = ({ data }: MessageEvent<HashReply>) => {
    const [resolve, reject] = waiting.shift()!;
    if (data.error === undefined) resolve(data.value);
    else reject(failed(data.error));
  };
  worker.onerror = (event) => {
    event.preventDefault();
    for (const [, reject] of waiting.splice(0)) reject(failed(`${String(url)} did not load: serve hash-worker.js there, or set workerUrl.`));
  };
  const call = (request: HashRequest) =>
    new Promise<string>((resolve, reject) => {
      waiting.push([resolve, reject]);
      worker.postMessage(request);
    });
  return {
    part: (bytes) => call({ type: 'part', bytes }),
    finish: () => call({ type: 'finish' }),
    fingerprint: (bytes, name) => call({ type: 'fingerprint', bytes, name }),
    close: () => worker.terminate(),
  };
};
