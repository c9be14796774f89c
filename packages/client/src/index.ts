export { createClient } from './client.ts';
export type { UpfrontClient, UpfrontClientOptions } from './client.ts';
export { UpfrontError } from './errors.ts';
export type { FilePage, ListFilesOptions, UploadedFile, UploadOptions, UploadProgress, UploadRoute, CreatedUpload } from './types.ts';
