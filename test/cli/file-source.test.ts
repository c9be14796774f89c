/**
 * The CLI's file source: a Blob over the file while Node reports its size right; past 4 GiB, where
 * `fs.openAsBlob` reports the size modulo 4 GiB (nodejs/node#52585), a stream of the real size with a
 * fingerprint that finds the same file again. The big file is sparse: nothing is written or uploaded.
 */
import assert from 'node:assert/strict';
import { mkdtemp, open, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openFileSource } from '../../packages/cli/src/file-source.ts';

const BIG = 4 * 1024 ** 3 + 4096;

describe('CLI file source', () => {
  let dir: string;
  const sparse = async (name: string, size: number, head: string) => {
    const path = join(dir, name);
    const file = await open(path, 'w');
    await file.write(head, 0);
    await file.truncate(size);
    await file.close();
    return path;
  };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'upfront-file-source-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('a small file is a Blob of its size', async () => {
    const path = await sparse('small.zip', 5000, 'PK');
    const { source, fingerprint } = await openFileSource(path, 5000, 'application/zip');
    assert.ok(source instanceof Blob);
    assert.equal(source.size, 5000);
    assert.equal(source.type, 'application/zip');
    assert.equal(fingerprint, undefined, 'the client fingerprints Blobs itself');
  });

  it('a file over 4 GiB is a stream of its real size, with a fingerprint', async () => {
    const path = await sparse('big.zip', BIG, 'PK');
    const { source, fingerprint } = await openFileSource(path, BIG, 'application/zip');
    assert.ok(!(source instanceof Blob), 'not a Blob: Node would report the wrong size');
    assert.equal(source.size, BIG);
    assert.match(fingerprint ?? '', new RegExp(`^cli-v1-${BIG}-\\d+-[0-9a-f]{32}$`));
    assert.equal((await openFileSource(path, BIG, 'application/zip')).fingerprint, fingerprint, 'the same file, the same fingerprint');
    // Another first MiB, or another date: another file.
    const changed = await sparse('big.zip', BIG, 'PX');
    assert.notEqual((await openFileSource(changed, BIG, 'application/zip')).fingerprint, fingerprint);
    await utimes(changed, new Date(2020, 1, 1), new Date(2020, 1, 1));
    const dated = (await openFileSource(changed, BIG, 'application/zip')).fingerprint;
    assert.notEqual(dated, fingerprint);
    assert.match(dated ?? '', /-1580\d+-/);
  });
});
