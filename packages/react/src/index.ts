export { UpfrontProvider, useUpfrontClient } from './context.tsx';
export { UploadDropzone } from './upload-dropzone.tsx';
export type { DropzoneRenderState, UploadDropzoneProps } from './upload-dropzone.tsx';
export { useUpload } from './use-upload.ts';
export type { Upload, UploadStage, UseUploadOptions } from './use-upload.ts';
export { useUploads } from './use-uploads.ts';
export type { Uploads, UseUploadsOptions } from './use-uploads.ts';
export type { Register, RegisteredConfig, RouteOf } from './routes.ts';
export type { QueueTotal, UploadItem, UploadState } from '@upfront/client/queue';
