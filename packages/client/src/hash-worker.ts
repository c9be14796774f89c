/**
 * The browser's hashing worker (built on its own into dist/hash-worker.js with hash-wasm inside; the
 * client starts it only when an upload begins). Requests are handled one at a time, in the order they
 * came, so the running SHA-256 sees the parts in file order.
 */
import { createMD5, createSHA256, type IHasher } from 'hash-wasm';
import { fingerprintOf } from './fingerprint.ts';
import type { HashReply, HashRequest } from './hashing.ts';

/** The members of a dedicated worker's global scope used here (the DOM types describe a window). */
interface WorkerScope {
  onmessage: ((event: MessageEvent<HashRequest>) => void) | null;
  postMessage(message: HashReply): void;
}
const scope = globalThis as unknown as WorkerScope;

/** Bytes read per step: large enough that reading costs little next to hashing. */
const SLICE = 4 * 1024 * 1024;

const hashers = Promise.all([createMD5(), createSHA256(), createSHA256()]);

async function feed(bytes: Blob, ...hashes: IHasher[]): Promise<void> {
  for (let offset = 0; offset < bytes.size; offset += SLICE) {
    const slice = new Uint8Array(await bytes.slice(offset, offset + SLICE).arrayBuffer());
    for (const hash of hashes) hash.update(slice);
  }
}

const base64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

async function handle({ type, bytes = new Blob(), name = '' }: HashRequest): Promise<string> {
  const [md5, running, alone] = await hashers;
  if (type === 'part') {
    await feed(bytes, md5.init(), running);
    return base64(md5.digest('binary'));
  }
  if (type === 'finish') {
    const hex = running.digest('hex');
    running.init();
    return hex;
  }
  return fingerprintOf(bytes, name, async (pieces) => {
    alone.init();
    for (const piece of pieces) await feed(piece, alone);
    return alone.digest('hex');
  });
}

let queue: Promise<unknown> = Promise.resolve();
// One at a time, answered in the order asked (the client matches answers to requests by position).
scope.onmessage = ({ data }) => {
  queue = queue.then(() =>
    handle(data).then(
      (value) => scope.postMessage({ value }),
      (error: unknown) => scope.postMessage({ error: error instanceof Error ? error.message : String(error) }),
    ),
  );
};
