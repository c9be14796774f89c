/**
 * Sends one body to storage until it lands: waits out pauses (a request cut by a pause is sent again,
 * not counted as a failure), retries what may pass with backoff, gets a fresh signature once after
 * storage refuses one (it may have expired), and explains what could not be sent.
 */
import type { UploadContext } from './context.ts';
import { explain } from './diagnose.ts';
import type { UpfrontError } from './errors.ts';
import { isRetryable, retryWait } from './retry.ts';
import { transfer } from '#platform';
import type { StorageRequest } from './transfer.ts';
import { delay } from './wait.ts';

/** A signed request for the body; `again` after a failure (a part is then signed anew). */
export type Signed = (again: boolean) => Promise<Omit<StorageRequest, 'body'>>;

export async function sendToStorage(ctx: UploadContext, key: number, body: Blob, signed: Signed, canResign: boolean): Promise<void> {
  const { control, settings } = ctx;
  for (let attempt = 0, failed = false, resigned = false; ; failed = true) {
    await control.ready();
    const request = { ...(await signed(failed)), body };
    const error = await attemptOnce(ctx, key, request);
    if (!error) return;
    if (error.code === 'aborted') {
      if (control.signal.aborted) throw error;
      continue; // paused
    }
    // A part URL may have expired between signing and sending: storage says 403.
    if (error.status === 403 && canResign && !resigned) {
      resigned = true;
      continue;
    }
    if (attempt >= settings.retries || !isRetryable(error)) throw await explain(ctx, request.url, error);
    await delay(retryWait(error, attempt++, settings), control.signal);
  }
}

async function attemptOnce({ acquire, control, fetch, progress, settings }: UploadContext, key: number, request: StorageRequest): Promise<UpfrontError | undefined> {
  const { size } = request.body;
  let release: (() => void) | undefined;
  try {
    release = await acquire();
    await transfer(request, { fetch, signal: control.run, stallTimeout: settings.stallTimeout, onSent: (share) => progress.sending(key, share * size) });
    progress.settled(key, size);
    return undefined;
  } catch (error) {
    progress.settled(key, 0);
    return error as UpfrontError; // transfers fail only with UpfrontErrors
  } finally {
    release?.();
  }
}
