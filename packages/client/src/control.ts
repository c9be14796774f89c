/**
 * Pause, resume and stop of one upload. Storage requests run under `run`, which aborts at a pause
 * (requests in flight are cut and sent again after resume) and at a stop; API calls run under
 * `signal`, which aborts only at a stop.
 */
import { aborted } from './errors.ts';

export interface Control {
  /** Aborts when the upload stops for good: cancel, the caller's signal, or a failure. */
  readonly signal: AbortSignal;
  /** Aborts at a pause too; a new one after each resume. */
  readonly run: AbortSignal;
  /** Resolves at once when running, after resume() when paused; rejects with `aborted` once stopped. */
  ready(): Promise<void>;
  pause(): void;
  resume(): void;
  stop(): void;
}

export function createControl(signal?: AbortSignal): Control {
  const stopper = new AbortController();
  let runner = new AbortController();
  let paused: { promise: Promise<void>; resume: () => void } | undefined;
  const stop = () => {
    stopper.abort();
    runner.abort();
    paused?.resume();
    paused = undefined;
  };
  if (signal?.aborted) stop();
  else signal?.addEventListener('abort', stop, { once: true });
  return {
    signal: stopper.signal,
    get run() {
      return runner.signal;
    },
    async ready() {
      while (paused) await paused.promise;
      if (stopper.signal.aborted) throw aborted();
    },
    pause() {
      if (paused || stopper.signal.aborted) return;
      let resume!: () => void;
      paused = { promise: new Promise((resolve) => (resume = resolve)), resume };
      runner.abort();
    },
    resume() {
      if (!paused) return;
      runner = new AbortController();
      paused.resume();
      paused = undefined;
    },
    stop,
  };
}
