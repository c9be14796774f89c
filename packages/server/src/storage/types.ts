/**
 * One storage interface over every backend (Active Storage's "service", tus' "store").
 *
 * Three buckets, each with one job:
 * - `staging`: private; browsers write here with signed requests; objects expire on their own.
 * - `public`:  verified files of public routes, served as-is (CDN-ready, immutable cache headers).
 * - `private`: verified files of private routes, read only through short-lived signed GETs.
 *
 * Presigning is pure and, with Upfront's own signer, synchronous (the hot path of create-upload);
 * it may return a promise so a driver can use an async signer (the benchmark's AWS SDK reference).
 * Everything that talks to the backend is async. Multipart (create/presignPart/list/complete) will be added beside these.
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
  contentLength: number;
  expiresIn: number;
}

export interface PresignPostInput {
  key: string;
  contentType: string;
  /** Upper bound of content-length-range; storage refuses a larger body. */
  maxSize: number;
  expiresIn: number;
}

export interface PresignGetInput {
  expiresIn: number;
  /** Sent back as the response's Content-Disposition (response-content-disposition). */
  contentDisposition?: string;
}

export interface ObjectHead {
  size: number;
  contentType?: string;
  etag?: string;
}

/** Metadata written on the promoted copy. */
export interface CopyOptions {
  contentType: string;
  cacheControl?: string;
  contentDisposition?: string;
  /** Copy only if the source's ETag is this one; else throw ObjectChangedError and write nothing. */
  ifMatch?: string;
}

/** An object's head and its first bytes, read together: the ETag is that of these very bytes. */
export interface ObjectStart {
  head: ObjectHead;
  bytes: Uint8Array;
}

export interface ObjectRef {
  bucket: Bucket;
  key: string;
}

export interface StorageDriver {
  readonly kind: 'disk' | 's3';
  /** Presigned PUT into the staging bucket. */
  presignPut(input: PresignPutInput): PresignedPut | Promise<PresignedPut>;
  /** Presigned POST policy into the staging bucket. */
  presignPost(input: PresignPostInput): PresignedPost | Promise<PresignedPost>;
  /** Short-lived signed GET of any bucket's object. */
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
  /** Server-side copy, replacing metadata with `options`. Idempotent. */
  copy(from: ObjectRef, to: ObjectRef, options: CopyOptions): Promise<void>;
  /** Delete; a missing object is not an error. */
  delete(bucket: Bucket, key: string): Promise<void>;
}
