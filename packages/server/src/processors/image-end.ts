/**
 * Decoders stop at the image's end and ignore what follows, so a PNG with an HTML page appended (a
 * polyglot: an image to the decoder, a page to a sniffing browser or another tool) decodes fine. This
 * checks, as the bytes stream past, that the file ends exactly where its image ends:
 * - PNG: the chunks, walked by their lengths from the signature, end with IEND and nothing after it;
 * - JPEG: the last bytes are the EOI marker (FF D9) (also refusing the video some phones append);
 * - GIF: the last byte is the trailer (3B);
 * - WebP: the RIFF header's length is the file's.
 */
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const IEND = 0x49454e44;

export class ImageEnd {
  #size = 0;
  /** The first 12 bytes (WebP's RIFF header) and the last 2. */
  #start: number[] = [];
  #last: number[] = [];
  /** PNG: where the next chunk header starts, the header bytes read so far, and where IEND ended. */
  #nextChunk = PNG_SIGNATURE.length;
  #header: number[] = [];
  #pngEnd: number | undefined;

  constructor(private readonly contentType: string) {}

  push(bytes: Uint8Array): void {
    if (this.contentType === 'image/png') this.#walkPng(bytes);
    for (let i = 0; i < bytes.length && this.#start.length < 12; i++) this.#start.push(bytes[i]!);
    this.#last = [...this.#last, ...bytes.subarray(Math.max(0, bytes.length - 2))].slice(-2);
    this.#size += bytes.length;
  }

  /** What is wrong with the end of the file, or undefined when it ends where its image does. */
  problem(): string | undefined {
    const [a, b] = this.#last;
    switch (this.contentType) {
      case 'image/png':
        if (this.#pngEnd === undefined) return 'its chunks do not end with IEND (it is cut short or malformed)';
        return this.#pngEnd === this.#size ? undefined : `it has ${this.#size - this.#pngEnd} bytes after its IEND chunk`;
      case 'image/jpeg':
        return a === 0xff && b === 0xd9 ? undefined : 'it does not end with the JPEG end-of-image marker (data follows the image, or it is cut short)';
      case 'image/gif':
        return b === 0x3b ? undefined : 'it does not end with the GIF trailer (data follows the image, or it is cut short)';
      case 'image/webp': {
        const riff = this.#start.length >= 8 ? new DataView(Uint8Array.from(this.#start).buffer).getUint32(4, true) + 8 : -1;
        // A RIFF chunk of odd length is padded to even.
        return riff === this.#size || riff + 1 === this.#size ? undefined : `its RIFF header says ${riff} bytes but it has ${this.#size}`;
      }
      default:
        return undefined;
    }
  }

  #walkPng(bytes: Uint8Array): void {
    if (this.#pngEnd !== undefined) return;
    const offset = this.#size;
    // The chunk headers in this piece: length (4 bytes) and type (4), then data and CRC skipped by length.
    for (let at = Math.max(this.#nextChunk - offset, 0); at < bytes.length; ) {
      const take = Math.min(8 - this.#header.length, bytes.length - at);
      this.#header.push(...bytes.subarray(at, at + take));
      at += take;
      if (this.#header.length < 8) return;
      const view = new DataView(Uint8Array.from(this.#header).buffer);
      const length = view.getUint32(0);
      const type = view.getUint32(4);
      this.#header = [];
      this.#nextChunk = offset + at + length + 4;
      if (type === IEND) {
        this.#pngEnd = this.#nextChunk;
        return;
      }
      at = this.#nextChunk - offset;
    }
  }
}
