import type { Services } from '../services.ts';
import type { FileRecord } from '../store/types.ts';
import { contentDisposition } from '../uploads/filename.ts';
import type { FileJson } from './schemas.ts';
import { variantsJson } from '../processors/variants.ts';

export type { FileJson };

export async function fileJson(services: Services, file: FileRecord): Promise<FileJson> {
  const { storage, config } = services;
  const url =
    file.visibility === 'public'
      ? storage.publicUrl(file.key)
      : await storage.presignGet('private', file.key, {
          expiresIn: config.downloadExpiresIn,
          contentDisposition: contentDisposition('attachment', file.filename),
        });
  return { ...fileFields(file), url, variants: await variantsJson(services, file) };
}

/** The file's JSON but its URL (webhooks send this: a signed URL could expire before it is read). */
export function fileFields(file: FileRecord): Omit<FileJson, 'url' | 'variants'> {
  return {
    id: file.id,
    route: file.route,
    key: file.key,
    filename: file.filename,
    contentType: file.contentType,
    size: file.size,
    visibility: file.visibility,
    sha256: file.sha256,
    createdAt: file.createdAt.toISOString(),
    ...(file.missingAt && { missing: true as const }),
  };
}
