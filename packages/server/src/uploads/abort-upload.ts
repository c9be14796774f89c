import { UpfrontError } from '../errors.ts';
import type { Services } from '../services.ts';
import { ownUpload } from './own-upload.ts';

/** Rounds of "compare-and-set, else re-read" before giving up: each lost round means the state moved on. */
const MAX_STEPS = 4;

/**
 * Abort: no file will come of this upload, and its staged bytes are deleted. Wins only before
 * verification has passed; an upload that already ended without a file is "aborted" already (204
 * again, repeating the delete in case the first one failed half-way).
 */
export async function abortUpload(services: Services, userId: string, id: string): Promise<void> {
  const { storage, store } = services;
  const upload = await ownUpload(services, userId, id);
  for (let step = 0; step < MAX_STEPS; step++) {
    const aborted = await store.transitionUpload(upload.id, ['pending', 'uploaded'], 'aborted');
    const state = aborted ? 'aborted' : (await store.getUpload(upload.id))?.state;
    switch (state) {
      case 'aborted':
      case 'rejected':
      case 'expired':
      case undefined:
        await storage.delete('staging', upload.key);
        return;
      case 'verified':
      case 'ready':
        throw new UpfrontError(
          'upload_completed',
          state === 'ready'
            ? 'This upload is complete and can no longer be aborted; delete its file instead (DELETE /v1/files/:id).'
            : 'This upload passed verification and is being completed; delete its file once it is ready instead.',
        );
    }
    // pending or uploaded again (its bytes changed after verification): try once more.
  }
  throw new UpfrontError('upload_incomplete', 'The upload kept changing while it was aborted; try again.');
}
