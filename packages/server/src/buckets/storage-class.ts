/**
 * Whether the store has a storage class. Stores refuse an object written into a class they do not
 * have, but RGW takes a lifecycle transition to any name (and would never move anything), so a
 * probe object is written into the class and removed.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { putProbe } from './probe.ts';

/** Undefined when the class exists; else why not (storage's error code). */
export async function missingStorageClass(s3: S3Client, bucket: string, storageClass: string): Promise<string | undefined> {
  try {
    await (await putProbe(s3, bucket, { storageClass })).remove();
    return undefined;
  } catch (error) {
    const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    if ($metadata?.httpStatusCode === 400) return name ?? 'InvalidStorageClass';
    throw error;
  }
}
