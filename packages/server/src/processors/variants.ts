/** A file's variants as the API shows them, and their removal with the file. */
import type { FileVariantJson } from '../http/schemas.ts';
import type { Services } from '../services.ts';
import type { FileRecord, Visibility } from '../store/types.ts';
import { contentDisposition } from '../uploads/filename.ts';
import { variantFilename } from './variant-keys.ts';

/** URLs like the file's own: public, or signed for a short while (a download named after the file). */
export async function variantsJson({ storage, store, config }: Services, file: FileRecord): Promise<FileVariantJson[]> {
  const variants = await store.variants.list(file.visibility, file.key);
  return Promise.all(
    variants.map(async (variant) => ({
      name: variant.name,
      url:
        file.visibility === 'public'
          ? storage.publicUrl(variant.key)
          : await storage.presignGet('private', variant.key, {
              expiresIn: config.downloadExpiresIn,
              contentDisposition: contentDisposition('attachment', variantFilename(file.filename, variant.key)),
            }),
      width: variant.width,
      height: variant.height,
      contentType: variant.contentType,
      size: variant.size,
    })),
  );
}

/** Deletes the variants' objects, then their records: a failure in between leaves records a retry deletes. */
export function deleteVariants(services: Services, file: FileRecord): Promise<void> {
  return discardVariants(services, file.visibility, file.key);
}

/** Deletes the variants of the file at (bucket, fileKey): with the file, or those of bytes nobody will record. */
export async function discardVariants({ storage, store }: Services, bucket: Visibility, fileKey: string): Promise<void> {
  const variants = await store.variants.list(bucket, fileKey);
  if (variants.length === 0) return;
  await Promise.all(variants.map((variant) => storage.delete(variant.bucket, variant.key)));
  await store.variants.delete(bucket, fileKey);
}
