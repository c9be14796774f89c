/**
 * What is recorded of a file's variants (image sizes the `image` processor made, processors/). Rows are
 * keyed by the file's bucket and key, not its id: they are written before the file is recorded (its id
 * does not exist yet), and a replacement, written over the same key, replaces them.
 */
import type { Kysely, Selectable } from 'kysely';
import { integer, inWriteTransaction, type Int8, type StoreDatabase, type StoreDialect } from './migrations.ts';
import type { Visibility } from './types.ts';

export interface FileVariantsTable {
  bucket: Visibility;
  file_key: string;
  name: string;
  key: string;
  content_type: string;
  size: Int8;
  width: number;
  height: number;
  created_at: Int8;
}

export interface FileVariantRecord {
  bucket: Visibility;
  /** The key of the file it is a variant of. */
  fileKey: string;
  name: string;
  /** Its own key, in the same bucket. */
  key: string;
  contentType: string;
  size: number;
  width: number;
  height: number;
  createdAt: Date;
}

export type NewFileVariant = Omit<FileVariantRecord, 'createdAt'>;

export interface FileVariants {
  /** The variants of the file at (bucket, key), by name. */
  list(bucket: Visibility, fileKey: string): Promise<FileVariantRecord[]>;
  /** One transaction: the file's variants become exactly `variants`; answers those it had before. */
  replace(bucket: Visibility, fileKey: string, variants: NewFileVariant[]): Promise<FileVariantRecord[]>;
  /** Forgets the file's variants (after their objects were deleted). */
  delete(bucket: Visibility, fileKey: string): Promise<void>;
}

export class KyselyFileVariants implements FileVariants {
  constructor(
    private readonly db: Kysely<StoreDatabase>,
    private readonly dialect: StoreDialect,
  ) {}

  async list(bucket: Visibility, fileKey: string): Promise<FileVariantRecord[]> {
    const rows = await this.db.selectFrom('file_variants').selectAll().where('bucket', '=', bucket).where('file_key', '=', fileKey).orderBy('name').execute();
    return rows.map(toRecord);
  }

  replace(bucket: Visibility, fileKey: string, variants: NewFileVariant[]): Promise<FileVariantRecord[]> {
    return inWriteTransaction(this.db, this.dialect, async (trx) => {
      const before = await trx.selectFrom('file_variants').selectAll().where('bucket', '=', bucket).where('file_key', '=', fileKey).execute();
      await trx.deleteFrom('file_variants').where('bucket', '=', bucket).where('file_key', '=', fileKey).execute();
      const now = Date.now();
      if (variants.length > 0) {
        await trx
          .insertInto('file_variants')
          .values(
            variants.map((variant) => ({
              bucket,
              file_key: fileKey,
              name: variant.name,
              key: variant.key,
              content_type: variant.contentType,
              size: variant.size,
              width: variant.width,
              height: variant.height,
              created_at: now,
            })),
          )
          .execute();
      }
      return before.map(toRecord);
    });
  }

  async delete(bucket: Visibility, fileKey: string): Promise<void> {
    await this.db.deleteFrom('file_variants').where('bucket', '=', bucket).where('file_key', '=', fileKey).execute();
  }
}

function toRecord(row: Selectable<FileVariantsTable>): FileVariantRecord {
  return {
    bucket: row.bucket,
    fileKey: row.file_key,
    name: row.name,
    key: row.key,
    contentType: row.content_type,
    size: integer(row.size),
    width: integer(row.width),
    height: integer(row.height),
    createdAt: new Date(integer(row.created_at)),
  };
}
