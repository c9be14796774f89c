/**
 * One upload from file to stored file: checksums and fingerprint, create (the server picks the
 * strategy: one PUT, a POST form, or parts), the bytes to storage, complete.
 */
import { createHasher, partsOf } from '#platform';
import type { CompleteUploadRequest, CreatedUpload, CreateUploadRequest } from './api-types.ts';
import type { ClientContext, UploadContext } from './context.ts';
import { createControl, type Control } from './control.ts';
import { UpfrontError } from './errors.ts';
import type { Hasher } from './hashing.ts';
import { sendParts } from './multipart.ts';
import { progressTracker } from './progress.ts';
import { sendToStorage } from './sending.ts';
import type { StreamSource, UploadSource } from './source.ts';
import type { StorageRequest } from './transfer.ts';
import type { UploadedFile, UploadOptions, UploadTask } from './types.ts';

/**
 * Files (Blobs) up to this size are hashed before they are created, so a single PUT carries the file's
 * MD5 (signed: storage refuses other bytes); that takes a fraction of a second. Larger files normally
 * go in parts, each hashed on the way; one the server still wants in one request, and a stream, get
 * their SHA-256 only, computed while they are sent.
 */
const HASH_FIRST_LIMIT = 2 ** 26; // 64 MiB

export function startUpload(ctx: ClientContext, source: UploadSource, options: UploadOptions): UploadTask {
  const control = createControl(options.signal);
  let id: string | undefined;
  let finished = false;
  const result = upload(ctx, source, options, control, (created) => (id = created.id)).then(
    (file) => {
      finished = true;
      return file;
    },
    (error: unknown) => {
      control.stop();
      throw error;
    },
  );
  return Object.defineProperties(result, {
    id: { get: () => id },
    pause: { value: control.pause },
    resume: { value: control.resume },
    cancel: {
      async value() {
        control.stop();
        if (id !== undefined && !finished) await ctx.api('DELETE', pathOf(id));
      },
    },
  }) as UploadTask;
}

async function upload(ctx: ClientContext, source: UploadSource, options: UploadOptions, control: Control, created: (upload: CreatedUpload) => void): Promise<UploadedFile> {
  const name = options.filename ?? (source as { name?: string }).name;
  if (!name) throw new UpfrontError('invalid_filename', 'Pass `filename` when uploading a Blob that is not a File.');
  await control.ready();
  const { size } = source;
  const blob = source instanceof Blob ? source : undefined;
  const hasher = options.checksums === false ? undefined : createHasher(ctx.settings.workerUrl);
  try {
    const early = blob && hasher && size <= HASH_FIRST_LIMIT ? await wholeDigests(hasher, blob) : undefined;
    const fingerprint = options.fingerprint ?? (blob && hasher && (await hasher.fingerprint(blob, name)));
    const body: CreateUploadRequest = {
      route: options.route,
      filename: name,
      contentType: options.contentType || source.type || 'application/octet-stream',
      size,
      md5: early?.[0],
      fingerprint: fingerprint || undefined,
    };
    const upload = await ctx.api<CreatedUpload>('POST', '/v1/uploads', body, control.signal);
    created(upload);
    const path = pathOf(upload.id);
    const context: UploadContext = { ...ctx, path, control, progress: progressTracker(size, options.onProgress) };
    let declared: CompleteUploadRequest | undefined;
    if (upload.multipart) {
      declared = await sendParts(context, upload.multipart, upload.parts, blob ?? partsOf(source as StreamSource, upload.multipart.partSize), hasher);
    } else {
      // A stream the server wants in one request is gathered first (such files are small, below the route's multipart threshold).
      const file = blob ?? (await gather(source as StreamSource));
      const [sha256] = await Promise.all([early?.[1] ?? (hasher && wholeDigests(hasher, file).then((digests) => digests[1])), sendWhole(context, upload, file)]);
      declared = sha256 ? { sha256 } : undefined;
    }
    return await ctx.api<UploadedFile>('POST', `${path}/complete`, declared, control.signal);
  } finally {
    hasher?.close();
  }
}

const pathOf = (id: string) => `/v1/uploads/${encodeURIComponent(id)}`;

/** [base64 MD5, hex SHA-256] of the whole file. */
const wholeDigests = (hasher: Hasher, file: Blob) => Promise.all([hasher.part(file), hasher.finish()]);

async function gather(source: StreamSource): Promise<Blob> {
  const parts: Blob[] = [];
  for await (const part of partsOf(source, source.size)) parts.push(part);
  return new Blob(parts);
}

/** A signed PUT with exact headers, or a POST policy form (the server sends one of them). */
function sendWhole(ctx: UploadContext, { put, post }: CreatedUpload, file: Blob): Promise<void> {
  const request: Omit<StorageRequest, 'body'> = put ?? { ...post!, headers: {} };
  return sendToStorage(ctx, 0, file, async () => request, false);
}
