export { createClient } from './client.ts';
export type { UpfrontClient, UpfrontClientOptions } from './client.ts';
export { UpfrontError } from './errors.ts';
export type { StreamSource, UploadSource } from './source.ts';
export type { FilePage, ListFilesOptions, UploadedFile, UploadOptions, UploadProgress, UploadRoute, UploadTask, CreatedUpload } from './types.ts';
/** The API's JSON, for adapters that drive uploads themselves (@upfront/uppy) and calls the client has no method for. */
export type { CreateUploadRequest, FileVersion, SignedParts, Upload, Usage } from './api-types.ts';
