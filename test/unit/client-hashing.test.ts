/**
 * Checksums and fingerprints: each part's MD5 and the file's SHA-256 over all parts in order (however
 * many parts are queued at once), the same answers from the browser's hash-wasm worker as from
 * node:crypto, and a fingerprint that finds the same file again (name, size, date, first and last MiB)
 * without reading the rest.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { fingerprintOf } from '../../packages/client/src/fingerprint.ts';
import type { HashReply, HashRequest } from '../../packages/client/src/hashing.ts';
import { createHasher } from '../../packages/client/src/node-hasher.ts';

const MiB = 1024 * 1024;
const md5 = (data: Uint8Array) => createHash('md5').update(data).digest('base64');
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

function pseudoRandom(length: number, seed: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const data = pseudoRandom(3 * MiB + 12345, 7);
const partSize = MiB;
const slices = (file: Blob) => Array.from({ length: Math.ceil(file.size / partSize) }, (_, i) => file.slice(i * partSize, (i + 1) * partSize));

describe('hashing in Node', () => {
  it('gives each part\'s MD5 and the SHA-256 of all parts in file order, with every part queued at once', async () => {
    const hasher = createHasher()!;
    const file = new Blob([data]);
    const md5s = await Promise.all(slices(file).map((part) => hasher.part(part)));
    assert.deepEqual(md5s, slices(file).map((_, i) => md5(data.subarray(i * partSize, (i + 1) * partSize))));
    assert.equal(await hasher.finish(), sha256(data));
    // finish starts a new running hash: the whole file as one part gives its MD5, then its SHA-256.
    assert.equal(await hasher.part(file), md5(data));
    assert.equal(await hasher.finish(), sha256(data));
  });

  it('reads nothing more once closed', async () => {
    const hasher = createHasher()!;
    const first = hasher.part(new Blob([data]));
    const second = hasher.part(new Blob([data]));
    hasher.close();
    await first.catch(() => undefined);
    await assert.rejects(second, { code: 'aborted' });
  });
});

describe('the browser hashing worker (hash-worker.ts, hash-wasm) run in Node', () => {
  const replies: HashReply[] = [];
  let ask: (request: HashRequest) => Promise<HashReply>;

  before(async () => {
    // The worker talks to its global scope: onmessage in, postMessage out.
    const scope = globalThis as unknown as { onmessage: (event: { data: HashRequest }) => void; postMessage: (reply: HashReply) => void };
    let answered: ((reply: HashReply) => void)[] = [];
    scope.postMessage = (reply) => {
      replies.push(reply);
      answered.shift()?.(reply);
    };
    await import('../../packages/client/src/hash-worker.ts');
    ask = (request) =>
      new Promise((resolve) => {
        answered = [...answered, resolve];
        scope.onmessage({ data: request });
      });
  });

  it('answers like node:crypto: part MD5s, the running SHA-256, the fingerprint', async () => {
    const file = new File([data], 'movie.mp4', { lastModified: 1_700_000_000_000 });
    const parts = await Promise.all(slices(file).map((bytes) => ask({ type: 'part', bytes })));
    assert.deepEqual(parts, slices(file).map((_, i) => ({ value: md5(data.subarray(i * partSize, (i + 1) * partSize)) })));
    assert.deepEqual(await ask({ type: 'finish' }), { value: sha256(data) });
    const node = createHasher()!;
    assert.deepEqual(await ask({ type: 'fingerprint', bytes: file, name: 'movie.mp4' }), { value: await node.fingerprint(file, 'movie.mp4') });
  });

  it('reports a file it cannot read', async () => {
    const unreadable = new Blob([data]);
    Object.defineProperty(unreadable, 'slice', { value: () => ({ arrayBuffer: () => Promise.reject(new Error('NotReadableError: the file changed')) }) });
    const reply = await ask({ type: 'part', bytes: unreadable });
    assert.match(reply.error ?? '', /the file changed/);
  });
});

describe('fingerprint', () => {
  const nodeSha256 = async (pieces: Blob[]) => createHash('sha256').update(new Uint8Array(await new Blob(pieces).arrayBuffer())).digest('hex');
  const big = pseudoRandom(5 * MiB, 11);
  const fingerprint = (bytes: Uint8Array<ArrayBuffer>, name = 'a.bin', lastModified = 1000) => fingerprintOf(new File([bytes], name, { lastModified }), name, nodeSha256);
  const changed = (at: number) => {
    const copy = big.slice();
    copy[at] = copy[at]! ^ 1;
    return copy;
  };

  it('is the same for the same file, and short enough for the API (≤ 200 characters)', async () => {
    const value = await fingerprint(big);
    assert.equal(await fingerprint(big.slice()), value);
    assert.ok(value.length <= 200, value);
    assert.match(value, new RegExp(`^v1-${big.length}-1000-[0-9a-f]{32}$`));
  });

  it('changes with the name, the date, the size, the first MiB and the last MiB', async () => {
    const value = await fingerprint(big);
    const others = await Promise.all([
      fingerprint(big, 'b.bin'),
      fingerprint(big, 'a.bin', 2000),
      fingerprint(big.subarray(0, big.length - 1)),
      fingerprint(changed(10)),
      fingerprint(changed(big.length - 10)),
    ]);
    for (const other of others) assert.notEqual(other, value);
  });

  it('reads only the first and last MiB (a change in the middle goes unseen: size, date and name cover it)', async () => {
    assert.equal(await fingerprint(changed(2 * MiB)), await fingerprint(big));
  });

  it('a plain Blob has no date; a file smaller than 2 MiB is read whole, once', async () => {
    const blob = new Blob([big.subarray(0, 100)]);
    let sampled = 0;
    const value = await fingerprintOf(blob, 'x', async (pieces) => {
      sampled = pieces.reduce((sum, piece) => sum + piece.size, 0);
      return nodeSha256(pieces);
    });
    assert.match(value, /^v1-100-0-/);
    assert.equal(sampled, 100 + 2, 'the name, a newline and the 100 bytes');
  });
});
