/**
 * The s3 driver's multipart operations: staged multipart uploads (create, list, complete, abort) and
 * the part-by-part copy that promotes objects larger than one CopyObject may copy (5 GiB).
 *
 * These throw Upfront's storage errors for the outcomes callers act on (InvalidPartsError,
 * ObjectMissingError, ObjectChangedError) and the SDK's errors otherwise; s3-driver.ts turns network
 * failures and 5xx answers into StorageUnavailableError.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type StorageClass,
  HeadObjectCommand,
  ListPartsCommand,
  S3ServiceException,
  UploadPartCopyCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { InvalidPartsError, ObjectChangedError, ObjectMissingError } from './errors.ts';
import { encodeKey } from './sigv4.ts';
import type { CopyOptions, StoredPart } from './types.ts';

/** A bucket (by its real name) and a key. */
export interface S3Location {
  bucket: string;
  key: string;
  /** As a copy's source: this version of the object. */
  versionId?: string;
}

const MiB = 1024 ** 2;
/** S3's smallest part, for every part but the last. */
const MIN_PART_SIZE = 5 * MiB;
const MAX_PARTS = 10_000;
/** Large parts keep a part copy to few requests; storage copies them internally, nothing flows through us. */
const PREFERRED_COPY_PART_SIZE = 512 * MiB;
/** Part copies in flight at once: overlaps storage's latency without flooding it. */
const COPY_CONCURRENCY = 4;

/** The S3 error code (`NoSuchUpload`, `InvalidPart`…) of a storage answer, if it is one. */
function s3Code(error: unknown): string | undefined {
  return error instanceof S3ServiceException ? error.name : undefined;
}

function isServerError(error: unknown): boolean {
  return error instanceof S3ServiceException && (error.$metadata.httpStatusCode ?? 0) >= 500;
}

const where = ({ bucket, key }: S3Location): string => `${bucket}/${key}`;

/** Metadata of the object a multipart upload assembles. */
type ObjectMetadata = Pick<CopyOptions, 'contentType' | 'storageClass' | 'cacheControl' | 'contentDisposition'>;

export async function create(client: S3Client, location: S3Location, metadata: ObjectMetadata): Promise<string> {
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({
    Bucket: location.bucket,
    Key: location.key,
    ContentType: metadata.contentType,
    ...(metadata.storageClass !== undefined && { StorageClass: metadata.storageClass as StorageClass }),
    ...(metadata.cacheControl !== undefined && { CacheControl: metadata.cacheControl }),
    ...(metadata.contentDisposition !== undefined && { ContentDisposition: metadata.contentDisposition }),
  }));
  if (!UploadId) throw new Error(`CreateMultipartUpload of ${where(location)} answered no UploadId`);
  return UploadId;
}

/** Every part, over as many pages as storage needs (S3 and RGW answer at most 1,000 parts a page). */
export async function listParts(client: S3Client, { bucket, key }: S3Location, uploadId: string): Promise<StoredPart[] | null> {
  const parts: StoredPart[] = [];
  let marker: string | undefined;
  do {
    let page;
    try {
      page = await client.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }));
    } catch (error) {
      // S3 answers 404 NoSuchUpload; RGW 16 answers 404 NoSuchKey, or 403 AccessDenied to a credential
      // without s3:ListBucket (the API's least-privilege one), as for a missing object.
      if (s3Code(error) === 'NoSuchUpload' || s3Code(error) === 'NoSuchKey' || s3Code(error) === 'AccessDenied') return null;
      throw error;
    }
    for (const { PartNumber, Size, ETag } of page.Parts ?? []) {
      if (PartNumber !== undefined && Size !== undefined && ETag !== undefined) parts.push({ partNumber: PartNumber, size: Size, etag: ETag });
    }
    marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
  } while (marker !== undefined);
  return parts.sort((a, b) => a.partNumber - b.partNumber);
}

const INVALID_PARTS = new Set(['InvalidPart', 'InvalidPartOrder', 'EntityTooSmall']);

/** CompleteMultipartUpload. RGW 16 answers it with an empty ETag: callers read the object's ETag afterwards. */
export async function complete(
  client: S3Client,
  location: S3Location,
  uploadId: string,
  parts: { partNumber: number; etag: string }[],
): Promise<void> {
  // S3 refuses parts out of order (InvalidPartOrder); RGW 16 sorts them and keeps the last of two with the
  // same number. Refused here, so both stores assemble only what was named, as named.
  if (parts.length === 0 || parts.some((part, i) => i > 0 && part.partNumber <= parts[i - 1]!.partNumber)) {
    throw new InvalidPartsError(`complete of ${where(location)} needs parts in ascending order, each once (got ${parts.map((p) => p.partNumber).join(', ') || 'none'})`);
  }
  try {
    await sendComplete(client, location, uploadId, parts.map(({ partNumber, etag }) => ({ PartNumber: partNumber, ETag: etag })));
  } catch (error) {
    const code = s3Code(error);
    if (code !== undefined && INVALID_PARTS.has(code)) throw new InvalidPartsError(`complete of ${where(location)}: storage refused the parts (${code})`, { cause: error });
    if (code === 'NoSuchUpload') throw new ObjectMissingError(`no multipart upload ${uploadId} of ${where(location)}`, { cause: error });
    // RGW 16 answers the completion of an upload that is gone (aborted, or completed with other parts)
    // with 500 InternalError "This multipart completion is already in progress": ask whether it is.
    if (isServerError(error) && (await listParts(client, location, uploadId)) === null) {
      throw new ObjectMissingError(`no multipart upload ${uploadId} of ${where(location)}`, { cause: error });
    }
    throw error;
  }
}

function sendComplete(client: S3Client, { bucket, key }: S3Location, uploadId: string, parts: CompletedPart[]) {
  return client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
}

/** AbortMultipartUpload; an upload that is already gone is what was asked for. */
export async function abort(client: S3Client, { bucket, key }: S3Location, uploadId: string): Promise<void> {
  try {
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
  } catch (error) {
    if (s3Code(error) !== 'NoSuchUpload') throw error;
  }
}

/**
 * Part size of a copy of `size` bytes: 512 MiB (20 requests for 10 GiB), more when 10,000 parts would not
 * hold the object, never under S3's 5 MiB minimum; and no more than the threshold, which tests lower to
 * copy a small object in parts.
 */
export function copyPartSize(size: number, threshold: number): number {
  return Math.max(MIN_PART_SIZE, Math.ceil(size / MAX_PARTS), Math.min(PREFERRED_COPY_PART_SIZE, threshold));
}

/** The version of the source a copy is of. */
interface SourceVersion {
  size: number;
  etag?: string;
  lastModified?: number;
}

/**
 * Server-side copy part by part (UploadPartCopy) into a new multipart upload of the target with the
 * options' metadata, then CompleteMultipartUpload; on any failure the target's upload is aborted, so
 * nothing is left at the target. The copy is of one version of the source, the `ifMatch` one when given:
 * RGW 16 ignores every condition on UploadPartCopy (x-amz-copy-source-if-match and x-amz-copy-if-match
 * alike; S3 honours the first, sent with every part), so the source is also read before and after the
 * parts and must be the same version both times: same ETag, and the same Last-Modified, which an
 * overwrite with identical bytes changes as well. (Last-Modified counts seconds; in production these
 * sources are over 5 GiB, more than anyone rewrites twice within one.)
 */
export async function copyInParts(
  client: S3Client,
  source: S3Location,
  target: S3Location,
  options: CopyOptions,
  threshold: number,
): Promise<string | undefined> {
  const version = await headSource(client, source, options.ifMatch);
  const uploadId = await create(client, target, options);
  try {
    const ranges = partRanges(version.size, copyPartSize(version.size, threshold));
    const parts = await inParallel(ranges, COPY_CONCURRENCY, (range, i) => copyPart(client, source, target, uploadId, i + 1, range, version.etag));
    const after = await headSource(client, source, version.etag);
    if (after.lastModified !== version.lastModified) throw new ObjectChangedError(`${where(source)} was rewritten during its copy`);
    // The version written, on a bucket that keeps versions.
    return (await sendComplete(client, target, uploadId, parts)).VersionId;
  } catch (error) {
    // The first failure is what the caller needs. A failed abort leaves an incomplete upload on the target:
    // invisible to readers, its parts kept until an AbortIncompleteMultipartUpload lifecycle rule drops them.
    await abort(client, target, uploadId).catch(() => undefined);
    throw sourceError(error, source);
  }
}

/** HEAD of the copy's source, bound to `ifMatch` when given. */
async function headSource(client: S3Client, source: S3Location, ifMatch: string | undefined): Promise<SourceVersion> {
  const head = await client
    .send(new HeadObjectCommand({
      Bucket: source.bucket,
      Key: source.key,
      ...(source.versionId !== undefined && { VersionId: source.versionId }),
      ...(ifMatch !== undefined && { IfMatch: ifMatch }),
    }))
    .catch((error: unknown) => {
      throw sourceError(error, source);
    });
  return {
    size: head.ContentLength ?? 0,
    ...(head.ETag !== undefined && { etag: head.ETag }),
    ...(head.LastModified !== undefined && { lastModified: head.LastModified.getTime() }),
  };
}

/** A failure that concerns the source: 412 means it changed, 404 that it is gone (HEAD says NotFound). */
function sourceError(error: unknown, source: S3Location): unknown {
  if (!(error instanceof S3ServiceException)) return error;
  if (error.$metadata.httpStatusCode === 412) return new ObjectChangedError(`${where(source)} changed`, { cause: error });
  if (error.name === 'NoSuchKey' || error.name === 'NotFound') return new ObjectMissingError(`${where(source)} does not exist`, { cause: error });
  return error;
}

/** Inclusive byte ranges covering `size` bytes. */
function partRanges(size: number, partSize: number): [first: number, last: number][] {
  const ranges: [number, number][] = [];
  for (let first = 0; first < size; first += partSize) ranges.push([first, Math.min(first + partSize, size) - 1]);
  return ranges;
}

async function copyPart(
  client: S3Client,
  source: S3Location,
  target: S3Location,
  uploadId: string,
  partNumber: number,
  [first, last]: [number, number],
  etag: string | undefined,
): Promise<CompletedPart> {
  const { CopyPartResult } = await client.send(new UploadPartCopyCommand({
    Bucket: target.bucket,
    Key: target.key,
    UploadId: uploadId,
    PartNumber: partNumber,
    CopySource: copySource(source),
    CopySourceRange: `bytes=${first}-${last}`,
    ...(etag !== undefined && { CopySourceIfMatch: etag }),
  }));
  if (!CopyPartResult?.ETag) throw new Error(`UploadPartCopy of part ${partNumber} of ${where(target)} answered no ETag`);
  return { PartNumber: partNumber, ETag: CopyPartResult.ETag };
}

/** x-amz-copy-source: `bucket/key`, URL-encoded by the caller (the SDK sends it as given), and `?versionId=` of a version. */
export function copySource({ bucket, key, versionId }: S3Location): string {
  return `${bucket}/${encodeKey(key)}${versionId !== undefined ? `?versionId=${encodeURIComponent(versionId)}` : ''}`;
}

/**
 * `work` on every item, at most `limit` at a time, results in order. After a failure no new item starts,
 * and the first failure is thrown once all running ones have settled (so an abort comes after them).
 */
async function inParallel<T, R>(items: T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await work(items[index]!, index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const failure = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (failure) throw failure.reason;
  return results;
}
