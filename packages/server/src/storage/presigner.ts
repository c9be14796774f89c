/**
 * Upfront's signed requests for one S3-shaped endpoint — presigned PUT, POST policy and GET into the
 * three buckets — shared by the s3 driver and the disk driver (whose endpoint verifies real SigV4).
 */
import { bucketUrl, objectUrl, presignPost, presignUrl, uriEncode, type Credentials } from './sigv4.ts';
import type { Bucket, PresignedPost, PresignedPut, PresignGetInput, PresignPartInput, PresignPostInput, PresignPutInput } from './types.ts';

export interface PresignTarget {
  endpoint: string;
  forcePathStyle: boolean;
  credentials: Credentials;
  region: string;
  bucketName(bucket: Bucket): string;
  /** Signs a PUT's `maxSize` into its URL (MAX_SIZE_PARAM), where the endpoint enforces it: the disk endpoint's. */
  signsMaxSize?: boolean;
}

/** The query parameter of a PUT signed without its length that names the most bytes (the disk endpoint's own). */
export const MAX_SIZE_PARAM = 'x-upfront-max-size';

export interface Presigner {
  presignPut(input: PresignPutInput): PresignedPut;
  presignPost(input: PresignPostInput): PresignedPost;
  presignGet(bucket: Bucket, key: string, input: PresignGetInput): string;
  presignPart(input: PresignPartInput): PresignedPut;
}

export function createPresigner({ endpoint, forcePathStyle, credentials, region, bucketName, signsMaxSize = false }: PresignTarget): Presigner {
  const staging = bucketName('staging');
  return {
    presignPut({ key, contentType, contentLength, maxSize, contentMd5, expiresIn }) {
      // Content-Length is signed too, so storage refuses any other length. The browser sets it itself
      // (scripts may not), which is why it is not among the headers returned to the client.
      const headers: Record<string, string> = { 'content-type': contentType, ...(contentLength !== undefined && { 'content-length': String(contentLength) }) };
      const sent: Record<string, string> = { 'Content-Type': contentType };
      if (contentMd5 !== undefined) headers['content-md5'] = sent['Content-MD5'] = contentMd5;
      const limit = contentLength === undefined && maxSize !== undefined && signsMaxSize ? `?${MAX_SIZE_PARAM}=${maxSize}` : '';
      const url = presignUrl({ method: 'PUT', url: objectUrl(endpoint, staging, key, forcePathStyle) + limit, expiresIn, headers, credentials, region });
      return { method: 'PUT', url, headers: sent };
    },

    presignPost({ key, contentType, maxSize, expiresIn, fields: extra }) {
      const { url, fields } = presignPost({
        url: bucketUrl(endpoint, staging, forcePathStyle),
        bucket: staging,
        key,
        expiresIn,
        fields: { ...extra, 'Content-Type': contentType },
        conditions: postConditions(key, maxSize),
        credentials,
        region,
      });
      return { method: 'POST', url, fields };
    },

    presignPart({ key, uploadId, partNumber, contentLength, contentMd5, expiresIn }) {
      // Query values encoded by hand: RGW's upload ids hold `~`, which SigV4 keeps as is (URLSearchParams would not).
      const url = `${objectUrl(endpoint, staging, key, forcePathStyle)}?partNumber=${partNumber}&uploadId=${uriEncode(uploadId)}`;
      const headers: Record<string, string> = { 'content-length': String(contentLength) };
      if (contentMd5 !== undefined) headers['content-md5'] = contentMd5;
      const signed = presignUrl({ method: 'PUT', url, expiresIn, headers, credentials, region });
      // Content-Length is set by the sender itself; Content-MD5 must be sent as signed.
      const sent: Record<string, string> = contentMd5 !== undefined ? { 'Content-MD5': contentMd5 } : {};
      return { method: 'PUT', url: signed, headers: sent };
    },

    presignGet(bucket, key, { expiresIn, contentDisposition, versionId }) {
      // Percent-encoded by hand: URLSearchParams would write a space as `+`, which SigV4 reads as a plus.
      const query = [
        ...(contentDisposition !== undefined ? [`response-content-disposition=${uriEncode(contentDisposition)}`] : []),
        ...(versionId !== undefined ? [`versionId=${uriEncode(versionId)}`] : []),
      ];
      const url = objectUrl(endpoint, bucketName(bucket), key, forcePathStyle) + (query.length > 0 ? `?${query.join('&')}` : '');
      return presignUrl({ method: 'GET', url, expiresIn, credentials, region });
    },
  };
}

/**
 * Exact bucket, key and Content-Type (presignPost adds them from the fields) and a size range. The
 * explicit `eq` on the key keeps it exact even for a key ending in `${filename}` (which presignPost
 * would turn into a prefix). The lower bound is 1 byte: an empty body is never a file; the exact size
 * cannot be bound in a POST policy, so completion checks the real size against the declared one.
 */
export function postConditions(key: string, maxSize: number): [['eq', '$key', string], ['content-length-range', number, number]] {
  return [['eq', '$key', key], ['content-length-range', 1, maxSize]];
}
