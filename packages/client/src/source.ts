/**
 * What can be uploaded: a Blob (a browser File, or Node's `fs.openAsBlob(path)`, read lazily slice by
 * slice), or a stream of known size. Node reads a stream once, in order, a part at a time
 * (node-stream.ts); browsers gather it into a Blob first (browser-stream.ts).
 */
export interface StreamSource {
  /** A web ReadableStream, or (in Node) any async iterable of bytes, e.g. `fs.createReadStream(path)`. */
  stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;
  /** Its exact length in bytes. */
  size: number;
  /** The filename (or pass `filename`). */
  name?: string;
  /** Its MIME type (or pass `contentType`). */
  type?: string;
}

export type UploadSource = Blob | StreamSource;

/** The stream's bytes in Blobs of `partSize` bytes (the last one shorter), in order. */
export type PartsOf = (source: StreamSource, partSize: number) => AsyncIterable<Blob>;
