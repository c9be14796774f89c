/**
 * Metadata store: upload sessions and files. SQLite (embedded default) and PostgreSQL share one
 * Kysely query layer. Every state change is a single transaction or a compare-and-set update, so
 * two API instances racing on the same upload cannot both win.
 */
import type { NewOutboxMessage, WebhookOutbox } from './webhook-outbox.ts';

export type { NewOutboxMessage, WebhookOutbox };
import type { FileVariants } from './file-variants.ts';

export type UploadState = 'pending' | 'uploaded' | 'verified' | 'ready' | 'rejected' | 'expired' | 'aborted';
/** The states in which an upload may still become a file. */
export const UNFINISHED_STATES: readonly UploadState[] = ['pending', 'uploaded', 'verified'];
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
  /** Bytes: exact, or with `sizeUnknown` the most the upload may hold (reserved against quotas until verified). */
  size: number;
  /** No size was declared (the drop-in endpoints'): verification takes 1 to `size` bytes and records what came. */
  sizeUnknown: boolean;
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
  /** When the sweeper found the file's object gone from storage; absent while it is there. */
  missingAt?: Date;
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

export type NewUpload = Omit<UploadRecord, 'state' | 'errorCode' | 'etag' | 'fileId' | 'replaces' | 'sizeUnknown' | 'createdAt' | 'updatedAt'> & {
  replaces?: string | null;
  sizeUnknown?: boolean;
};
export type NewFile = Omit<FileRecord, 'createdAt' | 'versionId' | 'revision'>;
export type NewFileVersion = Omit<FileVersionRecord, 'createdAt'>;

/** What a user keeps (files) and has reserved (unfinished uploads), over all routes or on one. */
export interface RouteUsage {
  bytes: number;
  files: number;
  reservedBytes: number;
  reservedFiles: number;
}

export interface UserUsage {
  total: RouteUsage;
  /** By route name; routes without files or unfinished uploads are left out. */
  routes: Map<string, RouteUsage>;
}

/** A limit to keep at create: over all of a user's routes (no `route`) or on one route. */
export interface QuotaCheck {
  route?: string;
  bytes?: number;
  files?: number;
}

/** Why createUploadWithinQuota refused: the first limit the new upload would exceed, and the usage it was measured on. */
export interface QuotaExceeded {
  check: QuotaCheck;
  limit: 'bytes' | 'files';
  usage: RouteUsage;
}

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
  /**
   * createUpload under quotas, one transaction serialised per user (across instances): the upload is
   * inserted only if the user's files plus unfinished uploads plus this one stay within every check.
   */
  createUploadWithinQuota(upload: NewUpload, checks: QuotaCheck[]): Promise<{ upload: UploadRecord } | { exceeded: QuotaExceeded }>;
  /** The user's files and unfinished uploads, by route and in total. */
  getUsage(userId: string): Promise<UserUsage>;
  /**
   * Counts a request under `key` in the fixed window starting at `windowStart` (ms); atomic across
   * instances. Answers this window's count (this request included) and the previous window's.
   */
  countRequest(key: string, windowStart: number, windowMs: number): Promise<{ current: number; previous: number }>;
  /** Deletes request counts of windows that started before `before` (they no longer count); how many went. */
  pruneRequestCounts(before: number): Promise<number>;
  getUpload(id: string): Promise<UploadRecord | undefined>;
  /**
   * Compare-and-set: move the upload to `to` only if its state is one of `from`.
   * Returns the updated record, or undefined if the state did not match (or no such upload).
   * With an `event`, one transaction writes it to the webhook outbox along with a transition that happened.
   */
  transitionUpload(
    id: string,
    from: readonly UploadState[],
    to: UploadState,
    patch?: { errorCode?: string | null; etag?: string | null },
    options?: { event?: NewOutboxMessage },
  ): Promise<UploadRecord | undefined>;
  /**
   * One transaction: insert the file (unless one exists for this upload) and set the upload to
   * `ready` with its fileId. Idempotent: a second call returns the file recorded by the first.
   * Throws FinishUploadError (store/errors.ts), writing nothing, when the upload is missing, belongs to
   * another user, has ended without a file (aborted, rejected, expired), or its file was already
   * recorded and then deleted. `etag` is kept with the upload: the version of the bytes promoted.
   *
   * Webhooks: the `event` options of this and the other changes below are written to the webhook outbox
   * (store/webhook-outbox.ts) in the change's own transaction, only when the change is made (not by a
   * repeated call); a function of the record is called inside the transaction. Callers pass one only for
   * routes with a webhook.
   */
  finishUpload(file: NewFile, options?: { etag?: string | null; versionId?: string; event?: (file: FileRecord) => NewOutboxMessage }): Promise<FileRecord>;
  /**
   * The replacement's counterpart of finishUpload, one transaction: records the version it wrote
   * and sets the upload `ready` with the replaced file as its fileId (the file row itself follows
   * storage's current version: setCurrentVersion). Idempotent; throws FinishUploadError like
   * finishUpload, `file_deleted` when the replaced file is gone.
   */
  finishReplacement(version: NewFileVersion & { uploadId: string }, userId: string, options?: { etag?: string | null; event?: NewOutboxMessage }): Promise<void>;
  /** Records a version (a restore's); a second record of the same version replaces the first. */
  addFileVersion(version: NewFileVersion, options?: { event?: NewOutboxMessage }): Promise<void>;
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
  deleteFile(id: string, options?: { event?: (file: FileRecord) => NewOutboxMessage }): Promise<boolean>;
  /**
   * The user's newest upload with this fingerprint that may still become a file (not ended, not
   * expired), for resuming it; undefined when there is none.
   */
  findResumableUpload(userId: string, fingerprint: string, now: Date): Promise<UploadRecord | undefined>;
  /** The sweeper's: every user's uploads that may still become files (pending, uploaded, verified), by id. */
  listUnfinishedUploads(page: { after?: string; limit: number }): Promise<UploadRecord[]>;
  /** The sweeper's and storage events': uploads that may still become files whose key is one of `keys`. */
  findUnfinishedUploadsByKey(keys: string[]): Promise<UploadRecord[]>;
  /** The sweeper's: files of that bucket whose key is one of `keys`. */
  findFilesByKey(visibility: Visibility, keys: string[]): Promise<FileRecord[]>;
  /** The sweeper's: every user's files, by id. */
  scanFiles(page: { after?: string; limit: number }): Promise<FileRecord[]>;
  /** Marks the file's object as gone (a Date) or back (null); true when the mark changed. */
  setFileMissing(id: string, missingAt: Date | null): Promise<boolean>;
  /** Webhook events waiting for delivery, and their delivery state (webhooks/worker.ts, `upfront webhooks`). */
  readonly webhookOutbox: WebhookOutbox;
  /** Image variants stored beside files (processors/), by the file's bucket and key. */
  readonly variants: FileVariants;
  close(): Promise<void>;
}
