import type { CreatedUpload, File, FileList, Route } from './api-types.ts';

export type { CreatedUpload };

/** A verified, stored file as the Upfront API describes it. */
export type UploadedFile = File;

/** An upload rule of the server (what may be uploaded, how big, where it lands). */
export type UploadRoute = Route;

export interface UploadProgress {
  /** Bytes sent so far; never goes down, and equals `total` only once storage has acknowledged every byte. */
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
  /**
   * Stops the upload in this process, as closing the tab would: the server's upload is left as it is,
   * so uploading the same file again later resumes it. `task.cancel()` also aborts it on the server.
   */
  signal?: AbortSignal;
  /**
   * Hash the bytes on the way (default true): each part's MD5 (storage refuses other bytes) and the
   * file's SHA-256 (kept with the file).
   */
  checksums?: boolean;
  /**
   * Finds an unfinished upload of the same file to resume. Computed for Blobs and Files (from name,
   * size, date, and the first and last MiB); give one for a stream to resume it; `false` never resumes.
   */
  fingerprint?: string | false;
}

/**
 * A running upload: await it for the stored file (it is a Promise), or steer it.
 */
export interface UploadTask extends Promise<UploadedFile> {
  /** The upload's id on the server, once it is created. */
  readonly id: string | undefined;
  /** Stops sending (requests in flight are cut and sent again after resume); progress holds still. */
  pause(): void;
  resume(): void;
  /** Stops the upload and aborts it on the server (its parts are dropped); the task fails with `aborted`. */
  cancel(): Promise<void>;
}

export interface ListFilesOptions {
  limit?: number;
  /** The `next` cursor of the previous page. */
  before?: string;
}

/** A page of files, newest first; `next` is the `before` of the next page (null on the last). */
export type FilePage = FileList;
