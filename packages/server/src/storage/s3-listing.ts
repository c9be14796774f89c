/** The S3 driver's listings, for the sweeper: ListObjectsV2 a page at a time, ListMultipartUploads whole. */
import { ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { InProgressMultipart, ObjectPage } from './types.ts';

export async function listObjects(client: S3Client, bucket: string, { prefix, after }: { prefix?: string; after?: string }): Promise<ObjectPage> {
  const page = await client.send(
    new ListObjectsV2Command({ Bucket: bucket, ...(prefix && { Prefix: prefix }), ...(after !== undefined && { StartAfter: after }) }),
  );
  const objects = (page.Contents ?? []).flatMap((object) =>
    object.Key === undefined
      ? []
      : [{ key: object.Key, size: object.Size ?? 0, lastModified: object.LastModified ?? new Date(0), ...(object.ETag !== undefined && { etag: object.ETag }) }],
  );
  const last = objects.at(-1)?.key;
  // StartAfter with the last key continues it (a continuation token would be stateful: a key is not).
  return { objects, ...(page.IsTruncated && last !== undefined && { next: last }) };
}

export async function listMultipartUploads(client: S3Client, bucket: string, prefix?: string): Promise<InProgressMultipart[]> {
  const uploads: InProgressMultipart[] = [];
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    const page = await client.send(
      new ListMultipartUploadsCommand({
        Bucket: bucket,
        ...(prefix && { Prefix: prefix }),
        ...(keyMarker !== undefined && { KeyMarker: keyMarker }),
        ...(uploadIdMarker !== undefined && { UploadIdMarker: uploadIdMarker }),
      }),
    );
    for (const upload of page.Uploads ?? []) {
      if (upload.Key === undefined || upload.UploadId === undefined) continue;
      uploads.push({ key: upload.Key, uploadId: upload.UploadId, initiated: upload.Initiated ?? new Date(0) });
    }
    if (!page.IsTruncated || page.NextKeyMarker === undefined) return uploads;
    keyMarker = page.NextKeyMarker;
    uploadIdMarker = page.NextUploadIdMarker;
  }
}
