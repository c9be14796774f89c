/** Errors of the metadata store that callers act on (the MetadataStore contract, whatever the backend). */
export type FinishUploadFailure = 'upload_not_found' | 'user_mismatch' | 'upload_ended' | 'file_deleted';

/** Why finishUpload refused to record a file; nothing was written. */
export class FinishUploadError extends Error {
  override readonly name = 'FinishUploadError';
  constructor(
    readonly reason: FinishUploadFailure,
    message: string,
  ) {
    super(message);
  }
}
