/**
 * At most `max` holders at once; the others wait in order. A place freed goes straight to the next in
 * line. Each holder calls the release it got exactly once. A waiter whose upload is paused or stopped
 * meanwhile still takes its place when its turn comes, sees its signal aborted at once, and gives it back.
 */
export type Acquire = () => Promise<() => void>;

export function limiter(max: number): Acquire {
  let active = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else active--;
  };
  return async () => {
    if (active < max) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    return release;
  };
}
