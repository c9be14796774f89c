/** A verified, stored file as the Upfront API describes it. */
export interface UploadedFile {
  id: string;
  route: string;
  key: string;
  filename: string;
  contentType: string;
  size: number;
  visibility: 'public' | 'private';
  createdAt: string;
  /** A public URL, or a short-lived signed download URL for private files. */
  url: string;
}

/** An upload rule of the server (what may be uploaded, how big, where it lands). */
export interface UploadRoute {
  name: string;
  types: string[];
  maxSize: number;
  visibility: 'public' | 'private';
  strategy: string;
}

/** The API's answer to "create an upload": one signed request to send the bytes with. */
export interface CreatedUpload {
  id: string;
  key: string;
  strategy: 'put' | 'post';
  expiresAt: string;
  put?: { method: 'PUT'; url: string; headers: Record<string, string> };
  post?: { method: 'POST'; url: string; fields: Record<string, string> };
}

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

export interface FilePage {
  files: UploadedFile[];
  /** Pass as `before` to get the next page; null on the last page. */
  next: string | null;
}
