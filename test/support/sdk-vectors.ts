/**
 * The AWS SDK v3 as the reference signer: the same request presigned by the SDK and by sigv4.ts must be
 * byte-identical. Used by test/unit/sigv4.test.ts and bench/signer.ts.
 */
import { mock } from 'node:test';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Credentials, PolicyCondition } from '../../packages/server/src/storage/sigv4.ts';

export interface ClientConfig {
  endpoint: string;
  forcePathStyle: boolean;
  region: string;
  credentials: Credentials;
}

const clients = new Map<string, S3Client>();

/** An S3Client configured as Upfront's s3 driver would be for an S3-compatible store. */
export function sdkClient(config: ClientConfig): S3Client {
  const id = JSON.stringify(config);
  let client = clients.get(id);
  if (!client) {
    client = new S3Client({
      endpoint: config.endpoint,
      forcePathStyle: config.forcePathStyle,
      region: config.region,
      credentials: { ...config.credentials },
      // Otherwise a default client bakes a checksum of an empty body into presigned URLs.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    clients.set(id, client);
  }
  return client;
}

export type SdkRequest =
  | { op: 'PutObject'; bucket: string; key: string; contentType?: string; contentLength?: number; contentMD5?: string; metadata?: Record<string, string> }
  | { op: 'GetObject'; bucket: string; key: string; responseContentDisposition?: string }
  | { op: 'HeadObject'; bucket: string; key: string }
  | { op: 'UploadPart'; bucket: string; key: string; partNumber: number; uploadId: string };

/** getSignedUrl for one request, with Content-Type/Content-Length signed (named in signableHeaders). */
export function sdkPresignUrl(config: ClientConfig, request: SdkRequest, expiresIn: number, signingDate: Date): Promise<string> {
  const client = sdkClient(config);
  const { bucket: Bucket, key: Key } = request;
  switch (request.op) {
    case 'PutObject': {
      const command = new PutObjectCommand({
        Bucket, Key, ContentType: request.contentType, ContentLength: request.contentLength,
        ContentMD5: request.contentMD5, Metadata: request.metadata,
      });
      return getSignedUrl(client, command, {
        expiresIn, signingDate,
        signableHeaders: new Set(['content-type', 'content-length']),
        // Keep x-amz-meta-* as signed headers rather than query parameters, as sigv4.ts does.
        unhoistableHeaders: new Set(Object.keys(request.metadata ?? {}).map((name) => `x-amz-meta-${name}`)),
      });
    }
    case 'GetObject':
      return getSignedUrl(client, new GetObjectCommand({ Bucket, Key, ResponseContentDisposition: request.responseContentDisposition }), { expiresIn, signingDate });
    case 'HeadObject':
      return getSignedUrl(client, new HeadObjectCommand({ Bucket, Key }), { expiresIn, signingDate });
    case 'UploadPart':
      return getSignedUrl(client, new UploadPartCommand({ Bucket, Key, PartNumber: request.partNumber, UploadId: request.uploadId }), { expiresIn, signingDate });
  }
}

export interface SdkPartRequest {
  bucket: string;
  key: string;
  partNumber: number;
  uploadId: string;
  contentLength: number;
  contentMD5?: string;
}

/**
 * getSignedUrl of UploadPart as Upfront signs a part: Content-Length and Content-MD5 (when given) signed
 * as headers, and without the SDK's cosmetic `x-id=UploadPart` query parameter (removed before signing,
 * so the signature is the SDK's own over the same request Upfront signs).
 */
export function sdkPresignPart(config: ClientConfig, request: SdkPartRequest, expiresIn: number, signingDate: Date): Promise<string> {
  const command = new UploadPartCommand({
    Bucket: request.bucket, Key: request.key, PartNumber: request.partNumber, UploadId: request.uploadId,
    ContentLength: request.contentLength, ContentMD5: request.contentMD5,
  });
  command.middlewareStack.add(
    (next) => (args) => {
      const { query } = args.request as { query: Record<string, unknown> };
      delete query['x-id'];
      return next(args);
    },
    { step: 'build', name: 'dropXId' },
  );
  return getSignedUrl(sdkClient(config), command, { expiresIn, signingDate, signableHeaders: new Set(['content-length', 'content-md5']) });
}

export interface SdkPostRequest {
  bucket: string;
  key: string;
  expiresIn: number;
  fields?: Record<string, string>;
  conditions?: PolicyCondition[];
}

/**
 * createPresignedPost at a fixed instant. It reads the clock only through Date.now() (plus the client's
 * systemClockOffset), so Date.now is pinned for the duration of the call.
 */
export async function sdkPresignPost(config: ClientConfig, request: SdkPostRequest, now: Date) {
  const clock = mock.method(Date, 'now', () => now.getTime());
  try {
    return await createPresignedPost(sdkClient(config), {
      Bucket: request.bucket,
      Key: request.key,
      Expires: request.expiresIn,
      Fields: request.fields,
      // The SDK's type for conditions is looser than PolicyCondition; the values are the same JSON.
      Conditions: request.conditions as Parameters<typeof createPresignedPost>[1]['Conditions'],
    });
  } finally {
    clock.mock.restore();
  }
}
