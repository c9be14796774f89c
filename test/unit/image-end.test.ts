/** The end-of-image check (processors/image-end.ts) on whole files and on the same bytes in pieces of any size. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { ImageEnd } from '../../packages/server/src/processors/image-end.ts';
import { makePng } from '../support/png.ts';

function problemOf(contentType: string, bytes: Uint8Array, pieceSize = bytes.length): string | undefined {
  const end = new ImageEnd(contentType);
  for (let at = 0; at < bytes.length; at += pieceSize) end.push(bytes.subarray(at, at + pieceSize));
  return end.problem();
}

const html = Buffer.from('<html><script>alert(1)</script></html>');

describe('ImageEnd', () => {
  const png = makePng({ width: 20, height: 10, minBytes: 3000 });
  for (const pieceSize of [1, 3, 7, 8, 13, 4096, png.length]) {
    it(`walks PNG chunks in pieces of ${pieceSize} bytes`, () => {
      assert.equal(problemOf('image/png', png, pieceSize), undefined);
      assert.match(problemOf('image/png', Buffer.concat([png, html]), pieceSize) ?? '', new RegExp(`has ${html.length} bytes after its IEND chunk`));
      assert.match(problemOf('image/png', png.subarray(0, png.length - 5), pieceSize) ?? '', /do not end with IEND/);
    });
  }

  it('finds the IEND that ends the chunks, not a forged one in the appended data', () => {
    // An "IEND" inside an ancillary chunk's data is data: the walk goes by lengths.
    const forged = Buffer.concat([png, html, png.subarray(png.length - 12)]);
    assert.match(problemOf('image/png', forged) ?? '', /bytes after its IEND chunk/);
  });

  it('checks the end markers of JPEG and GIF and the RIFF length of WebP', async () => {
    const base = sharp({ create: { width: 8, height: 8, channels: 3, background: 'green' } });
    for (const [type, bytes] of [
      ['image/jpeg', await base.clone().jpeg().toBuffer()],
      ['image/gif', await base.clone().gif().toBuffer()],
      ['image/webp', await base.clone().webp().toBuffer()],
    ] as const) {
      assert.equal(problemOf(type, bytes, 5), undefined, type);
      assert.notEqual(problemOf(type, Buffer.concat([bytes, html]), 5), undefined, `${type} with HTML appended`);
      assert.notEqual(problemOf(type, bytes.subarray(0, bytes.length - 3)), undefined, `${type} cut short`);
    }
  });
});
