/**
 * Which failures are worth another attempt, and how long to wait before it: exponential backoff with
 * full jitter (a random wait up to retryDelay·2^attempt), so clients that failed together do not come
 * back together; a Retry-After the answer gave wins.
 */
import { UpfrontError } from './errors.ts';
import { delay } from './wait.ts';

export interface RetryPolicy {
  /** Attempts after the first. */
  retries: number;
  /** Milliseconds: the first retry waits up to this, each further one up to twice as long. */
  retryDelay: number;
}

/** A random wait up to retryDelay·2^attempt, and never longer than 30 s however many attempts failed. */
export function backoff(attempt: number, retryDelay: number, random = Math.random): number {
  return random() * Math.min(30_000, retryDelay * 2 ** attempt);
}

/** Network errors (status 0, not an abort), timeouts, rate limits and server errors may pass on their own. */
export function isRetryable(error: unknown): error is UpfrontError {
  return error instanceof UpfrontError && error.code !== 'aborted' && ([0, 408, 429].includes(error.status) || error.status >= 500);
}

/** The wait before retry number `attempt + 1`. */
export function retryWait(error: UpfrontError, attempt: number, policy: RetryPolicy): number {
  return error.retryAfter ?? backoff(attempt, policy.retryDelay);
}

/** Runs `run` until it succeeds, fails for good, or the retries are spent. */
export async function retrying<T>(run: () => Promise<T>, policy: RetryPolicy, signal?: AbortSignal): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= policy.retries || !isRetryable(error)) throw error;
      await delay(retryWait(error, attempt, policy), signal);
    }
  }
}
