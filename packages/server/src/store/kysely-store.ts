/**
 * MetadataStore on Kysely: the same queries for SQLite and PostgreSQL. Every change is a single
 * compare-and-set statement or one write transaction (see `inWriteTransaction`).
 */
import type { CompiledQuery, Insertable, Kysely, Selectable } from 'kysely';
import { FinishUploadError } from './errors.ts';
import { GroupCommit } from './group-commit.ts';
import { integer, inWriteTransaction, migrate } from './migrations.ts';
import type { FilesTable, FileVersionsTable, StoreDatabase, StoreDialect, UploadsTable } from './migrations.ts';
import { insertOutboxMessage, KyselyWebhookOutbox, type NewOutboxMessage } from './webhook-outbox.ts';
import { KyselyFileVariants } from './file-variants.ts';
import {
  UNFINISHED_STATES,
  type FileRecord,
  type FileVersionRecord,
  type ListFilesOptions,
  type MetadataStore,
  type NewFile,
  type NewFileVersion,
  type NewUpload,
  type QuotaCheck,
  type QuotaExceeded,
  type UploadRecord,
  type UploadState,
  type UserUsage,
  type Visibility,
} from './types.ts';
import { countRequest, lockUserQuota, readUsage } from './usage.ts';
import { filesByKey, filesPage, markMissing, unfinishedUploads, unfinishedUploadsByKey, type Page } from './sweep-queries.ts';

const defaultListLimit = 50;
const maxListLimit = 200;
/** Rows per batched INSERT: 23 parameters each stays far below SQLite's (32,766) and PostgreSQL's limits. */
const maxInsertBatch = 64;

export interface KyselyStoreOptions {
  dialect: StoreDialect;
  /** PostgreSQL only: the schema the connection's search_path names; migrate() creates it. */
  schema?: string;
}

export class KyselyStore implements MetadataStore {
  readonly #db: Kysely<StoreDatabase>;
  readonly #options: KyselyStoreOptions;
  readonly #uploadInserts = new GroupCommit((rows: Insertable<UploadsTable>[]) => this.#insertUploads(rows), {
    maxBatch: maxInsertBatch,
  });
  readonly #uploadInsertQueries = new Map<number, CompiledQuery<Selectable<UploadsTable>>>();
  readonly webhookOutbox: KyselyWebhookOutbox;
  readonly variants: KyselyFileVariants;

  constructor(db: Kysely<StoreDatabase>, options: KyselyStoreOptions) {
    this.#db = db;
    this.#options = options;
    this.webhookOutbox = new KyselyWebhookOutbox(db, options.dialect);
    this.variants = new KyselyFileVariants(db, options.dialect);
  }

  /**
   * `work` as one write transaction, given `emit` to write a webhook event in it; once a transaction
   * that wrote one has committed, the delivery worker is nudged.
   */
  async #writing<T>(work: (trx: Kysely<StoreDatabase>, emit: (message: NewOutboxMessage) => Promise<void>) => Promise<T>): Promise<T> {
    let emitted = false;
    const result = await inWriteTransaction(this.#db, this.#options.dialect, (trx) =>
      work(trx, async (message) => {
        await insertOutboxMessage(trx, message, Date.now());
        emitted = true;
      }),
    );
    if (emitted) this.webhookOutbox.written();
    return result;
  }

  migrate(): Promise<void> {
    return migrate(this.#db, this.#options);
  }

  async createUpload(upload: NewUpload): Promise<UploadRecord> {
    return toUploadRecord(await this.#uploadInserts.add(newUploadRow(upload, Date.now())));
  }

  createUploadWithinQuota(upload: NewUpload, checks: QuotaCheck[]): Promise<{ upload: UploadRecord } | { exceeded: QuotaExceeded }> {
    const { dialect } = this.#options;
    return inWriteTransaction(this.#db, dialect, async (trx) => {
      await lockUserQuota(trx, dialect, upload.userId);
      const usage = await readUsage(trx, upload.userId);
      const exceeded = firstExceeded(usage, checks, upload);
      if (exceeded) return { exceeded };
      const row = await trx.insertInto('uploads').values(newUploadRow(upload, Date.now())).returningAll().executeTakeFirstOrThrow();
      return { upload: toUploadRecord(row) };
    });
  }

  getUsage(userId: string): Promise<UserUsage> {
    return readUsage(this.#db, userId);
  }

  countRequest(key: string, windowStart: number, windowMs: number): Promise<{ current: number; previous: number }> {
    return countRequest(this.#db, key, windowStart, windowMs);
  }

  async pruneRequestCounts(before: number): Promise<number> {
    const result = await this.#db.deleteFrom('rate_limit_windows').where('window_start', '<', before).executeTakeFirst();
    return Number(result.numDeletedRows);
  }


  /**
   * One `INSERT … VALUES (…), (…) RETURNING *` for a batch of new uploads. Its SQL depends only on
   * the number of rows (every row has the same columns in the same order), so it is compiled once
   * per batch size and then reused with the new values.
   */
  async #insertUploads(rows: Insertable<UploadsTable>[]): Promise<Selectable<UploadsTable>[]> {
    let query = this.#uploadInsertQueries.get(rows.length);
    if (query) {
      query = { ...query, parameters: rows.flatMap((row) => Object.values(row)) };
    } else {
      query = this.#db.insertInto('uploads').values(rows).returningAll().compile();
      this.#uploadInsertQueries.set(rows.length, query);
    }
    const { rows: inserted } = await this.#db.executeQuery(query);
    const byId = new Map(inserted.map((row) => [row.id, row]));
    return rows.map((row) => byId.get(row.id)!);
  }

  async getUpload(id: string): Promise<UploadRecord | undefined> {
    const row = await this.#db.selectFrom('uploads').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toUploadRecord(row);
  }

  async transitionUpload(
    id: string,
    from: readonly UploadState[],
    to: UploadState,
    patch: { errorCode?: string | null; etag?: string | null } = {},
    { event }: { event?: NewOutboxMessage } = {},
  ): Promise<UploadRecord | undefined> {
    if (from.length === 0) return undefined;
    if (event) {
      // The same compare-and-set, and its event only if it matched.
      return this.#writing(async (trx, emit) => {
        const row = await transition(trx, id, from, to, patch);
        if (row) await emit(event);
        return row && toUploadRecord(row);
      });
    }
    const row = await transition(this.#db, id, from, to, patch);
    return row && toUploadRecord(row);
  }

  /**
   * Also refuses (FinishUploadError, nothing written) when the upload does not exist, belongs to
   * another user, is `ready` but its file was deleted (a retried complete must not bring a deleted
   * file back), or has ended without a file: an abort that won a race must not be overridden by a
   * promotion that started before it.
   */
  finishUpload(
    file: NewFile,
    { etag = null, versionId, event }: { etag?: string | null; versionId?: string; event?: (file: FileRecord) => NewOutboxMessage } = {},
  ): Promise<FileRecord> {
    const { dialect } = this.#options;
    return this.#writing(async (trx, emit) => {
      const upload = await lockUpload(trx, dialect, file.uploadId, file.userId);
      const existing = await trx
        .selectFrom('files')
        .selectAll()
        .where('upload_id', '=', file.uploadId)
        .executeTakeFirst();
      if (existing) return toFileRecord(existing);
      if (upload.state === 'ready') {
        throw new FinishUploadError(
          'file_deleted',
          `Upload ${file.uploadId} was finished and its file has since been deleted.`,
        );
      }
      if (upload.state === 'aborted' || upload.state === 'rejected' || upload.state === 'expired') {
        throw new FinishUploadError('upload_ended', `Upload ${file.uploadId} is ${upload.state}: no file comes of it.`);
      }
      const now = Date.now();
      const inserted = await trx
        .insertInto('files')
        .values({
          id: file.id,
          upload_id: file.uploadId,
          user_id: file.userId,
          route: file.route,
          key: file.key,
          visibility: file.visibility,
          filename: file.filename,
          content_type: file.contentType,
          size: byteCount(file.size),
          sha256: file.sha256,
          version_id: versionId ?? null,
          created_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      if (versionId !== undefined) {
        await upsertVersion(trx, { ...file, fileId: file.id, versionId, uploadId: file.uploadId }, now);
      }
      await trx
        .updateTable('uploads')
        .set({ state: 'ready', file_id: file.id, etag, updated_at: now })
        .where('id', '=', file.uploadId)
        .execute();
      const recorded = toFileRecord(inserted);
      if (event) await emit(event(recorded));
      return recorded;
    });
  }

  finishReplacement(
    version: NewFileVersion & { uploadId: string },
    userId: string,
    { etag = null, event }: { etag?: string | null; event?: NewOutboxMessage } = {},
  ): Promise<void> {
    const { dialect } = this.#options;
    return this.#writing(async (trx, emit) => {
      const upload = await lockUpload(trx, dialect, version.uploadId, userId);
      const file = await trx.selectFrom('files').select('id').where('id', '=', version.fileId).executeTakeFirst();
      if (!file) throw new FinishUploadError('file_deleted', `File ${version.fileId}, which upload ${version.uploadId} replaces, has been deleted.`);
      if (upload.state === 'ready') return;
      if (upload.state === 'aborted' || upload.state === 'rejected' || upload.state === 'expired') {
        throw new FinishUploadError('upload_ended', `Upload ${version.uploadId} is ${upload.state}: no version comes of it.`);
      }
      const now = Date.now();
      await upsertVersion(trx, version, now);
      await trx
        .updateTable('uploads')
        .set({ state: 'ready', file_id: version.fileId, etag, updated_at: now })
        .where('id', '=', version.uploadId)
        .execute();
      if (event) await emit(event);
    });
  }

  async addFileVersion(version: NewFileVersion, { event }: { event?: NewOutboxMessage } = {}): Promise<void> {
    if (!event) return upsertVersion(this.#db, version, Date.now());
    await this.#writing(async (trx, emit) => {
      await upsertVersion(trx, version, Date.now());
      await emit(event);
    });
  }

  async listFileVersions(fileId: string): Promise<FileVersionRecord[]> {
    const rows = await this.#db.selectFrom('file_versions').selectAll().where('file_id', '=', fileId).execute();
    return rows.map(toFileVersionRecord);
  }

  setCurrentVersion(fileId: string, revision: number, versionId: string, unrecorded: NewFileVersion): Promise<FileRecord | undefined> {
    return inWriteTransaction(this.#db, this.#options.dialect, async (trx) => {
      const recorded = () =>
        trx.selectFrom('file_versions').selectAll().where('file_id', '=', fileId).where('version_id', '=', versionId).executeTakeFirst();
      let version = await recorded();
      if (!version) {
        // Its writer's record, if it commits meanwhile, stays: it knows more.
        await upsertVersion(trx, { ...unrecorded, fileId, versionId }, Date.now(), { keep: true });
        version = (await recorded())!;
      }
      // The WHERE on the revision is the compare: a sync that read storage before another one
      // committed matches nothing, and reads again.
      const row = await trx
        .updateTable('files')
        .set({
          filename: version.filename,
          content_type: version.content_type,
          size: integer(version.size),
          sha256: version.sha256,
          version_id: versionId,
          revision: revision + 1,
        })
        .where('id', '=', fileId)
        .where('revision', '=', revision)
        .returningAll()
        .executeTakeFirst();
      return row && toFileRecord(row);
    });
  }

  async getFile(id: string): Promise<FileRecord | undefined> {
    const row = await this.#db.selectFrom('files').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toFileRecord(row);
  }

  /**
   * `before` must be one of this user's files; an unknown cursor (deleted, or another user's)
   * gives an empty page rather than restarting from the newest file.
   */
  async listFiles(userId: string, options: ListFilesOptions = {}): Promise<FileRecord[]> {
    const limit = clampLimit(options.limit);
    let query = this.#db.selectFrom('files').selectAll().where('user_id', '=', userId);
    if (options.before !== undefined) {
      const cursor = await this.#db
        .selectFrom('files')
        .select(['id', 'created_at'])
        .where('id', '=', options.before)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      if (!cursor) return [];
      const createdAt = integer(cursor.created_at);
      query = query.where((eb) =>
        eb.or([
          eb('created_at', '<', createdAt),
          eb.and([eb('created_at', '=', createdAt), eb('id', '<', cursor.id)]),
        ]),
      );
    }
    const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    return rows.map(toFileRecord);
  }

  /**
   * Deletes the file row and, in the same transaction, nulls the upload's fileId. The upload row
   * stays (state `ready`): it is the record that this upload was completed, which is what stops a
   * retried complete from recording the file again.
   */
  deleteFile(id: string, { event }: { event?: (file: FileRecord) => NewOutboxMessage } = {}): Promise<boolean> {
    return this.#writing(async (trx, emit) => {
      const deleted = await trx.deleteFrom('files').where('id', '=', id).returningAll().executeTakeFirst();
      if (!deleted) return false;
      await trx.deleteFrom('file_versions').where('file_id', '=', id).execute();
      await trx
        .updateTable('uploads')
        .set({ file_id: null, updated_at: Date.now() })
        .where('id', '=', deleted.upload_id)
        .where('file_id', '=', id)
        .execute();
      if (event) await emit(event(toFileRecord(deleted)));
      return true;
    });
  }

  async findResumableUpload(userId: string, fingerprint: string, now: Date): Promise<UploadRecord | undefined> {
    const row = await this.#db
      .selectFrom('uploads')
      .selectAll()
      .where('user_id', '=', userId)
      .where('fingerprint', '=', fingerprint)
      .where('state', 'in', UNFINISHED_STATES)
      .where('expires_at', '>', epochMillis(now, 'now'))
      .orderBy('created_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row && toUploadRecord(row);
  }

  async listUnfinishedUploads(page: Page): Promise<UploadRecord[]> {
    return (await unfinishedUploads(this.#db, page)).map(toUploadRecord);
  }

  async findUnfinishedUploadsByKey(keys: string[]): Promise<UploadRecord[]> {
    return (await unfinishedUploadsByKey(this.#db, keys)).map(toUploadRecord);
  }

  async findFilesByKey(visibility: Visibility, keys: string[]): Promise<FileRecord[]> {
    return (await filesByKey(this.#db, visibility, keys)).map(toFileRecord);
  }

  async scanFiles(page: Page): Promise<FileRecord[]> {
    return (await filesPage(this.#db, page)).map(toFileRecord);
  }

  setFileMissing(id: string, missingAt: Date | null): Promise<boolean> {
    return markMissing(this.#db, id, missingAt);
  }

  close(): Promise<void> {
    return this.#db.destroy();
  }
}

/** The row of a new upload, `pending`. */
function newUploadRow(upload: NewUpload, now: number): Insertable<UploadsTable> {
  return {
    id: upload.id,
    user_id: upload.userId,
    route: upload.route,
    strategy: upload.strategy,
    key: upload.key,
    visibility: upload.visibility,
    filename: upload.filename,
    content_type: upload.contentType,
    size: byteCount(upload.size),
    state: 'pending',
    error_code: null,
    file_id: null,
    etag: null,
    multipart_id: upload.multipart?.uploadId ?? null,
    part_size: upload.multipart ? byteCount(upload.multipart.partSize) : null,
    part_count: upload.multipart?.partCount ?? null,
    content_md5: upload.contentMd5,
    sha256: upload.sha256,
    fingerprint: upload.fingerprint,
    replaces: upload.replaces ?? null,
    size_unknown: upload.sizeUnknown ? 1 : 0,
    created_at: now,
    updated_at: now,
    expires_at: epochMillis(upload.expiresAt, 'expiresAt'),
  };
}

/** The first check the new upload would break: its bytes, or one file more (a replacement adds none). */
function firstExceeded(usage: UserUsage, checks: QuotaCheck[], upload: NewUpload): QuotaExceeded | undefined {
  const empty = { bytes: 0, files: 0, reservedBytes: 0, reservedFiles: 0 };
  for (const check of checks) {
    const used = check.route === undefined ? usage.total : (usage.routes.get(check.route) ?? empty);
    if (check.bytes !== undefined && used.bytes + used.reservedBytes + upload.size > check.bytes) return { check, limit: 'bytes', usage: used };
    const adds = upload.replaces ? 0 : 1;
    if (check.files !== undefined && used.files + used.reservedFiles + adds > check.files) return { check, limit: 'files', usage: used };
  }
  return undefined;
}

/**
 * One UPDATE whose WHERE is the compare: of two racing callers, the second re-checks the state after
 * the first commits and matches nothing.
 */
function transition(
  db: Kysely<StoreDatabase>,
  id: string,
  from: readonly UploadState[],
  to: UploadState,
  patch: { errorCode?: string | null; etag?: string | null },
): Promise<Selectable<UploadsTable> | undefined> {
  return db
    .updateTable('uploads')
    .set({
      state: to,
      updated_at: Date.now(),
      ...(patch.errorCode !== undefined && { error_code: patch.errorCode }),
      ...(patch.etag !== undefined && { etag: patch.etag }),
    })
    .where('id', '=', id)
    .where('state', 'in', from)
    .returningAll()
    .executeTakeFirst();
}

/**
 * Locks the upload row (finishers and transitions of it queue behind; SQLite needs no row lock, as
 * BEGIN IMMEDIATE already serialises writers) and checks that it exists and is the user's.
 */
async function lockUpload(trx: Kysely<StoreDatabase>, dialect: StoreDialect, uploadId: string, userId: string) {
  const upload = await trx
    .selectFrom('uploads')
    .select(['user_id', 'state'])
    .where('id', '=', uploadId)
    .$if(dialect === 'postgres', (query) => query.forUpdate())
    .executeTakeFirst();
  if (!upload) {
    throw new FinishUploadError('upload_not_found', `There is no upload ${uploadId} to finish.`);
  }
  if (upload.user_id !== userId) {
    throw new FinishUploadError('user_mismatch', `Upload ${uploadId} belongs to another user than the file recorded for it.`);
  }
  return upload;
}

function toRow(version: NewFileVersion) {
  return {
    upload_id: version.uploadId,
    filename: version.filename,
    content_type: version.contentType,
    size: byteCount(version.size),
    sha256: version.sha256,
  };
}

/**
 * Records a version, replacing an earlier record of it (on a bucket without versions every write is
 * version "null"; a sync may have recorded a version before its writer did), unless `keep`.
 */
async function upsertVersion(db: Kysely<StoreDatabase>, version: NewFileVersion, now: number, { keep = false } = {}): Promise<void> {
  const row = toRow(version);
  await db
    .insertInto('file_versions')
    .values({ ...row, file_id: version.fileId, version_id: version.versionId, created_at: now })
    .onConflict((conflict) => {
      const columns = conflict.columns(['file_id', 'version_id']);
      return keep ? columns.doNothing() : columns.doUpdateSet({ ...row, created_at: now });
    })
    .execute();
}

function clampLimit(limit: number | undefined): number {
  if (limit === undefined || Number.isNaN(limit)) return defaultListLimit;
  return Math.min(maxListLimit, Math.max(1, Math.floor(limit)));
}

function byteCount(size: number): number {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new RangeError(`A size must be a whole number of bytes, not ${size}.`);
  }
  return size;
}

function epochMillis(date: Date, field: string): number {
  const millis = date.getTime();
  if (Number.isNaN(millis)) throw new RangeError(`${field} is an invalid Date.`);
  return millis;
}

function toUploadRecord(row: Selectable<UploadsTable>): UploadRecord {
  return {
    id: row.id,
    userId: row.user_id,
    route: row.route,
    strategy: row.strategy,
    key: row.key,
    visibility: row.visibility,
    filename: row.filename,
    contentType: row.content_type,
    size: integer(row.size),
    state: row.state,
    errorCode: row.error_code,
    etag: row.etag,
    multipart:
      row.multipart_id === null
        ? null
        : { uploadId: row.multipart_id, partSize: integer(row.part_size ?? 0), partCount: row.part_count ?? 0 },
    contentMd5: row.content_md5,
    sha256: row.sha256,
    fingerprint: row.fingerprint,
    replaces: row.replaces,
    sizeUnknown: Number(row.size_unknown) === 1,
    fileId: row.file_id,
    createdAt: new Date(integer(row.created_at)),
    updatedAt: new Date(integer(row.updated_at)),
    expiresAt: new Date(integer(row.expires_at)),
  };
}

function toFileRecord(row: Selectable<FilesTable>): FileRecord {
  return {
    id: row.id,
    uploadId: row.upload_id,
    userId: row.user_id,
    route: row.route,
    key: row.key,
    visibility: row.visibility,
    filename: row.filename,
    contentType: row.content_type,
    size: integer(row.size),
    sha256: row.sha256,
    versionId: row.version_id,
    revision: integer(row.revision),
    createdAt: new Date(integer(row.created_at)),
    ...(row.missing_at !== null && { missingAt: new Date(integer(row.missing_at)) }),
  };
}

function toFileVersionRecord(row: Selectable<FileVersionsTable>): FileVersionRecord {
  return {
    fileId: row.file_id,
    versionId: row.version_id,
    uploadId: row.upload_id,
    filename: row.filename,
    contentType: row.content_type,
    size: integer(row.size),
    sha256: row.sha256,
    createdAt: new Date(integer(row.created_at)),
  };
}
