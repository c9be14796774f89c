/**
 * multipart/form-data (RFC 7578), streamed: fields are small and read into memory, the file part flows
 * through. Written for the disk endpoint's S3 POST uploads, so its refusals carry S3's error codes.
 *
 * Use: formBoundary() takes the boundary from the Content-Type; a MultipartReader over the body then
 * moves part by part (nextPart() gives each one's field name) and reads the current part as text (a
 * field) or streams it (body(), the file).
 */

const CRLF = Buffer.from('\r\n');
const HEADERS_END = Buffer.from('\r\n\r\n');
const MAX_PART_HEADER_BYTES = 8 * 1024;

/** Why a form was refused, with the S3 code that says so (every one of them is a 400). */
export class MultipartFormError extends Error {
  constructor(
    readonly code: 'MalformedPOSTRequest' | 'IncompleteBody' | 'MaxPostPreDataLengthExceeded',
    message: string,
  ) {
    super(message);
  }
}

/** The boundary of a multipart/form-data Content-Type, or undefined for any other type. */
export function formBoundary(contentType: string | null): string | undefined {
  if (!contentType || !/^multipart\/form-data\s*(;|$)/i.test(contentType)) return undefined;
  // The whole value or nothing: a boundary longer than RFC 2046's 70 characters is no boundary.
  const match = /;\s*boundary\s*=\s*(?:"([^"]{1,70})"|([^\s;"]{1,70}))\s*(?:;|$)/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

/**
 * Reads multipart/form-data (RFC 7578) one part at a time from a byte stream, without buffering more
 * than a chunk and a boundary. `consumed` counts the bytes parsed so far; until `limit` is raised, more
 * than `limit` of them (the fields before the file) is refused.
 * Errors thrown by `source` pass through unchanged; the form's own refusals are MultipartFormErrors.
 */
export class MultipartReader {
  consumed = -2; // the CRLF prepended below is not part of the request
  private buffer: Buffer = Buffer.from(CRLF); // so the first boundary reads like every other delimiter
  private readonly delimiter: Buffer;
  private readonly source: AsyncIterator<Uint8Array>;
  private inPart = true; // the preamble before the first boundary is skipped like a part's content
  private done = false;

  constructor(
    source: AsyncIterable<Uint8Array>,
    boundary: string,
    public limit: number,
  ) {
    this.delimiter = Buffer.from(`\r\n--${boundary}`);
    this.source = source[Symbol.asyncIterator]();
  }

  /** Moves to the next part and returns its names, or null after the closing boundary. */
  async nextPart(): Promise<{ name: string } | null> {
    if (this.done) return null;
    if (this.inPart) await this.text(); // skip what is left of the current part (bounded by `limit`)
    while (this.buffer.length < 2) await this.fill('The form ended without its closing boundary.');
    if (this.buffer[0] === 0x2d && this.buffer[1] === 0x2d) {
      this.done = true;
      return null;
    }
    // The rest of the boundary line may only be transport padding.
    const lineEnd = await this.find(CRLF, 256);
    if (!/^[ \t]*$/.test(this.buffer.toString('latin1', 0, lineEnd))) throw malformed('A boundary line has trailing garbage.');
    this.consume(lineEnd + 2);

    let headerBlock = '';
    while (this.buffer.length < 2) await this.fill('The form ended inside part headers.');
    if (this.buffer[0] === 0x0d && this.buffer[1] === 0x0a) {
      this.consume(2); // a part without headers
    } else {
      const end = await this.find(HEADERS_END, MAX_PART_HEADER_BYTES);
      headerBlock = this.buffer.toString('utf8', 0, end);
      this.consume(end + 4);
    }
    this.inPart = true;
    return parsePartHeaders(headerBlock);
  }

  /** The current part's bytes, up to the next boundary; a form that ends first is an IncompleteBody. */
  async *body(): AsyncGenerator<Uint8Array> {
    while (this.inPart) {
      const at = this.buffer.indexOf(this.delimiter);
      if (at >= 0) {
        // A delimiter ends in `--`, CRLF or padding; checked before the part counts as complete.
        const after = at + this.delimiter.length;
        if (this.buffer.length < after + 2) {
          await this.fill('The form ended before the part was complete.', 'IncompleteBody');
          continue;
        }
        const [first, second] = [this.buffer[after], this.buffer[after + 1]];
        if (!((first === 0x2d && second === 0x2d) || (first === 0x0d && second === 0x0a) || first === 0x20 || first === 0x09)) {
          throw malformed('A part contains its own boundary.');
        }
        const chunk = this.buffer.subarray(0, at);
        this.consume(at + this.delimiter.length);
        this.inPart = false;
        if (chunk.length > 0) yield chunk;
        return;
      }
      // Keep what could be the start of a delimiter split across chunks.
      const safe = this.buffer.length - (this.delimiter.length - 1);
      if (safe > 0) {
        const chunk = this.buffer.subarray(0, safe);
        this.consume(safe);
        yield chunk;
      }
      await this.fill('The form ended before the part was complete.', 'IncompleteBody');
    }
  }

  /** The current part as UTF-8 text (a form field). */
  async text(): Promise<string> {
    const chunks: Uint8Array[] = [];
    for await (const chunk of this.body()) chunks.push(chunk);
    return Buffer.concat(chunks).toString('utf8');
  }

  /** Offset of `needle` in the buffer, reading more as needed; more than `within` bytes without it is malformed. */
  private async find(needle: Buffer, within: number): Promise<number> {
    for (;;) {
      const at = this.buffer.indexOf(needle);
      if (at >= 0 && at <= within) return at;
      if (at > within || this.buffer.length > within + needle.length) throw malformed('A part header is too long.');
      await this.fill('The form ended inside part headers.');
    }
  }

  private async fill(endedMessage: string, endedCode: MultipartFormError['code'] = 'MalformedPOSTRequest'): Promise<void> {
    const next = await this.source.next();
    if (next.done) throw new MultipartFormError(endedCode, endedMessage);
    const chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
  }

  private consume(bytes: number): void {
    this.buffer = this.buffer.subarray(bytes);
    this.consumed += bytes;
    if (this.consumed > this.limit) {
      throw new MultipartFormError('MaxPostPreDataLengthExceeded', 'Your POST request fields preceding the upload file were too large.');
    }
  }
}

function malformed(why: string): MultipartFormError {
  return new MultipartFormError('MalformedPOSTRequest', `The body of your POST request is not well-formed multipart/form-data. ${why}`);
}

/** The part's field name, from its Content-Disposition (a file part's filename is not needed). */
function parsePartHeaders(block: string): { name: string } {
  let disposition: string | undefined;
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === 'content-disposition') disposition = line.slice(colon + 1).trim();
  }
  if (!disposition || !/^form-data\s*(;|$)/i.test(disposition)) throw malformed('A part has no form-data Content-Disposition.');
  const params = new Map<string, string>();
  for (const match of disposition.matchAll(/;\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;]*))/g)) {
    params.set(match[1]!.toLowerCase(), match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : match[3]!);
  }
  const name = params.get('name');
  if (name === undefined || name === '') throw malformed('A part has no field name.');
  return { name };
}
