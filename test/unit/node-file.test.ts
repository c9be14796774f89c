/**
 * Files read by path in Node (`fileFromPath`): the same bytes as a Blob of the file for every slice,
 * the real size past 4 GiB (where `fs.openAsBlob` reports it modulo 4 GiB, nodejs/node#52585), a
 * clear error when the file shrinks under the upload, and hashing in the worker, which reads such
 * files itself, equal to node:crypto over the same bytes. Big files are sparse: nothing is written.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fingerprintOf } from '../../packages/client/src/fingerprint.ts';
import { createHasher } from '../../packages/client/src/node-hasher.ts';
import { fileFromPath } from '../../packages/client/src/node-file.ts';
import { UpfrontError } from '../../packages/client/src/errors.ts';

const MiB = 1024 * 1024;
const md5 = (data: Uint8Array) => createHash('md5').update(data).digest('base64');
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
const bytesOf = async (blob: Blob) => new Uint8Array(await blob.arrayBuffer());
const streamed = async (blob: Blob) => new Uint8Array(await new Response(blob.stream()).arrayBuffer());

describe('fileFromPath', () => {
  let dir: string;
  let path: string;
  const data = randomBytes(3 * MiB + 777);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'upfront-node-file-'));
    path = join(dir, 'data.bin');
    await writeFile(path, data);
    await utimes(path, new Date(1_700_000_000_000), new Date(1_700_000_000_000));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('is a File named after the path, dated by its modification time, with its type and size', async () => {
    const file = await fileFromPath(path, { type: 'application/octet-stream' });
    assert.ok(file instanceof File);
    assert.deepEqual([file.name, file.size, file.type, file.lastModified], ['data.bin', data.length, 'application/octet-stream', 1_700_000_000_000]);
  });

  it('every slice holds the bytes a Blob of the file holds, read whole, streamed or as text', async () => {
    const file = await fileFromPath(path);
    const blob = new Blob([data]);
    const n = data.length;
    const cases: [number?, number?][] = [[], [0, 10], [5, 5], [10, 5], [-100], [-100, -10], [n - 3, n + 50], [n + 1], [-n - 5, 3], [MiB - 1, 2 * MiB + 1], [1, -1]];
    for (const [start, end] of cases) {
      const expected = await bytesOf(blob.slice(start, end));
      const slice = file.slice(start, end);
      assert.equal(slice.size, expected.length, `slice(${start}, ${end}).size`);
      assert.deepEqual(await bytesOf(slice), expected, `slice(${start}, ${end}) read whole`);
      assert.deepEqual(await streamed(slice), expected, `slice(${start}, ${end}) streamed`);
    }
    // Slices of slices count from the slice.
    assert.deepEqual(await bytesOf(file.slice(MiB).slice(10, 20)), new Uint8Array(data.subarray(MiB + 10, MiB + 20)));
    assert.equal(await file.slice(0, 50).text(), new TextDecoder().decode(data.subarray(0, 50)));
  });

  it('has the real size of a file over 4 GiB, and reads its end', async () => {
    const big = join(dir, 'big.bin');
    const size = 4 * 1024 ** 3 + 4096;
    const handle = await open(big, 'w');
    await handle.truncate(size);
    await handle.write('the end', size - 7);
    await handle.close();
    const file = await fileFromPath(big);
    assert.equal(file.size, size);
    assert.equal(await file.slice(-7).text(), 'the end');
  });

  it('a file that became shorter is reported as file_changed, read whole or streamed', async () => {
    const short = join(dir, 'short.bin');
    await writeFile(short, data);
    const file = await fileFromPath(short);
    await truncate(short, 1000);
    for (const read of [bytesOf, streamed]) {
      await assert.rejects(read(file), (error: unknown) => error instanceof UpfrontError && error.code === 'file_changed' && error.detail.includes(short));
    }
  });

  it('a directory, or a path that does not exist, is refused', async () => {
    await assert.rejects(fileFromPath(dir), (error: unknown) => error instanceof UpfrontError && error.code === 'invalid_file');
    await assert.rejects(fileFromPath(join(dir, 'missing')), /ENOENT/);
  });

  it('has the fingerprint of a File with the same name, date and bytes', async () => {
    const file = await fileFromPath(path);
    const sha = async (pieces: Blob[]) => {
      const hash = createHash('sha256');
      for (const piece of pieces) hash.update(await bytesOf(piece));
      return hash.digest('hex');
    };
    const same = new File([data], 'data.bin', { lastModified: 1_700_000_000_000 });
    assert.equal(await fingerprintOf(file, file.name, sha), await fingerprintOf(same, same.name, sha));
    assert.equal(await createHasher()!.fingerprint(file, file.name), await fingerprintOf(same, same.name, sha));
  });
});

describe('hashing a file read by path', () => {
  let dir: string;
  const partSize = 5 * MiB;
  const data = randomBytes(4 * partSize + 12345);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'upfront-node-file-hash-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const parts = (file: Blob) => Array.from({ length: Math.ceil(file.size / partSize) }, (_, i) => file.slice(i * partSize, (i + 1) * partSize));

  it('the worker reads the parts itself: MD5s and SHA-256 equal node:crypto, and a Blob of the same bytes', async () => {
    const path = join(dir, 'parts.bin');
    await writeFile(path, data);
    const expected = parts(new Blob([data])).map((_, i) => md5(data.subarray(i * partSize, (i + 1) * partSize)));
    for (const file of [await fileFromPath(path), new Blob([data])]) {
      const hasher = createHasher()!;
      try {
        assert.deepEqual(await Promise.all(parts(file).map((part) => hasher.part(part))), expected);
        assert.equal(await hasher.finish(), sha256(data));
      } finally {
        hasher.close();
      }
    }
  });

  it('a file that became shorter fails its part with file_changed', async () => {
    const path = join(dir, 'shrinks.bin');
    await writeFile(path, data);
    const file = await fileFromPath(path);
    await truncate(path, partSize + 10);
    const hasher = createHasher()!;
    try {
      const [first, second, ...rest] = parts(file).map((part) => hasher.part(part));
      for (const part of rest) part.catch(() => undefined); // not hashed: the hasher closes first
      assert.equal(await first, md5(data.subarray(0, partSize)));
      await assert.rejects(second!, (error: unknown) => error instanceof UpfrontError && error.code === 'file_changed');
    } finally {
      hasher.close();
    }
  });
});
