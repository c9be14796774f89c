export { createClient } from './client.ts';
export type { UpfrontClient, UpfrontClientOptions } from './client.ts';
export { UpfrontError } from './errors.ts';
export type { StreamSource, UploadSource } from './source.ts';
export type { FilePage, ListFilesOptions, UploadedFile, UploadOptions, UploadProgress, UploadRoute, UploadTask, CreatedUpload } from './types.ts';
/** The API's JSON for adapters that drive uploads themselves (@upfront/uppy). */
export type { CreateUploadRequest, SignedParts, Upload } from './api-types.ts';
