/**
 * The disk driver's counterpart of storage events for the drop-in endpoints, whose front ends call
 * no complete: the disk endpoint tells of each object written into staging before it answers (as
 * Ceph RGW pushes its notifications), and the drop-in uploads of that key are finalized as the storage
 * hook finalizes them (events/finalize.ts). Other uploads keep waiting for their complete.
 */
import { finalizeUpload } from '../../events/finalize.ts';
import type { Logger } from '../../http/logging.ts';
import type { Services } from '../../services.ts';

export function finalizeStagedDropIns(services: Services, log: Logger): (key: string) => Promise<void> {
  return async (key) => {
    try {
      const uploads = (await services.store.findUnfinishedUploadsByKey([key])).filter((upload) => upload.sizeUnknown);
      for (const upload of uploads) {
        const summary = await finalizeUpload(services, log, { kind: 'object-created', bucket: 'staging', key, uploadId: upload.id }, upload);
        log.info(summary, 'drop-in upload finalized on disk');
      }
    } catch (error) {
      // The sweeper finalizes what is left (its settle time after the bytes landed).
      log.error({ err: error, key }, 'finalizing a drop-in upload on disk failed');
    }
  };
}
