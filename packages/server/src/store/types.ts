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
  /**
   * The file this upload replaces: its bytes are staged at `key` and promoted over the file's key, as a
   * new version; on `ready`, `fileId` is that file.
   */
  replaces: string | null;
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
  /**
   * Storage's id of the version this record describes (filename, type, size, SHA-256 are that version's);
   * null for files recorded before versions were.
   */
  versionId: string | null;
  /** Counts changes of the current version (setCurrentVersion compares and sets it). */
  revision: number;
  createdAt: Date;
}

/** What was recorded of one version of a file's key (storage keeps its bytes and its id). */
export interface FileVersionRecord {
  fileId: string;
  versionId: string;
  /** The upload that wrote it; null for a version a restore wrote (a copy of another). */
  uploadId: string | null;
  filename: string;
  contentType: string;
  size: number;
  sha256: string | null;
  createdAt: Date;
}

export type NewUpload = Omit<UploadRecord, 'state' | 'errorCode' | 'etag' | 'fileId' | 'replaces' | 'createdAt' | 'updatedAt'> & {
  replaces?: string | null;
};
export type NewFile = Omit<FileRecord, 'createdAt' | 'versionId' | 'revision'>;
export type NewFileVersion = Omit<FileVersionRecord, 'createdAt'>;

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
  finishUpload(file: NewFile, options?: { etag?: string | null; versionId?: string }): Promise<FileRecord>;
  /**
   * The replacement's counterpart of finishUpload, one transaction: records the version it wrote
   * and sets the upload `ready` with the replaced file as its fileId (the file row itself follows
   * storage's current version: setCurrentVersion). Idempotent; throws FinishUploadError like
   * finishUpload, `file_deleted` when the replaced file is gone.
   */
  finishReplacement(version: NewFileVersion & { uploadId: string }, userId: string, options?: { etag?: string | null }): Promise<void>;
  /** Records a version (a restore's); a second record of the same version replaces the first. */
  addFileVersion(version: NewFileVersion): Promise<void>;
  /** What was recorded of the file's versions, by version id. */
  listFileVersions(fileId: string): Promise<FileVersionRecord[]>;
  /**
   * Compare-and-set: makes the file row describe version `versionId` (its recorded metadata, or
   * `unrecorded`'s, which is then recorded) if the file's revision is still `revision`; the updated
   * file, or undefined when the revision moved on (or the file is gone).
   */
  setCurrentVersion(fileId: string, revision: number, versionId: string, unrecorded: NewFileVersion): Promise<FileRecord | undefined>;
  getFile(id: string): Promise<FileRecord | undefined>;
  /** The user's files, newest first. */
  listFiles(userId: string, options?: ListFilesOptions): Promise<FileRecord[]>;
  /** Deletes the file and what was recorded of its versions; returns false when there was no such file. */
  deleteFile(id: string): Promise<boolean>;
  /**
   * The user's newest upload with this fingerprint that may still become a file (not ended, not
   * expired), for resuming it; undefined when there is none.
   */
  findResumableUpload(userId: string, fingerprint: string, now: Date): Promise<UploadRecord | undefined>;
  close(): Promise<void>;
}
