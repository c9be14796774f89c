/**
 * A Request whose small body was already read into memory by the Node adapter. Reading such a body
 * through the standard machinery (a web ReadableStream over the socket) costs more than everything
 * else create-upload does; here `text()`, `json()` and `arrayBuffer()` read the bytes directly.
 * Every other body accessor falls back to a standard Request over the same bytes.
 */
const decoder = new TextDecoder();

export class BufferedRequest extends Request {
  readonly #bytes: Uint8Array<ArrayBuffer>;
  #used = false;
  #standard: Request | undefined;

  constructor(url: string, init: { method: string; headers: Headers }, bytes: Uint8Array<ArrayBuffer>) {
    super(url, init);
    this.#bytes = bytes;
  }

  #take(): Uint8Array<ArrayBuffer> {
    if (this.bodyUsed) throw new TypeError('Body is unusable: Body has already been read');
    this.#used = true;
    return this.#bytes;
  }

  /** The same request as a standard Request, for the accessors not served from memory. */
  #asStandard(): Request {
    return (this.#standard ??= new Request(this.url, { method: this.method, headers: this.headers, body: this.#take() }));
  }

  override async text(): Promise<string> {
    return decoder.decode(this.#take());
  }
  override async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }
  override async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = this.#take();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }
  override blob(): Promise<Blob> {
    return this.#asStandard().blob();
  }
  override formData(): Promise<FormData> {
    return this.#asStandard().formData();
  }
  override clone(): Request {
    if (this.bodyUsed) throw new TypeError('Body is unusable: Body has already been read');
    return new BufferedRequest(this.url, { method: this.method, headers: this.headers }, this.#bytes);
  }
  override get body(): ReadableStream<Uint8Array<ArrayBuffer>> | null {
    return this.#asStandard().body;
  }
  override get bodyUsed(): boolean {
    return this.#standard ? this.#standard.bodyUsed : this.#used;
  }
}
