/**
 * Hashing in Node (and Bun, Deno) with node:crypto. Large parts are hashed in a worker thread, so a big
 * upload hashes on one core while it sends on another instead of taking turns on the main thread (MD5
 * alone hashes under 1 GB/s). Parts are read on the main thread, because Node 20 cannot read a file-backed Blob
 * inside a worker, and their bytes are moved to the worker, not copied; at most two parts are held.
 * Small files are hashed here: starting a worker costs more than hashing them.
 */
import * as crypto from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { aborted, UpfrontError } from './errors.ts';
import { fingerprintOf } from './fingerprint.ts';
import type { CreateHasher } from './hashing.ts';

/** The first part's size from which an upload is hashed in a worker. */
const WORKER_FROM = 4 * 1024 * 1024;

interface Digests {
  /** The part's base64 MD5; the bytes also go into the running SHA-256. */
  part(bytes: Uint8Array): string;
  /** Hex SHA-256 of the parts since the last finish. */
  finish(): string;
}

/** The hashing itself, run here or, as source text, in the worker: so it must use nothing but its argument. */
function digests(node: typeof crypto): Digests {
  let sha256 = node.createHash('sha256');
  return {
    part(bytes) {
      sha256.update(bytes);
      return node.createHash('md5').update(bytes).digest('base64');
    },
    finish() {
      const hex = sha256.digest('hex');
      sha256 = node.createHash('sha256');
      return hex;
    },
  };
}

interface Engine {
  part(bytes: Uint8Array): Promise<string>;
  finish(): Promise<string>;
  close(): void;
}

function here(): Engine {
  const hashing = digests(crypto);
  return { part: async (bytes) => hashing.part(bytes), finish: async () => hashing.finish(), close: () => undefined };
}

/** A worker thread answering in the order asked; evaluated from source so bundlers need not find a file. */
function inWorker(): Engine {
  const worker = new Worker(
    `const hashing = (${digests.toString()})(require('node:crypto'));
     const { parentPort } = require('node:worker_threads');
     parentPort.on('message', (bytes) => parentPort.postMessage(bytes ? hashing.part(bytes) : hashing.finish()));`,
    { eval: true },
  );
  const waiting: [resolve: (value: string) => void, reject: (error: Error) => void][] = [];
  worker.on('message', (value: string) => waiting.shift()![0](value));
  worker.on('error', (error) => {
    for (const [, reject] of waiting.splice(0)) reject(new UpfrontError('hashing_failed', `The hashing thread failed: ${error.message}`));
  });
  const call = (bytes: Uint8Array | null) =>
    new Promise<string>((resolve, reject) => {
      waiting.push([resolve, reject]);
      worker.postMessage(bytes, bytes ? [bytes.buffer as ArrayBuffer] : []);
    });
  return {
    part: (bytes) => call(bytes),
    finish: () => call(null),
    close: () => void worker.terminate(),
  };
}

export const createHasher: CreateHasher = () => {
  let engine: Engine | undefined;
  let hashing: Promise<unknown> = Promise.resolve();
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;
  // Strictly in turn, so the running SHA-256 sees the file in order; nothing more is read once closed.
  const inTurn = <T>(work: () => Promise<T>): Promise<T> => {
    const result = queue.then(() => {
      if (closed) throw aborted();
      return work();
    });
    queue = result.catch(() => undefined);
    return result;
  };
  const start = (size: number): Engine => {
    if (size < WORKER_FROM) return here();
    try {
      return inWorker();
    } catch {
      return here(); // a runtime without worker threads
    }
  };
  return {
    // The turn ends once the part is handed over, so the next part is read while this one is hashed.
    part: (blob) =>
      inTurn(async () => {
        const bytes = new Uint8Array(await blob.arrayBuffer());
        await hashing;
        engine ??= start(bytes.length);
        const md5 = engine.part(bytes);
        hashing = md5.catch(() => undefined);
        return { md5 };
      }).then(({ md5 }) => md5),
    finish: () => inTurn(async () => ({ sha256: (engine ??= here()).finish() })).then(({ sha256 }) => sha256),
    fingerprint: (file, name) =>
      fingerprintOf(file, name, async (sample) => crypto.createHash('sha256').update(new Uint8Array(await sample.arrayBuffer())).digest('hex')),
    close: () => {
      closed = true;
      engine?.close();
    },
  };
};
