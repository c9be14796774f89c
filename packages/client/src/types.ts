import type { CreatedUpload, File, FileList, Route } from './api-types.ts';

export type { CreatedUpload };

/** A verified, stored file as the Upfront API describes it. */
export type UploadedFile = File;

/** An upload rule of the server (what may be uploaded, how big, where it lands). */
export type UploadRoute = Route;

export interface UploadProgress {
  loaded: number;
  total: number;
}

export interface UploadOptions {
  /** The server route to upload under, e.g. "image". */
  route: string;
  /** Required for a plain Blob; defaults to `file.name` for a File. */
  filename?: string;
  /** Defaults to `file.type`. */
  contentType?: string;
  onProgress?: (progress: UploadProgress) => void;
  signal?: AbortSignal;
}

export interface ListFilesOptions {
  limit?: number;
  /** The `next` cursor of the previous page. */
  before?: string;
}

/** A page of files, newest first; `next` is the `before` of the next page (null on the last). */
export type FilePage = FileList;
