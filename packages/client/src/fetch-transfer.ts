/**
 * Storage requests in Node: fetch, with the body streamed through a counter for progress and stall
 * detection, and Content-Length set by hand (storage takes no chunked uploads). A POST policy form is
 * written out here rather than by FormData, so its file streams with progress too, and may be a file
 * read by path (node-file.ts), which FormData would see as empty.
 */
import { aborted, errorFromStorage, storageUnreachable, UpfrontError } from './errors.ts';
import { watchdog, type StorageRequest, type Transfer } from './transfer.ts';

export const transfer: Transfer = async (request, { fetch, signal, stallTimeout, onSent }) => {
  if (signal.aborted) throw aborted();
  const controller = new AbortController();
  const abort = () => controller.abort();
  // A stall aborts the request too; unlike the caller's abort, it is retried like a network error.
  const watch = watchdog(stallTimeout, abort);
  signal.addEventListener('abort', abort, { once: true });
  let settled = false;
  try {
    const { stream, size, headers } = requestBody(request);
    let sent = 0;
    const counted = stream().pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, output) {
          sent += chunk.byteLength;
          // fetch may go on pulling the body after the answer (an early 403) or an abort: that is not progress.
          if (!settled) {
            watch.kick();
            onSent(sent / size);
          }
          output.enqueue(chunk);
        },
      }),
    );
    const init: RequestInit & { duplex: 'half' } = {
      method: request.method,
      headers: { ...headers, 'content-length': String(size) },
      body: counted,
      duplex: 'half',
      signal: controller.signal,
    };
    watch.kick();
    let response: Response;
    let text: string;
    try {
      response = await fetch(request.url, init);
      text = await response.text();
    } catch (error) {
      if (signal.aborted) throw aborted();
      // The body could not be read (a file that changed): that, not the network, is the cause.
      const cause = (error as { cause?: unknown }).cause;
      throw cause instanceof UpfrontError ? cause : storageUnreachable(error);
    }
    if (!response.ok) throw errorFromStorage(response.status, text, response.headers.get('retry-after'));
  } finally {
    settled = true;
    watch.stop();
    signal.removeEventListener('abort', abort);
  }
};

/**
 * The bytes to send: the body itself, or a multipart/form-data form of the signed fields and then the
 * file; `stream` reads them (each call from the start).
 */
export function requestBody({ body, fields, headers }: StorageRequest): { stream: () => ReadableStream<Uint8Array>; size: number; headers: Record<string, string> } {
  if (!fields) return { stream: () => body.stream(), size: body.size, headers };
  const boundary = `----upfront-${crypto.randomUUID()}`;
  // As browsers write a form (HTML's rules): quotes and line breaks in names are percent-encoded.
  const quoted = (name: string) => `"${name.replace(/[\r\n"]/g, encodeURIComponent)}"`;
  const part = (name: string, extra = '') => `--${boundary}\r\nContent-Disposition: form-data; name=${quoted(name)}${extra}\r\n`;
  let head = '';
  for (const [name, value] of Object.entries(fields)) head += `${part(name)}\r\n${value}\r\n`;
  head += `${part('file', `; filename=${quoted((body as Partial<File>).name || 'blob')}`)}Content-Type: ${body.type || 'application/octet-stream'}\r\n\r\n`;
  const [before, after] = [head, `\r\n--${boundary}--\r\n`].map((text) => new TextEncoder().encode(text)) as [Uint8Array, Uint8Array];
  const stream = () => {
    const file = body.stream().getReader();
    let started = false;
    return new ReadableStream<Uint8Array>({
      async pull(output) {
        if (!started) {
          started = true;
          return output.enqueue(before);
        }
        const { done, value } = await file.read();
        if (!done) return output.enqueue(value);
        output.enqueue(after);
        output.close();
      },
      cancel: (reason) => file.cancel(reason),
    });
  };
  return { stream, size: before.length + body.size + after.length, headers: { ...headers, 'content-type': `multipart/form-data; boundary=${boundary}` } };
}
