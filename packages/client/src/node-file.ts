/**
 * A file on disk as an upload source in Node: a `File` that reads its bytes by path, a MiB at a time,
 * with the file's real size. Node's own `fs.openAsBlob` reports a file of 4 GiB or more modulo 4 GiB
 * (nodejs/node#52585), and reading its Blobs costs several times the CPU of reading the file: a large
 * upload spent more time reading than hashing. The Node hashing thread reads these files itself.
 *
 * Only this package's Node code and code that uses the Blob methods (`size`, `slice`, `stream`,
 * `arrayBuffer`, `text`, `bytes`) can read it; Node's own Blob constructor and FormData see an empty body.
 */
import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { UpfrontError } from './errors.ts';

/** Bytes read per step of a stream. */
const CHUNK = 1024 * 1024;

export class DiskFile extends File {
  readonly path: string;
  /** Where this file (or slice) starts in the file at `path`. */
  readonly start: number;
  readonly #size: number;

  constructor(path: string, start: number, size: number, name: string, options: FilePropertyBag) {
    super([], name, options);
    this.path = path;
    this.start = start;
    this.#size = size;
  }

  override get size(): number {
    return this.#size;
  }

  /** A Blob's slice: negative positions count from the end. */
  override slice(start = 0, end = this.#size, type = ''): DiskFile {
    const at = (position: number) => (position < 0 ? Math.max(this.#size + position, 0) : Math.min(position, this.#size));
    const from = at(start);
    return new DiskFile(this.path, this.start + from, Math.max(at(end) - from, 0), this.name, { type, lastModified: this.lastModified });
  }

  override stream(): ReadableStream<Uint8Array<ArrayBuffer>> {
    const { path, start, size } = this;
    let file: Awaited<ReturnType<typeof open>> | undefined;
    let offset = 0;
    return new ReadableStream({
      async pull(controller) {
        file ??= await open(path);
        if (offset === size) {
          await file.close();
          return controller.close();
        }
        const length = Math.min(CHUNK, size - offset);
        try {
          controller.enqueue(await readFully(file, path, new Uint8Array(length), start + offset));
        } catch (error) {
          await file.close();
          throw error;
        }
        offset += length;
      },
      async cancel() {
        await file?.close();
      },
      // Nothing is read (and the file not opened) before the stream is.
    }, { highWaterMark: 0 });
  }

  override async bytes(): Promise<Uint8Array<ArrayBuffer>> {
    const file = await open(this.path);
    try {
      return await readFully(file, this.path, new Uint8Array(this.#size), this.start);
    } finally {
      await file.close();
    }
  }

  override async arrayBuffer(): Promise<ArrayBuffer> {
    return (await this.bytes()).buffer;
  }

  override async text(): Promise<string> {
    return new TextDecoder().decode(await this.bytes());
  }
}

/** Fills `into` from `position`; a file that ends early has changed since it was opened. */
export async function readFully(file: Awaited<ReturnType<typeof open>>, path: string, into: Uint8Array<ArrayBuffer>, position: number): Promise<Uint8Array<ArrayBuffer>> {
  for (let filled = 0; filled < into.length; ) {
    const { bytesRead } = await file.read(into, filled, into.length - filled, position + filled);
    if (bytesRead === 0) throw fileChanged(path);
    filled += bytesRead;
  }
  return into;
}

export const fileChanged = (path: string) => new UpfrontError('file_changed', `${path} became shorter while it was uploaded; upload it again once it no longer changes.`);

/**
 * A file on disk as a `File` to hand to `upload()`: named after the path, dated by its modification
 * time (so a rerun finds the unfinished upload by its fingerprint), read a MiB at a time as it is sent.
 */
export async function fileFromPath(path: string, options: { type?: string } = {}): Promise<File> {
  const stats = await stat(path);
  if (!stats.isFile()) throw new UpfrontError('invalid_file', `${path} is not a file.`);
  return new DiskFile(path, 0, stats.size, basename(path), { type: options.type ?? '', lastModified: Math.trunc(stats.mtimeMs) });
}
