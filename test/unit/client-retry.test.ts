/**
 * The client's retry rules: exponential backoff with full jitter (capped), which failures are retried,
 * Retry-After honoured (seconds or a date), retries counted and given up, and a browser that says it is
 * offline waited for until it is online again.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it, mock } from 'node:test';
import { aborted, errorFromApi, errorFromStorage, parseRetryAfter, storageUnreachable, UpfrontError } from '../../packages/client/src/errors.ts';
import { backoff, isRetryable, retrying, retryWait } from '../../packages/client/src/retry.ts';
import { delay } from '../../packages/client/src/wait.ts';

/** Lets every promise that can settle now settle (setImmediate is not among the mocked timers). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('backoff', () => {
  it('waits a random share (full jitter) of retryDelay doubled per attempt', () => {
    assert.equal(backoff(0, 500, () => 0), 0);
    assert.equal(backoff(0, 500, () => 1), 500);
    assert.equal(backoff(1, 500, () => 1), 1000);
    assert.equal(backoff(3, 500, () => 0.5), 2000);
  });

  it('never waits longer than 30 s, however many attempts failed', () => {
    assert.equal(backoff(12, 500, () => 1), 30_000);
    assert.equal(backoff(60, 500, () => 1), 30_000);
  });

  it('spreads the waits over the whole range, from 0 up to the cap of the attempt', () => {
    const waits = Array.from({ length: 300 }, () => backoff(4, 100));
    assert.ok(waits.every((wait) => wait >= 0 && wait <= 1600), String(waits));
    // Equal jitter (half fixed, half random) would never go below 800; full jitter does, often.
    assert.ok(Math.min(...waits) < 400, `shortest ${Math.min(...waits)}`);
    assert.ok(Math.max(...waits) > 1200, `longest ${Math.max(...waits)}`);
  });
});

describe('Retry-After', () => {
  it('reads seconds and HTTP dates, in milliseconds from now', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('3', now), 3000);
    assert.equal(parseRetryAfter(' 0 ', now), 0);
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now), 5000);
    assert.equal(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now), 0, 'a date in the past: at once');
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(null, now), undefined);
  });

  it('is kept with API and storage errors, and wins over the backoff', () => {
    const api = errorFromApi(429, JSON.stringify({ code: 'rate_limited', detail: 'Slow down.' }), '2');
    assert.equal(api.retryAfter, 2000);
    const storage = errorFromStorage(503, '<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>', '1');
    assert.equal(storage.code, 'rate_limited');
    assert.equal(storage.retryAfter, 1000);
    assert.equal(retryWait(api, 5, { retries: 9, retryDelay: 500 }), 2000);
    assert.equal(errorFromApi(503, '').retryAfter, undefined);
    const wait = retryWait(errorFromApi(503, ''), 2, { retries: 9, retryDelay: 100 });
    assert.ok(wait >= 0 && wait <= 400, String(wait));
  });
});

describe('what is retried', () => {
  it('network errors, timeouts, rate limits and server errors', () => {
    assert.ok(isRetryable(storageUnreachable(new TypeError('fetch failed'))));
    for (const status of [408, 429, 500, 502, 503, 504]) assert.ok(isRetryable(errorFromApi(status, '')), String(status));
  });

  it('not refusals, conflicts, bad requests, aborts or foreign errors', () => {
    for (const status of [400, 401, 403, 404, 409, 410, 413, 422]) assert.ok(!isRetryable(errorFromApi(status, '')), String(status));
    assert.ok(!isRetryable(aborted()));
    assert.ok(!isRetryable(new TypeError('a bug')));
  });
});

describe('retrying', () => {
  afterEach(() => mock.timers.reset());
  const policy = { retries: 3, retryDelay: 1 };

  it('retries until the call succeeds', async () => {
    let calls = 0;
    const result = await retrying(async () => {
      if (++calls < 3) throw errorFromApi(503, '');
      return 'done';
    }, policy);
    assert.equal(result, 'done');
    assert.equal(calls, 3);
  });

  it('gives up after `retries` retries with the last error', async () => {
    let calls = 0;
    await assert.rejects(
      retrying(async () => {
        calls++;
        throw errorFromApi(502, '', null);
      }, policy),
      (error: UpfrontError) => error.status === 502,
    );
    assert.equal(calls, 4);
  });

  it('does not retry what will fail again', async () => {
    let calls = 0;
    await assert.rejects(
      retrying(async () => {
        calls++;
        throw errorFromApi(409, JSON.stringify({ code: 'upload_aborted', detail: 'Aborted.' }));
      }, policy),
      { code: 'upload_aborted' },
    );
    assert.equal(calls, 1);
  });

  it('waits as long as Retry-After says before the next attempt', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    let calls = 0;
    const done = retrying(async () => {
      if (++calls === 1) throw errorFromApi(429, '', '5');
      return calls;
    }, { retries: 1, retryDelay: 1 });
    await settle();
    mock.timers.tick(4999);
    await settle();
    assert.equal(calls, 1, 'not before 5 s');
    mock.timers.tick(1);
    await settle();
    assert.equal(await done, 2);
  });

  it('an abort during the wait ends it with `aborted`', async () => {
    const controller = new AbortController();
    const done = retrying(async () => {
      throw errorFromApi(503, '', '60');
    }, policy, controller.signal);
    await settle();
    controller.abort();
    await assert.rejects(done, { code: 'aborted' });
  });
});

describe('offline browsers', () => {
  const descriptors = ['navigator', 'addEventListener', 'removeEventListener'].map((name) => [name, Object.getOwnPropertyDescriptor(globalThis, name)] as const);
  afterEach(() => {
    for (const [name, descriptor] of descriptors) {
      if (descriptor) Object.defineProperty(globalThis, name, descriptor);
      else delete (globalThis as Record<string, unknown>)[name];
    }
  });

  it('wait for the online event after the backoff', async () => {
    const window = new EventTarget();
    const navigator = { onLine: false };
    Object.defineProperty(globalThis, 'navigator', { value: navigator, configurable: true });
    Object.assign(globalThis, { addEventListener: window.addEventListener.bind(window), removeEventListener: window.removeEventListener.bind(window) });
    let waited = false;
    const wait = delay(1, new AbortController().signal).then(() => (waited = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(waited, false, 'still offline: still waiting');
    navigator.onLine = true;
    window.dispatchEvent(new Event('online'));
    await wait;
    assert.equal(waited, true);
  });
});
