import { UpfrontError } from '../errors.ts';
import type { Services } from '../services.ts';
import type { UploadRecord } from '../store/types.ts';

/** The upload, if it exists and belongs to the user; others' uploads are indistinguishable from missing ones. */
export async function ownUpload(services: Services, userId: string, id: string): Promise<UploadRecord> {
  const upload = await services.store.getUpload(id);
  if (!upload || upload.userId !== userId) {
    throw new UpfrontError('not_found', 'No upload with this id belongs to you; create a new upload.');
  }
  return upload;
}
