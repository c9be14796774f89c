/**
 * Storage requests in Node: node:http(s). A file read by path (node-file.ts) is written from two buffers
 * used in turn, each refilled only once the socket has taken its bytes, so sending a large file costs
 * little more than the kernel's copies; fetch with a streamed body spent over a CPU-second per GiB on
 * web streams and fresh buffers. An app that gives its own `fetch` gets storage requests through it
 * instead (fetch-transfer.ts), so it sees (and may change) every request.
 */
import { open } from 'node:fs/promises';
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { aborted, errorFromStorage, storageUnreachable, UpfrontError } from './errors.ts';
import { requestBody } from './fetch-transfer.ts';
import { DiskFile, readFully } from './node-file.ts';
import { watchdog, type Transfer } from './transfer.ts';

/** Bytes per write: the socket gets a MiB at a time, and progress moves as often. */
const CHUNK = 1024 * 1024;

// Connections stay open between parts (the limiter bounds how many are in use).
const agents = { 'http:': new HttpAgent({ keepAlive: true }), 'https:': new HttpsAgent({ keepAlive: true }) };

export const transfer: Transfer = async (request, { signal, stallTimeout, onSent }) => {
  if (signal.aborted) throw aborted();
  const url = new URL(request.url);
  const body = requestBody(request);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const req = send(url, { method: request.method, headers: { ...body.headers, 'content-length': String(body.size) }, agent: agents[url.protocol as keyof typeof agents] });
  let failure: UpfrontError | undefined;
  // A stall, or the caller's abort, ends the request; a stall is retried like a network error.
  const cut = (error: UpfrontError) => {
    failure ??= error;
    req.destroy();
  };
  const watch = watchdog(stallTimeout, () => cut(storageUnreachable(new Error(`nothing sent or answered for ${stallTimeout} ms`))));
  const abort = () => cut(aborted());
  signal.addEventListener('abort', abort, { once: true });
  const answered = new Promise<IncomingMessage>((resolve, reject) => {
    req.on('response', resolve);
    req.on('error', reject);
    req.on('close', () => reject(new Error('the connection closed before an answer')));
  });
  answered.catch(() => undefined); // awaited below, after the body (or its failure)
  try {
    let sent = 0;
    watch.kick();
    await writeBody(req, request.body instanceof DiskFile && !request.fields ? request.body : undefined, body.stream, answered, (bytes) => {
      watch.kick();
      onSent((sent += bytes) / body.size);
    });
    const response = await answered;
    watch.kick();
    response.setEncoding('utf8');
    let text = '';
    for await (const chunk of response) text += chunk as string;
    const status = response.statusCode ?? 0;
    if (status >= 300) throw errorFromStorage(status, text, [response.headers['retry-after'] ?? null].flat()[0]!);
  } catch (error) {
    if (failure) throw failure;
    throw error instanceof UpfrontError ? error : storageUnreachable(error);
  } finally {
    watch.stop();
    signal.removeEventListener('abort', abort);
    // A body cut short (storage answered first, or it failed) leaves a connection that cannot carry another request.
    if (!req.writableFinished) req.destroy();
  }
};

/**
 * Writes the body until the socket has taken all of it, then ends the request. It stops early, without
 * an error, when storage answers first (a refusal does not wait for the rest: its answer is read next)
 * or the connection fails (the request's own error says so). A file read by path (`file`) goes from
 * disk in turns; anything else as its stream gives it. Only reading the file can fail here.
 */
async function writeBody(req: ClientRequest, file: DiskFile | undefined, stream: () => ReadableStream<Uint8Array>, answered: Promise<unknown>, sent: (bytes: number) => void): Promise<void> {
  let stopped = false;
  const ended = answered.then(
    () => false,
    () => false,
  );
  // Resolves once the socket has taken the bytes (counted as sent), or once they never will be.
  const write = (bytes: Uint8Array) =>
    Promise.race([new Promise<boolean>((resolve) => req.write(bytes, (error) => resolve(!error))), ended]).then((taken) => {
      if (taken) sent(bytes.byteLength);
      else stopped = true;
    });
  if (file) await writeFile(file, write, () => stopped);
  else {
    const reader = stream().getReader();
    try {
      for (let read; !stopped && !(read = await reader.read()).done; ) await write(read.value);
    } finally {
      void reader.cancel().catch(() => undefined);
    }
  }
  if (!stopped) req.end();
}

/** Two buffers in turn: one is being filled from disk while the socket takes the other. */
async function writeFile({ path, start, size }: DiskFile, write: (bytes: Uint8Array) => Promise<void>, stopped: () => boolean): Promise<void> {
  const file = await open(path);
  const buffers = [new Uint8Array(Math.min(CHUNK, size)), new Uint8Array(Math.min(CHUNK, size))];
  const taken: Promise<void>[] = [Promise.resolve(), Promise.resolve()];
  try {
    for (let offset = 0, turn = 0; offset < size && !stopped(); turn ^= 1) {
      await taken[turn];
      const bytes = await readFully(file, path, buffers[turn]!.subarray(0, Math.min(CHUNK, size - offset)), start + offset);
      offset += bytes.length;
      taken[turn] = write(bytes);
    }
    await Promise.all(taken);
  } finally {
    await file.close();
  }
}
