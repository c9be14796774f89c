/**
 * A probe object: written to check what storage does with it, then removed, on versioned buckets by
 * its exact version (a plain delete would leave the probe behind as an old version).
 */
import { randomUUID } from 'node:crypto';
import { DeleteObjectCommand, PutObjectCommand, type S3Client, type StorageClass } from '@aws-sdk/client-s3';
import { PROBE_PREFIX } from './probe-prefixes.ts';

export { DOCTOR_PREFIX, PROBE_PREFIX, PROBE_PREFIXES } from './probe-prefixes.ts';

export interface Probe {
  key: string;
  remove(): Promise<void>;
}

export async function putProbe(s3: S3Client, bucket: string, options: { key?: string; body?: string; storageClass?: string } = {}): Promise<Probe> {
  const key = options.key ?? `${PROBE_PREFIX}${randomUUID()}`;
  const { VersionId } = await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: options.body ?? '',
      ContentType: 'text/plain',
      ...(options.storageClass && { StorageClass: options.storageClass as StorageClass }),
    }),
  );
  return { key, remove: async () => void (await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, ...(VersionId && { VersionId }) }))) };
}
