import type { Services } from '../services.ts';
import type { FileRecord } from '../store/types.ts';
import { contentDisposition } from '../uploads/filename.ts';
import type { FileJson } from './schemas.ts';

export type { FileJson };

export async function fileJson({ storage, config }: Services, file: FileRecord): Promise<FileJson> {
  const url =
    file.visibility === 'public'
      ? storage.publicUrl(file.key)
      : await storage.presignGet('private', file.key, {
          expiresIn: config.downloadExpiresIn,
          contentDisposition: contentDisposition('attachment', file.filename),
        });
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
    url,
  };
}
