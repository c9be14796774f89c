/** Streams in Node: read once, in order, cut into parts; only the part being gathered is held here. */
import { sizeMismatch } from './errors.ts';
import type { PartsOf } from './source.ts';

export const partsOf: PartsOf = async function* ({ stream, size }, partSize) {
  // Streams hand out views of plain ArrayBuffers; their type admits shared ones, which Blob would refuse.
  let part: BlobPart[] = [];
  let gathered = 0;
  let read = 0;
  for await (let chunk of stream as AsyncIterable<Uint8Array<ArrayBuffer>>) {
    read += chunk.byteLength;
    if (read > size) throw sizeMismatch(read, size);
    while (gathered + chunk.byteLength >= partSize) {
      const head = chunk.subarray(0, partSize - gathered);
      yield new Blob([...part, head]);
      part = [];
      gathered = 0;
      chunk = chunk.subarray(head.byteLength);
    }
    if (chunk.byteLength > 0) {
      part.push(chunk);
      gathered += chunk.byteLength;
    }
  }
  if (read < size) throw sizeMismatch(read, size);
  if (gathered > 0) yield new Blob(part);
};
