import { UpfrontError } from '../errors.ts';
import type { Services } from '../services.ts';
import { discardStaged } from './complete-upload.ts';
import { ownUpload } from './own-upload.ts';
import { UNFINISHED_STATES } from '../store/types.ts';

/**
 * Abort: no file will come of this upload, and its staged bytes are deleted. Wins unless the file is
 * already recorded (a complete that promoted meanwhile removes its copy, see completeUpload); an
 * upload that already ended without a file is "aborted" already: 204 again, repeating the delete in
 * case the first one failed half-way.
 */
export async function abortUpload(services: Services, userId: string, id: string): Promise<void> {
  const { store } = services;
  const upload = await ownUpload(services, userId, id);
  const aborted = await store.transitionUpload(upload.id, UNFINISHED_STATES, 'aborted');
  // Lost the compare-and-set: the upload has ended one way or another.
  if (!aborted && (await store.getUpload(upload.id))?.state === 'ready') {
    throw new UpfrontError('upload_completed', 'This upload is complete and can no longer be aborted; delete its file instead (DELETE /v1/files/:id).');
  }
  await discardStaged(services, upload);
}
