/**
 * A Request whose small body the Node adapter already read into memory. On Node, reading even a
 * 100-byte body through the standard machinery (a web ReadableStream over the socket) costs ~60 µs
 * and the Request constructor (URL parsing, an AbortSignal, a copy of the headers) another ~20 µs:
 * together a third of a create-upload. So, as @hono/node-server does for its own requests, this one is
 * built without that constructor: method, URL, headers and the body methods are its own; anything
 * else a handler asks for (signal, mode, a body stream, form data…) comes from a standard Request
 * over the same bytes, made on first use. `instanceof Request` holds.
 */
const decoder = new TextDecoder();

function bodyUnusable(): TypeError {
  return new TypeError('Body is unusable: Body has already been read');
}

export class BufferedRequest implements Request {
  readonly method: string;
  readonly url: string;
  readonly headers: Headers;
  readonly #bytes: Uint8Array<ArrayBuffer>;
  /** Read from memory (text, json, arrayBuffer, bytes). */
  #used = false;
  #standardRequest: Request | undefined;

  constructor(url: string, method: string, headers: Headers, bytes: Uint8Array<ArrayBuffer>) {
    this.url = url;
    this.method = method;
    this.headers = headers;
    this.#bytes = bytes;
  }

  #standard(): Request {
    return (this.#standardRequest ??= new Request(this.url, { method: this.method, headers: this.headers, body: this.#bytes }));
  }

  #take(): Uint8Array<ArrayBuffer> {
    if (this.bodyUsed) throw bodyUnusable();
    this.#used = true;
    return this.#bytes;
  }

  get bodyUsed(): boolean {
    return this.#used || (this.#standardRequest?.bodyUsed ?? false);
  }
  async text(): Promise<string> {
    return decoder.decode(this.#take());
  }
  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }
  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = this.#take();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  }
  async bytes(): Promise<Uint8Array<ArrayBuffer>> {
    return new Uint8Array(await this.arrayBuffer());
  }
  async blob(): Promise<Blob> {
    if (this.#used) throw bodyUnusable();
    return this.#standard().blob();
  }
  async formData(): Promise<FormData> {
    if (this.#used) throw bodyUnusable();
    return this.#standard().formData();
  }
  /** null once the body was read from memory (a standard Request would give a spent stream). */
  get body(): ReadableStream<Uint8Array<ArrayBuffer>> | null {
    return this.#used ? null : this.#standard().body;
  }
  clone(): Request {
    if (this.bodyUsed) throw bodyUnusable();
    return new BufferedRequest(this.url, this.method, new Headers(this.headers), this.#bytes);
  }

  get signal(): AbortSignal {
    return this.#standard().signal;
  }
  get cache(): RequestCache {
    return this.#standard().cache;
  }
  get credentials(): RequestCredentials {
    return this.#standard().credentials;
  }
  get destination(): RequestDestination {
    return this.#standard().destination;
  }
  get integrity(): string {
    return this.#standard().integrity;
  }
  get keepalive(): boolean {
    return this.#standard().keepalive;
  }
  get mode(): RequestMode {
    return this.#standard().mode;
  }
  get redirect(): RequestRedirect {
    return this.#standard().redirect;
  }
  get referrer(): string {
    return this.#standard().referrer;
  }
  get referrerPolicy(): ReferrerPolicy {
    return this.#standard().referrerPolicy;
  }
}
Object.setPrototypeOf(BufferedRequest.prototype, Request.prototype);
