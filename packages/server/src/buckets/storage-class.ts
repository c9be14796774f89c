/**
 * Whether the store has a storage class. Stores refuse an object written into a class they do not
 * have, but RGW takes a lifecycle transition to any name (and would never move anything), so a
 * probe object is written into the class and removed (its exact version, on versioned buckets).
 */
import { randomUUID } from 'node:crypto';
import { DeleteObjectCommand, PutObjectCommand, type S3Client, type StorageClass } from '@aws-sdk/client-s3';

/** Undefined when the class exists; else why not (storage's error code). */
export async function missingStorageClass(s3: S3Client, bucket: string, storageClass: string): Promise<string | undefined> {
  const Key = `upfront-probe/${randomUUID()}`;
  try {
    const { VersionId } = await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: '', StorageClass: storageClass as StorageClass }));
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key, ...(VersionId && { VersionId }) }));
    return undefined;
  } catch (error) {
    const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    if ($metadata?.httpStatusCode === 400) return name ?? 'InvalidStorageClass';
    throw error;
  }
}
