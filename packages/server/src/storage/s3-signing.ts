/**
 * What the s3 driver does without talking to storage: presigned URLs and POST policies (Upfront's own
 * SigV4 signer) and public URLs. Apart from the driver, so that it never loads the AWS SDK: a
 * create-upload needs nothing else (see lazy-s3-driver.ts).
 */
import { createPresigner, type Presigner } from './presigner.ts';
import type { S3DriverConfig } from './s3-config.ts';
import { encodeKey, objectUrl, type Credentials } from './sigv4.ts';

export function credentialsOf(config: S3DriverConfig): Credentials {
  return {
    accessKeyId: config.accessKeyId,
    secretAccessKey: config.secretAccessKey,
    ...(config.sessionToken && { sessionToken: config.sessionToken }),
  };
}

export function s3Signing(config: S3DriverConfig): { signed: Presigner; publicUrl(key: string): string } {
  const { endpoint, region, forcePathStyle, buckets } = config;
  const publicBase = config.publicBaseUrl?.replace(/\/+$/, '');
  return {
    signed: createPresigner({ endpoint, forcePathStyle, credentials: credentialsOf(config), region, bucketName: (bucket) => buckets[bucket] }),
    publicUrl(key) {
      if (publicBase === undefined) return objectUrl(endpoint, buckets.public, key, forcePathStyle);
      return `${publicBase}/${encodeKey(key)}`;
    },
  };
}
