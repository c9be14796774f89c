/**
 * Builds real PNG files in memory for upload tests: noisy RGB pixels (so the image data does not
 * compress away) and an optional private ancillary chunk that pads the file to a useful size.
 * Decoders skip the padding chunk; it sits after the image data so type sniffers see a plain PNG.
 */
import { randomBytes } from 'node:crypto';
import { crc32, deflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, crc]);
}

export interface PngOptions {
  width?: number;
  height?: number;
  /** Pad the file to at least this many bytes. */
  minBytes?: number;
}

export function makePng({ width = 64, height = 64, minBytes = 0 }: PngOptions = {}): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: truecolour RGB
  // compression, filter and interlace methods stay 0

  const rowLength = 1 + width * 3; // filter byte (0 = none) + RGB pixels
  const pixels = randomBytes(rowLength * height);
  for (let row = 0; row < height; row++) pixels[row * rowLength] = 0;

  const parts = [SIGNATURE, chunk('IHDR', header), chunk('IDAT', deflateSync(pixels))];
  const end = chunk('IEND', Buffer.alloc(0));
  const size = parts.reduce((sum, part) => sum + part.length, end.length);
  const padding = minBytes - size - 12; // 12 = length + type + crc of the padding chunk
  // "upFt": ancillary, private, safe to copy — every decoder ignores it.
  if (padding > 0) parts.push(chunk('upFt', randomBytes(padding)));
  parts.push(end);
  return Buffer.concat(parts);
}
