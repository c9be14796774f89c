/** Hashing in Node (and Bun, Deno) with node:crypto, one part at a time in the order fed. */
import { createHash } from 'node:crypto';
import { aborted } from './errors.ts';
import { fingerprintOf } from './fingerprint.ts';
import type { CreateHasher } from './hashing.ts';

type Hash = ReturnType<typeof createHash>;

async function feed(bytes: Blob, ...hashes: Hash[]): Promise<void> {
  const reader = bytes.stream().getReader();
  for (let read; !(read = await reader.read()).done; ) for (const hash of hashes) hash.update(read.value);
}

export const createHasher: CreateHasher = () => {
  let sha256 = createHash('sha256');
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
  return {
    part: (bytes) =>
      inTurn(async () => {
        const md5 = createHash('md5');
        await feed(bytes, md5, sha256);
        return md5.digest('base64');
      }),
    finish: () =>
      inTurn(async () => {
        const hex = sha256.digest('hex');
        sha256 = createHash('sha256');
        return hex;
      }),
    fingerprint: (file, name) =>
      fingerprintOf(file, name, async (sample) => {
        const hash = createHash('sha256');
        await feed(sample, hash);
        return hash.digest('hex');
      }),
    close: () => {
      closed = true;
    },
  };
};
