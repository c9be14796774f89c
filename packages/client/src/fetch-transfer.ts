/**
 * Storage requests in Node: fetch, with the body streamed through a counter for progress and stall
 * detection, and Content-Length set by hand (storage takes no chunked uploads).
 */
import { aborted, errorFromStorage, storageUnreachable } from './errors.ts';
import { watchdog, type Transfer } from './transfer.ts';

export const transfer: Transfer = async ({ method, url, headers, body }, { fetch, signal, stallTimeout, onSent }) => {
  if (signal.aborted) throw aborted();
  const controller = new AbortController();
  const abort = () => controller.abort();
  // A stall aborts the request too; unlike the caller's abort, it is retried like a network error.
  const watch = watchdog(stallTimeout, abort);
  signal.addEventListener('abort', abort, { once: true });
  let settled = false;
  try {
    let init: RequestInit & { duplex?: 'half' } = { method, headers, body, signal: controller.signal };
    // A form (a POST policy upload) goes as it is: no progress, no stall detection.
    if (body instanceof Blob) {
      let sent = 0;
      const counted = body.stream().pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, output) {
            sent += chunk.byteLength;
            // fetch may go on pulling the body after the answer (an early 403) or an abort: that is not progress.
            if (!settled) {
              watch.kick();
              onSent(sent / body.size);
            }
            output.enqueue(chunk);
          },
        }),
      );
      init = { ...init, body: counted, duplex: 'half', headers: { ...headers, 'content-length': String(body.size) } };
      watch.kick();
    }
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, init);
      text = await response.text();
    } catch (error) {
      throw signal.aborted ? aborted() : storageUnreachable(error);
    }
    if (!response.ok) throw errorFromStorage(response.status, text, response.headers.get('retry-after'));
  } finally {
    settled = true;
    watch.stop();
    signal.removeEventListener('abort', abort);
  }
};
