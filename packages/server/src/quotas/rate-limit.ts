/**
 * The per-user create-upload rate limit: a sliding window over two fixed one-minute windows counted
 * in the database (one atomic upsert per request), so every instance sharing it counts together.
 */
import { UpfrontError } from '../errors.ts';
import type { Services } from '../services.ts';

const WINDOW_MS = 60_000;

/** Counts this create; past the limit, 429 `rate_limited` with the seconds to wait in Retry-After. */
export async function checkCreateRate(services: Services, userId: string, now = Date.now()): Promise<void> {
  const limit = services.config.quotas.createsPerMinute;
  if (limit === 0) return;
  const windowStart = now - (now % WINDOW_MS);
  const { current, previous } = await services.store.countRequest(`create:${userId}`, windowStart, WINDOW_MS);
  // The previous window counts for the part of it still within the last minute.
  const elapsed = (now - windowStart) / WINDOW_MS;
  if (previous * (1 - elapsed) + current <= limit) return;
  const wait = current > limit ? WINDOW_MS - (now - windowStart) : WINDOW_MS * (1 - (limit - current) / previous) - (now - windowStart);
  const seconds = Math.max(1, Math.ceil(wait / 1000));
  services.metrics.uploadsRejected.inc({ route: '', reason: 'rate_limited' });
  throw new UpfrontError(
    'rate_limited',
    `You may start ${limit} uploads a minute; try again in ${seconds} second${seconds === 1 ? '' : 's'}.`,
    { status: 429, headers: { 'retry-after': String(seconds) } },
  );
}
