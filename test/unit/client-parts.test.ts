/**
 * Part planning: streams cut into parts of the upload's part size (in Node part by part, in browsers
 * through a Blob), whatever the chunks; a stream of another length than declared refused; and which
 * parts storage already holds (same length and MD5) so a resumed upload skips them.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { partsOf as browserPartsOf } from '../../packages/client/src/browser-stream.ts';
import { partsOf as nodePartsOf } from '../../packages/client/src/node-stream.ts';
import { etagOf, holds } from '../../packages/client/src/parts.ts';
import type { PartsOf } from '../../packages/client/src/source.ts';

const bytes = (length: number) => Uint8Array.from({ length }, (_, i) => (i * 31 + 7) % 251);

/** The bytes handed out in chunks of the given lengths, as a web stream or a plain async iterable. */
function chunked(data: Uint8Array, lengths: number[], web: boolean): ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for (let offset = 0, i = 0; offset < data.length; i++) {
    const length = lengths[i % lengths.length]!;
    chunks.push(data.slice(offset, offset + length));
    offset += length;
  }
  if (web) return new ReadableStream({ pull: (controller) => (chunks.length ? controller.enqueue(chunks.shift()!) : controller.close()) });
  return (async function* () {
    yield* chunks;
  })();
}

async function collect(parts: AsyncIterable<Blob>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const part of parts) out.push(new Uint8Array(await part.arrayBuffer()));
  return out;
}

for (const [platform, partsOf, webOnly] of [['Node', nodePartsOf, false], ['browser', browserPartsOf, true]] as [string, PartsOf, boolean][]) {
  describe(`streams cut into parts (${platform})`, () => {
    const data = bytes(23);
    const chunkings = [[1], [5], [3, 9], [23], [7, 1, 13], [30]];
    for (const web of webOnly ? [true] : [true, false]) {
      it(`gives parts of the part size, the last one shorter, whatever the chunks (${web ? 'ReadableStream' : 'async iterable'})`, async () => {
        for (const lengths of chunkings) {
          const parts = await collect(partsOf({ stream: chunked(data, lengths, web), size: 23 }, 5));
          assert.deepEqual(parts.map((part) => part.length), [5, 5, 5, 5, 3], `chunks of ${lengths}`);
          assert.deepEqual(Buffer.concat(parts), Buffer.from(data), `chunks of ${lengths}`);
        }
        const whole = await collect(partsOf({ stream: chunked(data, [4], web), size: 23 }, 23));
        assert.deepEqual(whole.map((part) => part.length), [23]);
      });
    }

    it('refuses a stream shorter or longer than declared', async () => {
      await assert.rejects(collect(partsOf({ stream: chunked(data, [6], true), size: 24 }, 5)), { code: 'size_mismatch' });
      await assert.rejects(collect(partsOf({ stream: chunked(data, [6], true), size: 22 }, 5)), { code: 'size_mismatch' });
    });
  });
}

describe('streams in Node', () => {
  it('are read only as far as the parts taken so far need', async () => {
    let read = 0;
    const stream = (async function* () {
      for (let i = 0; i < 100; i++) {
        read += 10;
        yield bytes(10);
      }
    })();
    const parts = nodePartsOf({ stream, size: 1000 }, 100)[Symbol.asyncIterator]();
    await parts.next();
    await parts.next();
    assert.ok(read <= 200, `read ${read} bytes for two parts of 100`);
  });
});

describe('parts storage already holds', () => {
  const md5 = (data: Uint8Array) => createHash('md5').update(data).digest('base64');

  it('S3 ETags are the hex MD5 in quotes', () => {
    assert.equal(etagOf(md5(new Uint8Array())), '"d41d8cd98f00b204e9800998ecf8427e"');
    const data = bytes(1000);
    assert.equal(etagOf(md5(data)), `"${createHash('md5').update(data).digest('hex')}"`);
  });

  it('a stored part of the same length and MD5 is kept; another one is sent again', () => {
    const data = bytes(100);
    const stored = { partNumber: 3, size: 100, etag: etagOf(md5(data)) };
    assert.ok(holds(stored, 100, md5(data)));
    assert.ok(holds({ ...stored, etag: stored.etag.toUpperCase().replace(/^"|"$/g, '"') }, 100, md5(data)), 'ETag case does not matter');
    assert.ok(!holds(stored, 100, md5(bytes(99).subarray(0, 99))), 'other bytes');
    assert.ok(!holds(stored, 99, md5(data)), 'another length');
    assert.ok(!holds(undefined, 100, md5(data)), 'not stored');
    assert.ok(holds(stored, 100, undefined), 'without checksums the length decides');
  });
});
