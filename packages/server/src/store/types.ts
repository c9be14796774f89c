/**
 * Metadata store: upload sessions and files. SQLite (embedded default) and PostgreSQL share one
 * Kysely query layer. Every state change is a single transaction or a compare-and-set update, so
 * two API instances racing on the same upload cannot both win.
 */
export type UploadState = 'pending' | 'uploaded' | 'verified' | 'ready' | 'rejected' | 'expired' | 'aborted';
/** How an upload's bytes are sent: one presigned PUT, a POST policy form, or presigned parts. */
export type Strategy = 'put' | 'post' | 'multipart';
export type Visibility = 'public' | 'private';

export interface UploadRecord {
  id: string;
  userId: string;
  route: string;
  strategy: Strategy;
  /** Same key in the staging bucket and, once promoted, in the public/private bucket. */
  key: string;
  visibility: Visibility;
  /** Sanitised original filename (metadata only; never part of the key). */
  filename: string;
  contentType: string;
  size: number;
  /** For strategy `multipart`: storage's multipart upload id and how the file is cut into parts. */
  multipart: MultipartLayout | null;
  /** Base64 MD5 of the whole file, declared by the client (single PUT: signed, so storage checks it). */
  contentMd5: string | null;
  /** Hex SHA-256 of the whole file, declared by the client; kept with the file. */
  sha256: string | null;
  /** The client's fingerprint of the file (name, size, date, first and last bytes), to resume an upload. */
  fingerprint: string | null;
  state: UploadState;
  /** Machine code of the last rejection, e.g. `content_type_mismatch`. */
  errorCode: string | null;
  /** ETag of the bytes that were verified and promoted (set when the file is recorded). */
  etag: string | null;
  fileId: string | null;
  createdAt: Date;
  updatedAt: Date;
  expiresAt: Date;
}

export interface MultipartLayout {
  uploadId: string;
  /** Bytes of every part but the last. */
  partSize: number;
  partCount: number;
}

export interface FileRecord {
  id: string;
  uploadId: string;
  userId: string;
  route: string;
  key: string;
  visibility: Visibility;
  filename: string;
  /** Type detected from the bytes. */
  contentType: string;
  size: number;
  /** Hex SHA-256 the client computed, when it sent one. */
  sha256: string | null;
  createdAt: Date;
}

export type NewUpload = Omit<UploadRecord, 'state' | 'errorCode' | 'etag' | 'fileId' | 'createdAt' | 'updatedAt'>;
export type NewFile = Omit<FileRecord, 'createdAt'>;

export interface ListFilesOptions {
  /** Default 50, at most 200. */
  limit?: number;
  /** Cursor: return files created before the file with this id (newest first). */
  before?: string;
}

export interface MetadataStore {
  /** Create or upgrade tables; safe to call on every start and from several instances. */
  migrate(): Promise<void>;
  createUpload(upload: NewUpload): Promise<UploadRecord>;
  getUpload(id: string): Promise<UploadRecord | undefined>;
  /**
   * Compare-and-set: move the upload to `to` only if its state is one of `from`.
   * Returns the updated record, or undefined if the state did not match (or no such upload).
   */
  transitionUpload(
    id: string,
    from: UploadState[],
    to: UploadState,
    patch?: { errorCode?: string | null; etag?: string | null },
  ): Promise<UploadRecord | undefined>;
  /**
   * One transaction: insert the file (unless one exists for this upload) and set the upload to
   * `ready` with its fileId. Idempotent: a second call returns the file recorded by the first.
   * Throws FinishUploadError (store/errors.ts), writing nothing, when the upload is missing, belongs to
   * another user, has ended without a file (aborted, rejected, expired), or its file was already
   * recorded and then deleted. `etag` is kept with the upload: the version of the bytes promoted.
   */
  finishUpload(file: NewFile, options?: { etag?: string | null }): Promise<FileRecord>;
  getFile(id: string): Promise<FileRecord | undefined>;
  /** The user's files, newest first. */
  listFiles(userId: string, options?: ListFilesOptions): Promise<FileRecord[]>;
  /** Returns false when there was no such file. */
  deleteFile(id: string): Promise<boolean>;
  /**
   * The user's newest upload with this fingerprint that may still become a file (not ended, not
   * expired), for resuming it; undefined when there is none.
   */
  findResumableUpload(userId: string, fingerprint: string, now: Date): Promise<UploadRecord | undefined>;
  close(): Promise<void>;
}
