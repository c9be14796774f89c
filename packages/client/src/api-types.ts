/**
 * The API's JSON, generated from the server's schemas by scripts/generate-client-types.ts
 * (`npm run generate`). Do not edit.
 */
export interface CreateUploadRequest {
  /**
   * One of the server's routes, e.g. `image`.
   */
  route: string;
  /**
   * The file's name: metadata only (the key is generated), sent back in Content-Disposition.
   */
  filename: string;
  /**
   * The file's MIME type; the bytes must really be of this type.
   */
  contentType: string;
  /**
   * The file's exact length in bytes.
   */
  size: number;
  /**
   * Base64 MD5 of the whole file. With strategy `put` it is signed into the URL (storage refuses other bytes) and checked again at complete.
   */
  md5?: string;
  /**
   * Hex SHA-256 of the whole file, kept with the file.
   */
  sha256?: string;
  /**
   * Identifies the file (e.g. name, size, date and a hash of its first and last bytes): an unfinished upload of yours with the same fingerprint is answered instead of a new one, so it can be resumed.
   */
  fingerprint?: string;
  /**
   * The id of one of your files on the same route: completing this upload writes a new version of it (same id and key; GET /v1/files/{id}/versions lists them). Replacements in flight at once each become a version; the last completed is current.
   */
  replaces?: string;
}
export interface SignPartsRequest {
  /**
   * @minItems 1
   * @maxItems 100
   */
  parts: [
    {
      /**
       * 1 to the upload's part count.
       */
      partNumber: number;
      /**
       * Base64 MD5 of the part: signed into its URL, so storage refuses other bytes.
       */
      md5?: string;
    },
    ...{
      /**
       * 1 to the upload's part count.
       */
      partNumber: number;
      /**
       * Base64 MD5 of the part: signed into its URL, so storage refuses other bytes.
       */
      md5?: string;
    }[]
  ];
}
export interface CompleteUploadRequest {
  /**
   * Multipart: the MD5 of every part as the client computed it; storage's parts must match them.
   */
  parts?: {
    /**
     * 1 to the upload's part count.
     */
    partNumber: number;
    md5: string;
  }[];
  /**
   * Hex SHA-256 of the whole file, kept with the file.
   */
  sha256?: string;
}
export interface DevTokenRequest {
  /**
   * Any user name: the dev issuer signs a token for it.
   */
  user: string;
}
export interface StoredPart {
  partNumber: number;
  /**
   * Bytes storage holds for this part.
   */
  size: number;
  /**
   * Storage's ETag of the part: its quoted hex MD5.
   */
  etag: string;
}
export interface SignedPart {
  partNumber: number;
  /**
   * The exact length this part must have.
   */
  size: number;
  method: 'PUT';
  /**
   * The signed URL of this part; storage answers its ETag in a header.
   */
  url: string;
  /**
   * Send exactly these headers (they are signed).
   */
  headers: {
    [k: string]: string;
  };
}
export interface SignedParts {
  parts: SignedPart[];
  /**
   * When these URLs stop working (sign them again to go on).
   */
  expiresAt: string;
}
export interface PresignedPut {
  method: 'PUT';
  /**
   * The signed URL; storage refuses any other key, length, type, or an expired signature.
   */
  url: string;
  /**
   * Send exactly these headers (they are signed).
   */
  headers: {
    [k: string]: string;
  };
}
export interface PresignedPost {
  method: 'POST';
  /**
   * The bucket URL to POST the form to.
   */
  url: string;
  /**
   * Send every field, then the file last, as the field `file` (multipart/form-data).
   */
  fields: {
    [k: string]: string;
  };
}
export interface Upload {
  /**
   * The upload id.
   */
  id: string;
  /**
   * Where the object is stored (generated from the route's key template); a replacement is staged here and completes over the key of the file it replaces.
   */
  key: string;
  /**
   * The route it was created on.
   */
  route: string;
  /**
   * How the bytes are sent: a presigned PUT (`put`), a POST policy form (`post`), or parts (`multipart`: sign them with POST /v1/uploads/{id}/parts).
   */
  strategy: 'put' | 'post' | 'multipart';
  /**
   * `pending` → `uploaded` → `verified` → `ready`, or `rejected`, `expired`, `aborted`.
   */
  state: 'pending' | 'uploaded' | 'verified' | 'ready' | 'rejected' | 'expired' | 'aborted';
  /**
   * The sanitised filename.
   */
  filename: string;
  /**
   * The declared type.
   */
  contentType: string;
  /**
   * The declared length in bytes.
   */
  size: number;
  /**
   * When the signed request stops working.
   */
  expiresAt: string;
  /**
   * The file, once the upload is `ready`.
   */
  fileId: string | null;
  /**
   * The file this upload writes a new version of, if it replaces one.
   */
  replaces: string | null;
  /**
   * Why verification rejected it (`rejected` only): an error code, or the code of the app's processor that rejected it.
   */
  errorCode: string | null;
  /**
   * With strategy `multipart`: how the file is cut into parts.
   */
  multipart: {
    /**
     * Bytes of every part but the last.
     */
    partSize: number;
    /**
     * Parts of the file.
     */
    partCount: number;
  } | null;
  /**
   * Multipart, unfinished: the parts storage holds (send only the others).
   */
  parts?: StoredPart[];
}
export interface CreatedUpload {
  /**
   * The upload id.
   */
  id: string;
  /**
   * Where the object is stored (generated from the route's key template); a replacement is staged here and completes over the key of the file it replaces.
   */
  key: string;
  /**
   * The route it was created on.
   */
  route: string;
  /**
   * How the bytes are sent: a presigned PUT (`put`), a POST policy form (`post`), or parts (`multipart`: sign them with POST /v1/uploads/{id}/parts).
   */
  strategy: 'put' | 'post' | 'multipart';
  /**
   * `pending` → `uploaded` → `verified` → `ready`, or `rejected`, `expired`, `aborted`.
   */
  state: 'pending' | 'uploaded' | 'verified' | 'ready' | 'rejected' | 'expired' | 'aborted';
  /**
   * The sanitised filename.
   */
  filename: string;
  /**
   * The declared type.
   */
  contentType: string;
  /**
   * The declared length in bytes.
   */
  size: number;
  /**
   * When the signed request stops working.
   */
  expiresAt: string;
  /**
   * The file, once the upload is `ready`.
   */
  fileId: string | null;
  /**
   * The file this upload writes a new version of, if it replaces one.
   */
  replaces: string | null;
  /**
   * Why verification rejected it (`rejected` only): an error code, or the code of the app's processor that rejected it.
   */
  errorCode: string | null;
  /**
   * With strategy `multipart`: how the file is cut into parts.
   */
  multipart: {
    /**
     * Bytes of every part but the last.
     */
    partSize: number;
    /**
     * Parts of the file.
     */
    partCount: number;
  } | null;
  /**
   * Multipart, unfinished: the parts storage holds (send only the others).
   */
  parts?: StoredPart[];
  put?: PresignedPut1;
  post?: PresignedPost1;
}
/**
 * With strategy `put`.
 */
export interface PresignedPut1 {
  method: 'PUT';
  /**
   * The signed URL; storage refuses any other key, length, type, or an expired signature.
   */
  url: string;
  /**
   * Send exactly these headers (they are signed).
   */
  headers: {
    [k: string]: string;
  };
}
/**
 * With strategy `post`.
 */
export interface PresignedPost1 {
  method: 'POST';
  /**
   * The bucket URL to POST the form to.
   */
  url: string;
  /**
   * Send every field, then the file last, as the field `file` (multipart/form-data).
   */
  fields: {
    [k: string]: string;
  };
}
export interface FileVariant {
  /**
   * The variant's name in the route's config, e.g. `thumb`.
   */
  name: string;
  /**
   * Like the file's own: public, or a short-lived signed download for private files.
   */
  url: string;
  /**
   * Pixels.
   */
  width: number;
  /**
   * Pixels.
   */
  height: number;
  /**
   * Its format, e.g. image/webp.
   */
  contentType: string;
  /**
   * Length in bytes.
   */
  size: number;
}
export interface File {
  /**
   * The file id.
   */
  id: string;
  /**
   * The route it was uploaded on.
   */
  route: string;
  /**
   * Where it is stored.
   */
  key: string;
  /**
   * The sanitised original filename.
   */
  filename: string;
  /**
   * The type detected from its bytes.
   */
  contentType: string;
  /**
   * Length in bytes.
   */
  size: number;
  /**
   * `public`: served as is from the public bucket (CDN-ready); `private`: only through short-lived signed downloads.
   */
  visibility: 'public' | 'private';
  /**
   * Hex SHA-256 the client computed, when it sent one.
   */
  sha256: string | null;
  /**
   * When it was stored.
   */
  createdAt: string;
  /**
   * The public URL, or for private files a short-lived signed download (Content-Disposition: attachment).
   */
  url: string;
  /**
   * Sizes the route's `image` processor made of it, by name ([] for other files); the API always answers it, webhooks leave it out.
   */
  variants?: FileVariant[];
  /**
   * Present (true) when the sweeper found the file's bytes gone from storage; its URL then answers 404.
   */
  missing?: true;
}
export interface FileList {
  /**
   * Newest first.
   */
  files: File[];
  /**
   * The `before` of the next page; null on the last page.
   */
  next: string | null;
}
export interface FileVersion {
  /**
   * Storage's id of the version (`null` on a bucket without versioning: the one version there is).
   */
  id: string;
  /**
   * The sanitised filename it was uploaded with.
   */
  filename: string;
  /**
   * The type detected from its bytes.
   */
  contentType: string;
  /**
   * Length in bytes.
   */
  size: number;
  /**
   * Hex SHA-256 the client computed, when it sent one.
   */
  sha256: string | null;
  /**
   * When it was stored.
   */
  createdAt: string;
  /**
   * The version the file serves now.
   */
  isCurrent: boolean;
  /**
   * A short-lived signed download of exactly this version (Content-Disposition: attachment).
   */
  url: string;
}
export interface FileVersionList {
  /**
   * Newest first.
   */
  versions: FileVersion[];
}
export interface Route {
  /**
   * Route name, used in create-upload.
   */
  name: string;
  /**
   * Allowed MIME types.
   */
  types: string[];
  /**
   * Largest file accepted, bytes.
   */
  maxSize: number;
  /**
   * `public`: served as is from the public bucket (CDN-ready); `private`: only through short-lived signed downloads.
   */
  visibility: 'public' | 'private';
  /**
   * `auto`: multipart above `multipartThreshold`, else put.
   */
  strategy: 'auto' | 'put' | 'post' | 'multipart';
  /**
   * With `auto`: larger files are sent in parts.
   */
  multipartThreshold: number;
}
export interface RouteList {
  routes: Route[];
}
export interface DevToken {
  /**
   * A bearer token for the user.
   */
  token: string;
  /**
   * When the token expires.
   */
  expiresAt: string;
}
export interface Health {
  status: 'ok';
}
export interface Readiness {
  status: 'ok';
  checks: {
    /**
     * A trivial query of the database answered.
     */
    database: 'ok' | 'failed';
    /**
     * A cheap call to storage (the head of a key that does not exist) answered.
     */
    storage: 'ok' | 'failed';
  };
}
export interface Usage {
  /**
   * Bytes of the files you keep.
   */
  bytes: number;
  /**
   * Files you keep.
   */
  files: number;
  /**
   * Bytes your unfinished uploads have reserved (they count against the limits until they end).
   */
  reservedBytes: number;
  /**
   * Files your unfinished uploads will add.
   */
  reservedFiles: number;
  /**
   * Your limits over all routes.
   */
  limits: {
    /**
     * Bytes allowed; null: no limit.
     */
    bytes: number | null;
    /**
     * Files allowed; null: no limit.
     */
    files: number | null;
  };
  /**
   * Every route, with your usage of it.
   */
  routes: {
    /**
     * Route name.
     */
    route: string;
    /**
     * Bytes of the files you keep.
     */
    bytes: number;
    /**
     * Files you keep.
     */
    files: number;
    /**
     * Bytes your unfinished uploads have reserved (they count against the limits until they end).
     */
    reservedBytes: number;
    /**
     * Files your unfinished uploads will add.
     */
    reservedFiles: number;
    /**
     * Your limits on this route.
     */
    limits: {
      /**
       * Bytes allowed; null: no limit.
       */
      bytes: number | null;
      /**
       * Files allowed; null: no limit.
       */
      files: number | null;
    };
  }[];
  /**
   * Uploads you may start per minute; null: no limit.
   */
  createsPerMinute: number | null;
}
export interface StorageHookResult {
  /**
   * What was done with each record of the event.
   */
  records: {
    /**
     * `completed`: the upload is a file; `rejected`: its bytes failed verification; `ignored`: no upload waits for this object (or not an object-created record); `refused`: the upload could not be finalized (the code says why); `failed`: storage or the database did not answer (the hook then answers 503).
     */
    outcome: 'completed' | 'rejected' | 'ignored' | 'refused' | 'failed';
    /**
     * What the record was.
     */
    kind: 'object-created' | 'test' | 'subscription-confirmation' | 'other' | 'unreadable';
    /**
     * The bucket the record names.
     */
    bucket?: string;
    /**
     * The object key the record names.
     */
    key?: string;
    /**
     * The upload the object belongs to.
     */
    uploadId?: string;
    /**
     * The file it became.
     */
    fileId?: string;
    /**
     * The error code of a rejection or refusal.
     */
    code?: string;
    /**
     * Why, for people.
     */
    detail?: string;
  }[];
}
export interface Problem {
  /**
   * A URL naming the error code.
   */
  type: string;
  /**
   * A short summary of the code.
   */
  title: string;
  /**
   * The HTTP status.
   */
  status: number;
  /**
   * Stable machine code: switch on this.
   */
  code:
    | 'invalid_request'
    | 'invalid_filename'
    | 'unauthorized'
    | 'forbidden'
    | 'not_found'
    | 'upload_incomplete'
    | 'upload_aborted'
    | 'upload_completed'
    | 'upload_expired'
    | 'file_too_large'
    | 'payload_too_large'
    | 'type_not_allowed'
    | 'content_type_mismatch'
    | 'size_mismatch'
    | 'checksum_mismatch'
    | 'image_invalid'
    | 'file_rejected'
    | 'processor_timeout'
    | 'processing_failed'
    | 'quota_exceeded'
    | 'rate_limited'
    | 'storage_unavailable'
    | 'auth_unavailable'
    | 'not_ready'
    | 'internal_error';
  /**
   * What happened and what to do, in a sentence.
   */
  detail: string;
}
