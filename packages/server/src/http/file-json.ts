import type { Services } from '../services.ts';
import type { FileRecord } from '../store/types.ts';
import { contentDisposition } from '../uploads/filename.ts';

export interface FileJson {
  id: string;
  route: string;
  key: string;
  filename: string;
  contentType: string;
  size: number;
  visibility: 'public' | 'private';
  createdAt: string;
  /** Public URL, or a short-lived signed download (Content-Disposition: attachment) for private files. */
  url: string;
}

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
    createdAt: file.createdAt.toISOString(),
    url,
  };
}
