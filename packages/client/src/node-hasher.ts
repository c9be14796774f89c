/**
 * Hashing in Node (and Bun, Deno) with node:crypto. Large parts are hashed in a worker thread, so a big
 * upload hashes on one core while it sends on another instead of taking turns on the main thread (MD5
 * alone hashes under 1 GB/s). A file opened with `fileFromPath` (node-file.ts) is read by the worker
 * itself, into one buffer it keeps: nothing is allocated or copied per part. Other Blobs' parts are read
 * here (Node 20 cannot read a file-backed Blob inside a worker) and their bytes moved to the worker, not
 * copied; at most two are held. Small files are hashed here: starting a worker costs more than hashing them.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import { aborted, UpfrontError } from './errors.ts';
import { fingerprintOf } from './fingerprint.ts';
import type { CreateHasher } from './hashing.ts';
import { DiskFile, fileChanged } from './node-file.ts';

/** The first part's size from which an upload is hashed in a worker. */
const WORKER_FROM = 4 * 1024 * 1024;

/** A part of a file on disk, read where it is hashed. */
interface FilePart {
  path: string;
  start: number;
  size: number;
}

interface Digests {
  /** The part's base64 MD5; the bytes also go into the running SHA-256. */
  part(bytes: Uint8Array): string;
  /** Reads the part from disk (into a buffer kept for the next) and hashes it; null if the file ended early. */
  file(part: FilePart): string | null;
  /** Hex SHA-256 of the parts since the last finish. */
  finish(): string;
}

/** The hashing itself, run here or, as source text, in the worker: so it must use nothing but its arguments. */
function digests(node: typeof crypto, fs: typeof import('node:fs')): Digests {
  let sha256 = node.createHash('sha256');
  let buffer = new Uint8Array(0);
  // Methods, not named functions: a test loader's helpers around named functions do not exist in the worker.
  return {
    part(bytes) {
      sha256.update(bytes);
      return node.createHash('md5').update(bytes).digest('base64');
    },
    file({ path, start, size }) {
      if (buffer.length < size) buffer = new Uint8Array(size);
      const fd = fs.openSync(path, 'r');
      try {
        for (let filled = 0, read; filled < size; filled += read) {
          read = fs.readSync(fd, buffer, filled, size - filled, start + filled);
          if (read === 0) return null;
        }
      } finally {
        fs.closeSync(fd);
      }
      return this.part(buffer.subarray(0, size));
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
  file(part: FilePart): Promise<string | null>;
  finish(): Promise<string>;
  close(): void;
}

function here(): Engine {
  const hashing = digests(crypto, fs);
  return { part: async (bytes) => hashing.part(bytes), file: async (part) => hashing.file(part), finish: async () => hashing.finish(), close: () => undefined };
}

/** A worker thread answering in the order asked; evaluated from source so bundlers need not find a file. */
function inWorker(): Engine {
  const worker = new Worker(
    `const hashing = (${digests.toString()})(require('node:crypto'), require('node:fs'));
     const { parentPort } = require('node:worker_threads');
     parentPort.on('message', (message) =>
       parentPort.postMessage(message === null ? hashing.finish() : message instanceof Uint8Array ? hashing.part(message) : hashing.file(message)));`,
    { eval: true },
  );
  const waiting: [resolve: (value: string | null) => void, reject: (error: Error) => void][] = [];
  worker.on('message', (value: string | null) => waiting.shift()![0](value));
  worker.on('error', (error) => {
    for (const [, reject] of waiting.splice(0)) reject(new UpfrontError('hashing_failed', `The hashing thread failed: ${error.message}`));
  });
  const call = (message: Uint8Array | FilePart | null) =>
    new Promise<string | null>((resolve, reject) => {
      waiting.push([resolve, reject]);
      worker.postMessage(message, message instanceof Uint8Array ? [message.buffer as ArrayBuffer] : []);
    });
  return {
    part: (bytes) => call(bytes) as Promise<string>,
    file: (part) => call(part),
    finish: () => call(null) as Promise<string>,
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
        const bytes = blob instanceof DiskFile ? undefined : new Uint8Array(await blob.arrayBuffer());
        await hashing;
        engine ??= start(blob.size);
        const md5 =
          blob instanceof DiskFile
            ? engine.file({ path: blob.path, start: blob.start, size: blob.size }).then((md5) => md5 ?? Promise.reject(fileChanged(blob.path)))
            : engine.part(bytes!);
        hashing = md5.catch(() => undefined);
        return { md5 };
      }).then(({ md5 }) => md5),
    finish: () => inTurn(async () => ({ sha256: (engine ??= here()).finish() })).then(({ sha256 }) => sha256),
    fingerprint: (file, name) =>
      fingerprintOf(file, name, async (pieces) => {
        const sha256 = crypto.createHash('sha256');
        for (const piece of pieces) sha256.update(new Uint8Array(await piece.arrayBuffer()));
        return sha256.digest('hex');
      }),
    close: () => {
      closed = true;
      engine?.close();
    },
  };
};
