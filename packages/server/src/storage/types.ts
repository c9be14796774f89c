/**
 * One storage interface over every backend (Active Storage's "service", tus' "store").
 *
 * Three buckets, each with one job:
 * - `staging`: private; browsers write here with signed requests; objects expire on their own.
 * - `public`:  verified files of public routes, served as-is (CDN-ready, cached for at most an hour: keys are reused by versions).
 * - `private`: verified files of private routes, read only through short-lived signed GETs.
 *
 * Presigning is pure and, with Upfront's own signer, synchronous (the hot path of create-upload);
 * it may return a promise so a driver can use an async signer (the benchmark's AWS SDK reference).
 * Everything that talks to the backend is async. Large files go to staging as multipart uploads: created and
 * assembled by the API, their parts PUT by clients with presigned part URLs, exactly as S3 does it.
 */
export type Bucket = 'staging' | 'public' | 'private';

/** A signed PUT: send the body to `url` with exactly these headers (they are part of the signature). */
export interface PresignedPut {
  method: 'PUT';
  url: string;
  headers: Record<string, string>;
}

/** A signed POST policy form: send these fields, then the file as the last field named `file`. */
export interface PresignedPost {
  method: 'POST';
  url: string;
  fields: Record<string, string>;
}

export interface PresignPutInput {
  key: string;
  contentType: string;
  /** Exact byte length; storage refuses any other length. */
  contentLength?: number;
  /**
   * Without `contentLength` (the drop-in endpoints' uploads of unknown size): the most bytes. S3 cannot
   * bind it in a PUT, so verification checks the size; the disk endpoint refuses more (it is signed in the URL).
   */
  maxSize?: number;
  /** Base64 MD5 of the bytes: when given it is signed (Content-MD5) and storage refuses other bytes. */
  contentMd5?: string;
  expiresIn: number;
}

export interface PresignPostInput {
  key: string;
  contentType: string;
  /** Upper bound of content-length-range; storage refuses a larger body. */
  maxSize: number;
  expiresIn: number;
  /** More form fields the browser sends (a drop-in's `acl`), each signed as an exact condition. */
  fields?: Record<string, string>;
}

export interface PresignGetInput {
  expiresIn: number;
  /** Sent back as the response's Content-Disposition (response-content-disposition). */
  contentDisposition?: string;
  /** One version of the object (S3's versionId) instead of the current one. */
  versionId?: string;
}

export interface ObjectHead {
  size: number;
  contentType?: string;
  etag?: string;
}

/**
 * S3's id of an object written while its bucket kept no versions: such a write replaces the bytes
 * in place, and the object has this one version only.
 */
export const NULL_VERSION = 'null';

/** One version of an object that storage keeps (delete markers are not versions). */
export interface ObjectVersion {
  versionId: string;
  size: number;
  etag?: string;
  lastModified: Date;
  /** The version a plain GET of the key reads. */
  isLatest: boolean;
}

/** What a copy wrote, as far as storage says. */
export interface CopyResult {
  /**
   * The target's new version (NULL_VERSION where the bucket keeps no versions); absent when storage
   * does not say (Ceph RGW 16's CopyObject answers no x-amz-version-id).
   */
  versionId?: string;
  /** The ETag of the bytes written, when storage answers it. */
  etag?: string;
}

/** Metadata written on the promoted copy. */
export interface CopyOptions {
  contentType: string;
  /** The copy's storage class (S3, RGW); default the bucket's. The disk driver has no classes and ignores it. */
  storageClass?: string;
  cacheControl?: string;
  contentDisposition?: string;
  /** Copy only if the source's ETag is this one; else throw ObjectChangedError and write nothing. */
  ifMatch?: string;
  /**
   * The source's size, when the caller knows it: a driver whose single copy is limited (S3: 5 GiB)
   * copies larger objects part by part (UploadPartCopy).
   */
  size?: number;
}

export interface PresignPartInput {
  key: string;
  /** Storage's id of the multipart upload (createMultipart). */
  uploadId: string;
  /** 1 to 10,000. */
  partNumber: number;
  /** Exact byte length of this part; storage refuses any other length. */
  contentLength: number;
  /** Base64 MD5 of the part's bytes: when given it is signed (Content-MD5) and storage refuses other bytes. */
  contentMd5?: string;
  expiresIn: number;
}

/** A part that storage holds. */
export interface StoredPart {
  partNumber: number;
  size: number;
  /** Quoted hex MD5 of the part's bytes, as S3 gives it. */
  etag: string;
}

/** An object's head and its first bytes, read together: the ETag is that of these very bytes. */
export interface ObjectStart {
  head: ObjectHead;
  bytes: Uint8Array;
}

export interface ObjectRef {
  bucket: Bucket;
  key: string;
  /** As a copy's source: this version of the object, not the current one. */
  versionId?: string;
}

/** An object a listing names (the current version of its key). */
export interface ListedObject {
  key: string;
  size: number;
  lastModified: Date;
  /** Absent where listing does not give it cheaply (the disk driver). */
  etag?: string;
}

/** One page of a listing, in key order; `next` (the last key) continues it as `after`, absent on the last page. */
export interface ObjectPage {
  objects: ListedObject[];
  next?: string;
}

/** An object opened for reading: its head and a stream of all its bytes (of the version the head describes). */
export interface ObjectRead {
  head: ObjectHead;
  body: ReadableStream<Uint8Array>;
}

/** Metadata of an object written with put, and its exact length (a single write: at most 5 GiB on S3). */
export interface PutOptions extends Omit<CopyOptions, 'ifMatch' | 'size'> {
  size: number;
}

/** A multipart upload storage holds in the staging bucket, not yet completed or aborted. */
export interface InProgressMultipart {
  key: string;
  uploadId: string;
  initiated: Date;
}

export interface StorageDriver {
  readonly kind: 'disk' | 's3';
  /** Presigned PUT into the staging bucket. */
  presignPut(input: PresignPutInput): PresignedPut | Promise<PresignedPut>;
  /** Presigned POST policy into the staging bucket. */
  presignPost(input: PresignPostInput): PresignedPost | Promise<PresignedPost>;
  /** Short-lived signed GET of any bucket's object (or of one of its versions). */
  presignGet(bucket: Bucket, key: string, input: PresignGetInput): string | Promise<string>;
  /** Unsigned URL of an object in the public bucket. */
  publicUrl(key: string): string;
  /** Size and type of an object, or null when it does not exist. */
  head(bucket: Bucket, key: string): Promise<ObjectHead | null>;
  /**
   * The object's head and its first `length` bytes (fewer if it is smaller), in one request; null
   * when it does not exist. For verification: size, ETag and magic bytes of one version.
   */
  readStart(bucket: Bucket, key: string, length: number): Promise<ObjectStart | null>;
  /**
   * Streams the whole object; null when it does not exist. With `ifMatch`, only the version of that ETag:
   * else ObjectChangedError (processors read exactly the bytes that were verified).
   */
  read(bucket: Bucket, key: string, options?: { ifMatch?: string }): Promise<ObjectRead | null>;
  /**
   * Writes `body` (exactly `options.size` bytes) as the object, a new version in a versioned bucket as a
   * copy writes one (processed bytes, image variants).
   */
  put(bucket: Bucket, key: string, body: ReadableStream<Uint8Array>, options: PutOptions): Promise<CopyResult>;
  /**
   * Server-side copy, replacing metadata with `options`. Over an existing object of a versioned bucket
   * it writes a new version (the public and private buckets keep versions where storage does: S3
   * buckets `upfront setup` provisioned, always on disk), and answers which.
   */
  copy(from: ObjectRef, to: ObjectRef, options: CopyOptions): Promise<CopyResult>;
  /**
   * Delete; a missing object is not an error. Without `versionId` it deletes the current object (a
   * versioned bucket keeps the older versions); with it, exactly that version (the one before it is
   * then current, as on S3).
   */
  delete(bucket: Bucket, key: string, versionId?: string): Promise<void>;
  /** The versions storage keeps of exactly this key, newest first; [] when there is none. */
  listVersions(bucket: Bucket, key: string): Promise<ObjectVersion[]>;

  /** Starts a multipart upload of `key` into the staging bucket; returns storage's upload id. */
  createMultipart(key: string, contentType: string): Promise<string>;
  /** A signed PUT of one part: binds the key, upload id, part number, exact length and, if given, the MD5. */
  presignPart(input: PresignPartInput): PresignedPut | Promise<PresignedPut>;
  /** The parts storage holds, by part number; null when there is no such multipart upload (completed or aborted). */
  listParts(key: string, uploadId: string): Promise<StoredPart[] | null>;
  /**
   * Assembles the listed parts, in order, into the staged object `key` (its ETag: the MD5 of the parts'
   * MD5s, then `-N`). Throws InvalidPartsError when a part is missing or is not the one named, and
   * ObjectMissingError when there is no such multipart upload.
   */
  completeMultipart(key: string, uploadId: string, parts: { partNumber: number; etag: string }[]): Promise<void>;
  /** Aborts the multipart upload and drops its parts; an unknown upload is not an error. */
  abortMultipart(key: string, uploadId: string): Promise<void>;

  /** One page of the bucket's objects (keys starting with `prefix`, after `after`), in key order (the sweeper's). */
  list(bucket: Bucket, options?: { prefix?: string; after?: string }): Promise<ObjectPage>;
  /** Every multipart upload in progress in the staging bucket under `prefix` (the sweeper's). */
  listMultipartUploads(prefix?: string): Promise<InProgressMultipart[]>;
}
