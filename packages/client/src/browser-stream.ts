/**
 * Streams in browsers: gathered into a Blob first (Response reads any ReadableStream), then cut like a
 * file. Streams are rare in pages; reading them part by part is left to Node, which keeps this build small.
 */
import { sizeMismatch } from './errors.ts';
import type { PartsOf } from './source.ts';

export const partsOf: PartsOf = async function* ({ stream, size }, partSize) {
  const blob = await new Response(stream as ReadableStream<Uint8Array>).blob();
  if (blob.size !== size) throw sizeMismatch(blob.size, size);
  for (let offset = 0; offset < size; offset += partSize) yield blob.slice(offset, offset + partSize);
};
