/**
 * The `s3` driver: any S3-compatible store (AWS S3, Ceph RGW, MinIO, R2...).
 *
 * Presigning is done by the hand-written SigV4 signer (sigv4.ts): synchronous, no SDK in the hot path.
 * Everything that talks to storage goes through @aws-sdk/client-s3, with checksums as the provider's
 * profile says (providers.ts): "when required" except on AWS, as other stores refuse or ignore the SDK's
 * default CRC32 headers. Multipart uploads and copies in parts are in s3-multipart.ts.
 */
import {
  CopyObjectCommand,
  type StorageClass,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { ObjectChangedError, ObjectMissingError } from './errors.ts';
import { DEFAULT_PART_COPY_THRESHOLD, type S3DriverConfig } from './s3-config.ts';
import * as multipart from './s3-multipart.ts';
import { listMultipartUploads, listObjects } from './s3-listing.ts';
import { postConditions } from './presigner.ts';
import { credentialsOf, s3Signing } from './s3-signing.ts';
import { profileOf } from './providers.ts';
import {
  NULL_VERSION,
  type Bucket,
  type CopyOptions,
  type CopyResult,
  type InProgressMultipart,
  type ObjectPage,
  type ObjectVersion,
  type ObjectHead,
  type ObjectRead,
  type ObjectRef,
  type PutOptions,
  type PresignedPost,
  type PresignedPut,
  type PresignGetInput,
  type PresignPostInput,
  type PresignPutInput,
  type StorageDriver,
  type StoredPart,
  type ObjectStart,
} from './types.ts';

/** Storage did not answer (network failure, timeout, 5xx): the API answers 503 `storage_unavailable`. */
export class StorageUnavailableError extends Error {
  readonly code = 'storage_unavailable';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageUnavailableError';
  }
}

/**
 * The SDK client every storage call of the driver goes through (exported so the benchmark's bare peer
 * uses the identical configuration).
 *
 * Ceph RGW needs `tcp_nodelay=1` on its beast frontend: it sends a response's headers and body
 * separately, Nagle then holds the body until the headers are ACKed, and a client that sent its
 * request soon after its last answer on a keep-alive connection delays that ACK by 40 ms (Linux
 * delayed ACK). So a ranged GET or a copy takes ~45 ms instead of ~3. Nothing here can avoid it:
 * Node cannot set TCP_QUICKACK, and TCP_NODELAY on this side only affects what the client sends.
 */
export function createS3Client(config: S3DriverConfig): S3Client {
  const { checksums } = profileOf(config);
  return new S3Client({
    endpoint: config.endpoint,
    region: config.region,
    forcePathStyle: config.forcePathStyle,
    credentials: credentialsOf(config),
    requestChecksumCalculation: checksums,
    responseChecksumValidation: checksums,
    // Fail within seconds when storage is unreachable, instead of hanging the API request.
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
  });
}

export function createS3Driver(config: S3DriverConfig): StorageDriver {
  const { buckets } = config;
  const client = createS3Client(config);
  const partCopyThreshold = config.partCopyThreshold ?? DEFAULT_PART_COPY_THRESHOLD;
  const staged = (key: string): multipart.S3Location => ({ bucket: buckets.staging, key });

  async function head(bucket: Bucket, key: string): Promise<ObjectHead | null> {
    try {
      const answer = await client.send(new HeadObjectCommand({ Bucket: buckets[bucket], Key: key }));
      return {
        size: answer.ContentLength ?? 0,
        ...(answer.ContentType !== undefined && { contentType: answer.ContentType }),
        ...(answer.ETag !== undefined && { etag: answer.ETag }),
      };
    } catch (error) {
      // HEAD responses have no body, so a missing key is just "NotFound" (404).
      if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404) return null;
      if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 403) {
        // Nor does a refusal say why: a GET's answer does (see isMissing).
        const why = await client.send(new GetObjectCommand({ Bucket: buckets[bucket], Key: key, Range: 'bytes=0-0' })).then(
          async (answer) => void (await answer.Body?.transformToByteArray()),
          (refusal: unknown) => refusal,
        );
        if (isMissing(why)) return null;
      }
      throw storageError(error, `HEAD ${buckets[bucket]}/${key}`);
    }
  }

  /**
   * A copy refused (403) because its source is missing, as storage answers a credential without
   * s3:ListBucket (see isMissing), is an ObjectMissingError; a refusal with the source there stands.
   */
  async function refusedCopy(error: unknown, from: ObjectRef): Promise<unknown> {
    if (!(error instanceof S3ServiceException && error.$metadata.httpStatusCode === 403)) return error;
    const source = await head(from.bucket, from.key).catch(() => undefined);
    return source === null ? new ObjectMissingError(`${buckets[from.bucket]}/${from.key} does not exist`, { cause: error }) : error;
  }

  const { signed, publicUrl } = s3Signing(config);

  return {
    kind: 's3',
    ...(config.presigner === 'aws-sdk' ? sdkPresigner(client, buckets) : signed),
    // Upfront's signer in either case: the SDK presigners (a benchmark reference) cover PUT, POST and GET only.
    presignPart: signed.presignPart,

    publicUrl,

    head,

    async readStart(bucket: Bucket, key: string, length: number): Promise<ObjectStart | null> {
      try {
        // A ranged GET answers the object's size (Content-Range), ETag and type with the bytes: no HEAD needed.
        const response = await client.send(
          new GetObjectCommand({ Bucket: buckets[bucket], Key: key, Range: `bytes=0-${Math.max(length, 1) - 1}` }),
        );
        const bytes = (await response.Body?.transformToByteArray()) ?? new Uint8Array();
        const total = /\/(\d+)$/.exec(response.ContentRange ?? '')?.[1];
        const head: ObjectHead = {
          size: total !== undefined ? Number(total) : (response.ContentLength ?? bytes.byteLength),
          ...(response.ContentType !== undefined && { contentType: response.ContentType }),
          ...(response.ETag !== undefined && { etag: response.ETag }),
        };
        return { head, bytes: length > 0 ? bytes.subarray(0, length) : new Uint8Array() };
      } catch (error) {
        // A range of an empty object is unsatisfiable: the object exists and is empty.
        if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 416) {
          return { head: (await head(bucket, key)) ?? { size: 0 }, bytes: new Uint8Array() };
        }
        if (isMissing(error)) return null;
        throw storageError(error, `GET ${buckets[bucket]}/${key}`);
      }
    },

    async read(bucket: Bucket, key: string, options: { ifMatch?: string } = {}): Promise<ObjectRead | null> {
      try {
        const response = await client.send(
          new GetObjectCommand({ Bucket: buckets[bucket], Key: key, ...(options.ifMatch !== undefined && { IfMatch: options.ifMatch }) }),
        );
        const head: ObjectHead = {
          size: response.ContentLength ?? 0,
          ...(response.ContentType !== undefined && { contentType: response.ContentType }),
          ...(response.ETag !== undefined && { etag: response.ETag }),
        };
        return { head, body: response.Body ? response.Body.transformToWebStream() : new Blob([]).stream() };
      } catch (error) {
        if (isPreconditionFailed(error)) throw new ObjectChangedError(`${buckets[bucket]}/${key} changed`);
        if (isMissing(error)) return null;
        throw storageError(error, `GET ${buckets[bucket]}/${key}`);
      }
    },

    async put(bucket: Bucket, key: string, body: ReadableStream<Uint8Array>, options: PutOptions): Promise<CopyResult> {
      // A stream of known length is one PutObject (the SDK takes node streams, not web ones).
      const command = new PutObjectCommand({
        Bucket: buckets[bucket],
        Key: key,
        Body: Readable.fromWeb(body as NodeReadableStream<Uint8Array>),
        ContentLength: options.size,
        ContentType: options.contentType,
        ...(options.storageClass !== undefined && { StorageClass: options.storageClass as StorageClass }),
        ...(options.cacheControl !== undefined && { CacheControl: options.cacheControl }),
        ...(options.contentDisposition !== undefined && { ContentDisposition: options.contentDisposition }),
      });
      const { VersionId, ETag } = await attempt(`PUT ${buckets[bucket]}/${key}`, () => client.send(command));
      return { ...(VersionId !== undefined && { versionId: VersionId }), ...(ETag !== undefined && { etag: ETag }) };
    },

    async copy(from: ObjectRef, to: ObjectRef, options: CopyOptions): Promise<CopyResult> {
      const source = { bucket: buckets[from.bucket], key: from.key, ...(from.versionId !== undefined && { versionId: from.versionId }) };
      if (options.size !== undefined && options.size > partCopyThreshold) {
        const target = { bucket: buckets[to.bucket], key: to.key };
        const versionId = await attempt(`PART COPY ${source.bucket}/${from.key} -> ${target.bucket}/${to.key}`, () =>
          multipart.copyInParts(client, source, target, options, partCopyThreshold).catch(async (error: unknown) => {
            throw await refusedCopy(error, from);
          }));
        return versionId !== undefined ? { versionId } : {};
      }
      const command = new CopyObjectCommand({
        Bucket: buckets[to.bucket],
        Key: to.key,
        CopySource: multipart.copySource(source),
        MetadataDirective: 'REPLACE',
        ContentType: options.contentType,
        ...(options.storageClass !== undefined && { StorageClass: options.storageClass as StorageClass }),
        ...(options.cacheControl !== undefined && { CacheControl: options.cacheControl }),
        ...(options.contentDisposition !== undefined && { ContentDisposition: options.contentDisposition }),
        ...(options.ifMatch !== undefined && { CopySourceIfMatch: options.ifMatch }),
      });
      if (options.ifMatch !== undefined) {
        // Ceph RGW (measured on 16.2) ignores x-amz-copy-source-if-match and honours only its older
        // name, x-amz-copy-if-match; other stores ignore the extra header.
        const etag = options.ifMatch;
        command.middlewareStack.add(
          (next) => async (args) => {
            (args.request as { headers: Record<string, string> }).headers['x-amz-copy-if-match'] = etag;
            return next(args);
          },
          { step: 'build', name: 'rgwCopyIfMatch' },
        );
      }
      try {
        const { VersionId, CopyObjectResult } = await client.send(command);
        return { ...(VersionId !== undefined && { versionId: VersionId }), ...(CopyObjectResult?.ETag !== undefined && { etag: CopyObjectResult.ETag }) };
      } catch (error) {
        if (isPreconditionFailed(error)) throw new ObjectChangedError(`${buckets[from.bucket]}/${from.key} changed`);
        // Only the source can be missing (the target is being written); a missing bucket stays an error.
        if (isNoSuchKey(error)) throw new ObjectMissingError(`${buckets[from.bucket]}/${from.key} does not exist`, { cause: error });
        throw storageError(await refusedCopy(error, from), `COPY ${buckets[from.bucket]}/${from.key} -> ${buckets[to.bucket]}/${to.key}`);
      }
    },

    async delete(bucket: Bucket, key: string, versionId?: string): Promise<void> {
      try {
        await client.send(new DeleteObjectCommand({ Bucket: buckets[bucket], Key: key, ...(versionId !== undefined && { VersionId: versionId }) }));
      } catch (error) {
        throw storageError(error, `DELETE ${buckets[bucket]}/${key}`);
      }
    },

    listVersions(bucket: Bucket, key: string): Promise<ObjectVersion[]> {
      return attempt(`LIST VERSIONS ${buckets[bucket]}/${key}`, () => listVersions(client, buckets[bucket], key));
    },

    createMultipart(key: string, contentType: string): Promise<string> {
      return attempt(`CREATE MULTIPART ${buckets.staging}/${key}`, () => multipart.create(client, staged(key), { contentType }));
    },

    listParts(key: string, uploadId: string): Promise<StoredPart[] | null> {
      return attempt(`LIST PARTS ${buckets.staging}/${key}`, () => multipart.listParts(client, staged(key), uploadId));
    },

    completeMultipart(key: string, uploadId: string, parts: { partNumber: number; etag: string }[]): Promise<void> {
      return attempt(`COMPLETE MULTIPART ${buckets.staging}/${key}`, () => multipart.complete(client, staged(key), uploadId, parts));
    },

    abortMultipart(key: string, uploadId: string): Promise<void> {
      return attempt(`ABORT MULTIPART ${buckets.staging}/${key}`, () => multipart.abort(client, staged(key), uploadId));
    },

    list(bucket: Bucket, options: { prefix?: string; after?: string } = {}): Promise<ObjectPage> {
      return attempt(`LIST ${buckets[bucket]}/${options.prefix ?? ''}`, () => listObjects(client, buckets[bucket], options));
    },

    listMultipartUploads(prefix?: string): Promise<InProgressMultipart[]> {
      return attempt(`LIST MULTIPART ${buckets.staging}/${prefix ?? ''}`, () => listMultipartUploads(client, buckets.staging, prefix));
    },
  };
}

/**
 * ListObjectVersions of the key as a prefix, kept to the key itself (`a.png` also lists `a.png.bak`),
 * without delete markers; S3 lists a key's versions newest first.
 */
async function listVersions(client: S3Client, bucket: string, key: string): Promise<ObjectVersion[]> {
  const versions: ObjectVersion[] = [];
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const page = await client.send(
      new ListObjectVersionsCommand({
        Bucket: bucket,
        Prefix: key,
        ...(keyMarker !== undefined && { KeyMarker: keyMarker }),
        ...(versionIdMarker !== undefined && { VersionIdMarker: versionIdMarker }),
      }),
    );
    for (const version of page.Versions ?? []) {
      if (version.Key !== key) continue;
      versions.push({
        versionId: version.VersionId ?? NULL_VERSION,
        size: version.Size ?? 0,
        ...(version.ETag !== undefined && { etag: version.ETag }),
        lastModified: version.LastModified ?? new Date(0),
        isLatest: version.IsLatest === true,
      });
    }
    // Keys after this one sort after it: once the listing passes it, the rest are other keys.
    if (!page.IsTruncated || (page.NextKeyMarker !== undefined && page.NextKeyMarker > key)) return versions;
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
  }
}

/** Runs a storage operation; failures that mean "storage is not there right now" become StorageUnavailableError. */
async function attempt<T>(operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw storageError(error, operation);
  }
}

const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN',
  'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'EPROTO',
]);

/** Wraps failures that mean "storage is not there right now" in StorageUnavailableError; others pass as-is. */
function storageError(error: unknown, operation: string): unknown {
  if (error instanceof S3ServiceException) {
    const status = error.$metadata.httpStatusCode ?? 0;
    return status >= 500 ? new StorageUnavailableError(`${operation}: storage answered ${status} ${error.name}`, { cause: error }) : error;
  }
  const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown };
  if (name === 'TimeoutError' || (typeof code === 'string' && NETWORK_ERROR_CODES.has(code))) {
    return new StorageUnavailableError(`${operation}: storage did not answer (${String(code ?? name)})`, { cause: error });
  }
  return error;
}

function isPreconditionFailed(error: unknown): boolean {
  return error instanceof S3ServiceException && error.$metadata.httpStatusCode === 412;
}

/**
 * A missing object when reading it: 404 NoSuchKey, or 403 AccessDenied, which is what S3 and RGW answer
 * a credential without s3:ListBucket (they will not say whether the key exists), and the API's
 * least-privilege policy has none. A credential that may not read at all looks the same here; doctor's
 * presigned round trip names that.
 */
function isMissing(error: unknown): boolean {
  return isNoSuchKey(error) || (error instanceof S3ServiceException && error.name === 'AccessDenied');
}

/** 404 NoSuchKey, as opposed to NoSuchBucket (a configuration error, not a missing object). */
function isNoSuchKey(error: unknown): boolean {
  return error instanceof S3ServiceException && error.name === 'NoSuchKey';
}

/**
 * The AWS SDK's presigners, for the benchmark's reference server only (they are async). The SDK
 * packages are loaded on first use, never in production.
 */
function sdkPresigner(
  client: S3Client,
  buckets: S3DriverConfig['buckets'],
): Pick<StorageDriver, 'presignPut' | 'presignPost' | 'presignGet'> {
  return {
    async presignPut({ key, contentType, contentLength, expiresIn }: PresignPutInput): Promise<PresignedPut> {
      const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner');
      const command = new PutObjectCommand({ Bucket: buckets.staging, Key: key, ContentType: contentType, ...(contentLength !== undefined && { ContentLength: contentLength }) });
      // Without signableHeaders the SDK leaves Content-Type (and Content-Length) unsigned.
      const url = await getSignedUrl(client, command, { expiresIn, signableHeaders: new Set(['content-type', ...(contentLength !== undefined ? ['content-length'] : [])]) });
      return { method: 'PUT', url, headers: { 'Content-Type': contentType } };
    },
    async presignPost({ key, contentType, maxSize, expiresIn, fields: extra }: PresignPostInput): Promise<PresignedPost> {
      const { createPresignedPost } = await import('@aws-sdk/s3-presigned-post');
      const { url, fields } = await createPresignedPost(client, {
        Bucket: buckets.staging,
        Key: key,
        Fields: { ...extra, 'Content-Type': contentType },
        Conditions: postConditions(key, maxSize),
        Expires: expiresIn,
      });
      return { method: 'POST', url, fields };
    },
    async presignGet(bucket: Bucket, key: string, { expiresIn, contentDisposition, versionId }: PresignGetInput): Promise<string> {
      const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner');
      const command = new GetObjectCommand({
        Bucket: buckets[bucket],
        Key: key,
        ...(versionId !== undefined && { VersionId: versionId }),
        ...(contentDisposition !== undefined && { ResponseContentDisposition: contentDisposition }),
      });
      return getSignedUrl(client, command, { expiresIn });
    },
  };
}
