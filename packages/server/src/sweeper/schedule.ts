/**
 * The sweeper inside the server: a first sweep shortly after start (a restarted server heals what its
 * crash left without waiting an interval), then one every `intervalSeconds` (0: never). One sweep at a
 * time per process; a failed one is logged and the next tick tries again: it never takes the server down.
 */
import type { Logger } from '../http/logging.ts';
import type { Services } from '../services.ts';

const FIRST_RUN_MS = 5_000;

export function startSweeper(services: Services, log: Logger): { stop(): Promise<void> } {
  const everyMs = services.config.sweeper.intervalSeconds * 1000;
  if (everyMs === 0) return { stop: async () => undefined };
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    // Loaded on the first sweep, not at start-up.
    running = import('./sweep.ts').then(({ sweep }) => sweep(services)).then(
      (report) => {
        const did = Object.values(report.counts).some((count) => count > 0);
        log[did ? 'info' : 'debug']({ sweep: report }, 'sweep done');
      },
      (error: unknown) => log.error({ err: error }, 'sweep failed'),
    );
    void running.then(() => {
      if (!stopped) timer = setTimeout(tick, everyMs).unref();
    });
  };
  timer = setTimeout(tick, Math.min(everyMs, FIRST_RUN_MS)).unref();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
