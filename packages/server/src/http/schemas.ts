/**
 * The API's requests and responses, each described once (valibot). Request schemas validate what
 * clients send, and their messages are the sentences a client gets back; response types are
 * inferred from the response schemas; the OpenAPI document (openapi.ts) and the client's types
 * (packages/client/src/api-types.ts, generated) are made from both.
 */
import * as v from 'valibot';
import { ERROR_CODES } from '../errors.ts';

const uuid = (description: string) => v.pipe(v.string(), v.uuid(), v.description(description));
const timestamp = (description: string) => v.pipe(v.string(), v.isoTimestamp(), v.description(description));
const bytes = (description: string) => v.pipe(v.number(), v.safeInteger(), v.minValue(0), v.description(description));
const text = (description: string) => v.pipe(v.string(), v.description(description));

const visibility = v.pipe(
  v.picklist(['public', 'private']),
  v.description('`public`: served as is from the public bucket (CDN-ready); `private`: only through short-lived signed downloads.'),
);
const strategy = v.pipe(
  v.picklist(['put', 'post', 'multipart']),
  v.description('How the bytes are sent: a presigned PUT (`put`), a POST policy form (`post`), or parts (`multipart`: sign them with POST /v1/uploads/{id}/parts).'),
);
const md5Message = 'Send "md5" as the base64 MD5 of the bytes (24 characters ending in "==").';
const md5 = v.pipe(v.string(md5Message), v.regex(/^[A-Za-z0-9+/]{22}==$/, md5Message));
const sha256Message = 'Send "sha256" as the hex SHA-256 of the whole file (64 characters 0-9, a-f).';
const sha256 = v.pipe(v.string(sha256Message), v.regex(/^[0-9a-f]{64}$/, sha256Message));
const partNumberMessage = 'Part numbers are whole numbers from 1 to 10000.';
const partNumber = v.pipe(
  v.number(partNumberMessage),
  v.integer(partNumberMessage),
  v.minValue(1, partNumberMessage),
  v.maxValue(10_000, partNumberMessage),
  v.description('1 to the upload\'s part count.'),
);

// ---- requests -------------------------------------------------------------------------------------

export const CreateUploadRequest = v.object(
  {
    route: v.pipe(
      v.string('Send "route" as a string: the name of one of the server\'s routes (GET /v1/routes).'),
      v.description('One of the server\'s routes, e.g. `image`.'),
    ),
    filename: v.pipe(
      v.string('Send the file\'s name as a non-empty string in "filename".'),
      v.description('The file\'s name: metadata only (the key is generated), sent back in Content-Disposition.'),
    ),
    contentType: v.pipe(
      v.string('Send "contentType" as a string, the file\'s MIME type (e.g. "image/png").'),
      v.description('The file\'s MIME type; the bytes must really be of this type.'),
    ),
    size: v.pipe(
      v.number('Send "size" as a number in the JSON body: the file\'s length in bytes.'),
      v.safeInteger('Send "size" as the file\'s length in bytes, a whole number of at least 1.'),
      v.minValue(1, 'Send "size" as the file\'s length in bytes, a whole number of at least 1.'),
      v.description('The file\'s exact length in bytes.'),
    ),
    md5: v.pipe(
      v.optional(md5),
      v.description('Base64 MD5 of the whole file. With strategy `put` it is signed into the URL (storage refuses other bytes) and checked again at complete.'),
    ),
    sha256: v.pipe(v.optional(sha256), v.description('Hex SHA-256 of the whole file, kept with the file.')),
    fingerprint: v.pipe(
      v.optional(v.pipe(v.string('Send "fingerprint" as a string.'), v.minLength(1, 'Send "fingerprint" as 1 to 200 characters.'), v.maxLength(200, 'Send "fingerprint" as 1 to 200 characters.'))),
      v.description('Identifies the file (e.g. name, size, date and a hash of its first and last bytes): an unfinished upload of yours with the same fingerprint is answered instead of a new one, so it can be resumed.'),
    ),
    replaces: v.pipe(
      v.optional(v.pipe(v.string('Send "replaces" as the id of one of your files.'), v.uuid('Send "replaces" as the id of one of your files (a UUID).'))),
      v.description('The id of one of your files on the same route: completing this upload writes a new version of it (same id and key; GET /v1/files/{id}/versions lists them). Replacements in flight at once each become a version; the last completed is current.'),
    ),
  },
  'Send a JSON object: {"route", "filename", "contentType", "size"}.',
);

export const SignPartsRequest = v.object(
  {
    parts: v.pipe(
      v.array(
        v.object(
          {
            partNumber,
            md5: v.pipe(v.optional(md5), v.description('Base64 MD5 of the part: signed into its URL, so storage refuses other bytes.')),
          },
          'Each part is {"partNumber", "md5"?}.',
        ),
        'Send "parts" as a list of {"partNumber", "md5"?}.',
      ),
      v.minLength(1, 'Send between 1 and 100 parts to sign.'),
      v.maxLength(100, 'Send between 1 and 100 parts to sign.'),
    ),
  },
  'Send a JSON object: {"parts": [{"partNumber", "md5"?}, …]}.',
);

export const CompleteUploadRequest = v.object(
  {
    parts: v.pipe(
      v.optional(
        v.array(v.object({ partNumber, md5 }, 'Each part is {"partNumber", "md5"}.'), 'Send "parts" as a list of {"partNumber", "md5"}.'),
      ),
      v.description('Multipart: the MD5 of every part as the client computed it; storage\'s parts must match them.'),
    ),
    sha256: v.pipe(v.optional(sha256), v.description('Hex SHA-256 of the whole file, kept with the file.')),
  },
  'Send a JSON object: {"parts"?, "sha256"?} (or no body).',
);

export const DevTokenRequest = v.object(
  {
    user: v.pipe(
      v.string('Send {"user": "<name>"}: 1 to 64 letters, digits or . _ @ + -'),
      v.trim(),
      v.regex(/^[\p{L}\p{N}._@+-]{1,64}$/u, 'Send {"user": "<name>"}: 1 to 64 letters, digits or . _ @ + -'),
      v.description('Any user name: the dev issuer signs a token for it.'),
    ),
  },
  'Send {"user": "<name>"}: 1 to 64 letters, digits or . _ @ + -',
);

const limitMessage = '"limit" is a whole number from 1 to 100.';
export const ListFilesQuery = v.object({
  limit: v.optional(
    v.pipe(
      v.string(limitMessage),
      v.regex(/^\d{1,3}$/, limitMessage),
      v.toNumber(),
      v.minValue(1, limitMessage),
      v.maxValue(100, limitMessage),
      v.description('Files per page, 1 to 100 (default 50).'),
    ),
  ),
  before: v.optional(
    v.pipe(
      v.string(),
      v.uuid('"before" is the `next` of the previous page: a file id.'),
      v.description('The `next` of the previous page.'),
    ),
  ),
});

// ---- responses ------------------------------------------------------------------------------------

export const PresignedPut = v.object({
  method: v.literal('PUT'),
  url: text('The signed URL; storage refuses any other key, length, type, or an expired signature.'),
  headers: v.pipe(v.record(v.string(), v.string()), v.description('Send exactly these headers (they are signed).')),
});

export const StoredPart = v.object({
  partNumber: v.number(),
  size: bytes('Bytes storage holds for this part.'),
  etag: text('Storage\'s ETag of the part: its quoted hex MD5.'),
});

export const SignedPart = v.object({
  partNumber: v.number(),
  size: bytes('The exact length this part must have.'),
  method: v.literal('PUT'),
  url: text('The signed URL of this part; storage answers its ETag in a header.'),
  headers: v.pipe(v.record(v.string(), v.string()), v.description('Send exactly these headers (they are signed).')),
});

export const SignedParts = v.object({
  parts: v.array(SignedPart),
  expiresAt: timestamp('When these URLs stop working (sign them again to go on).'),
});

export const PresignedPost = v.object({
  method: v.literal('POST'),
  url: text('The bucket URL to POST the form to.'),
  fields: v.pipe(v.record(v.string(), v.string()), v.description('Send every field, then the file last, as the field `file` (multipart/form-data).')),
});

const uploadEntries = {
  id: uuid('The upload id.'),
  key: text('Where the object is stored (generated from the route\'s key template); a replacement is staged here and completes over the key of the file it replaces.'),
  route: text('The route it was created on.'),
  strategy,
  state: v.pipe(
    v.picklist(['pending', 'uploaded', 'verified', 'ready', 'rejected', 'expired', 'aborted']),
    v.description('`pending` → `uploaded` → `verified` → `ready`, or `rejected`, `expired`, `aborted`.'),
  ),
  filename: text('The sanitised filename.'),
  contentType: text('The declared type.'),
  size: bytes('The declared length in bytes.'),
  expiresAt: timestamp('When the signed request stops working.'),
  fileId: v.pipe(v.nullable(v.string()), v.description('The file, once the upload is `ready`.')),
  replaces: v.pipe(v.nullable(v.string()), v.description('The file this upload writes a new version of, if it replaces one.')),
  errorCode: v.pipe(v.nullable(v.string()), v.description('Why verification rejected it (`rejected` only): an error code, or the code of the app\'s processor that rejected it.')),
  multipart: v.pipe(
    v.nullable(
      v.object({
        partSize: bytes('Bytes of every part but the last.'),
        partCount: v.pipe(v.number(), v.integer(), v.description('Parts of the file.')),
      }),
    ),
    v.description('With strategy `multipart`: how the file is cut into parts.'),
  ),
  parts: v.pipe(
    v.optional(v.array(StoredPart)),
    v.description('Multipart, unfinished: the parts storage holds (send only the others).'),
  ),
};

export const Upload = v.object(uploadEntries);

export const CreatedUpload = v.object({
  ...uploadEntries,
  put: v.pipe(v.optional(PresignedPut), v.description('With strategy `put`.')),
  post: v.pipe(v.optional(PresignedPost), v.description('With strategy `post`.')),
});

export const FileVariant = v.object({
  name: text('The variant\'s name in the route\'s config, e.g. `thumb`.'),
  url: text('Like the file\'s own: public, or a short-lived signed download for private files.'),
  width: v.pipe(v.number(), v.integer(), v.description('Pixels.')),
  height: v.pipe(v.number(), v.integer(), v.description('Pixels.')),
  contentType: text('Its format, e.g. image/webp.'),
  size: bytes('Length in bytes.'),
});

export const File = v.object({
  id: uuid('The file id.'),
  route: text('The route it was uploaded on.'),
  key: text('Where it is stored.'),
  filename: text('The sanitised original filename.'),
  contentType: text('The type detected from its bytes.'),
  size: bytes('Length in bytes.'),
  visibility,
  sha256: v.pipe(v.nullable(v.string()), v.description('Hex SHA-256 the client computed, when it sent one.')),
  createdAt: timestamp('When it was stored.'),
  url: text('The public URL, or for private files a short-lived signed download (Content-Disposition: attachment).'),
  variants: v.pipe(
    v.optional(v.array(FileVariant)),
    v.description('Sizes the route\'s `image` processor made of it, by name ([] for other files); the API always answers it, webhooks leave it out.'),
  ),
  missing: v.pipe(
    v.optional(v.literal(true)),
    v.description('Present (true) when the sweeper found the file\'s bytes gone from storage; its URL then answers 404.'),
  ),
});

export const FileList = v.object({
  files: v.pipe(v.array(File), v.description('Newest first.')),
  next: v.pipe(v.nullable(v.string()), v.description('The `before` of the next page; null on the last page.')),
});

export const FileVersion = v.object({
  id: text('Storage\'s id of the version (`null` on a bucket without versioning: the one version there is).'),
  filename: text('The sanitised filename it was uploaded with.'),
  contentType: text('The type detected from its bytes.'),
  size: bytes('Length in bytes.'),
  sha256: v.pipe(v.nullable(v.string()), v.description('Hex SHA-256 the client computed, when it sent one.')),
  createdAt: timestamp('When it was stored.'),
  isCurrent: v.pipe(v.boolean(), v.description('The version the file serves now.')),
  url: text('A short-lived signed download of exactly this version (Content-Disposition: attachment).'),
});

export const FileVersionList = v.object({
  versions: v.pipe(v.array(FileVersion), v.description('Newest first.')),
});

export const Route = v.object({
  name: text('Route name, used in create-upload.'),
  types: v.pipe(v.array(v.string()), v.description('Allowed MIME types.')),
  maxSize: bytes('Largest file accepted, bytes.'),
  visibility,
  strategy: v.pipe(
    v.picklist(['auto', 'put', 'post', 'multipart']),
    v.description('`auto`: multipart above `multipartThreshold`, else put.'),
  ),
  multipartThreshold: bytes('With `auto`: larger files are sent in parts.'),
});

export const RouteList = v.object({ routes: v.array(Route) });

export const DevToken = v.object({
  token: text('A bearer token for the user.'),
  expiresAt: timestamp('When the token expires.'),
});

export const Health = v.object({ status: v.literal('ok') });

const checkResult = (what: string) => v.pipe(v.picklist(['ok', 'failed']), v.description(what));
export const Readiness = v.object({
  status: v.literal('ok'),
  checks: v.object({
    database: checkResult('A trivial query of the database answered.'),
    storage: checkResult('A cheap call to storage (the head of a key that does not exist) answered.'),
  }),
});

const usageEntries = {
  bytes: bytes('Bytes of the files you keep.'),
  files: bytes('Files you keep.'),
  reservedBytes: bytes('Bytes your unfinished uploads have reserved (they count against the limits until they end).'),
  reservedFiles: bytes('Files your unfinished uploads will add.'),
};
const limitsOf = (what: string) =>
  v.pipe(
    v.object({
      bytes: v.pipe(v.nullable(v.number()), v.description('Bytes allowed; null: no limit.')),
      files: v.pipe(v.nullable(v.number()), v.description('Files allowed; null: no limit.')),
    }),
    v.description(what),
  );
export const Usage = v.object({
  ...usageEntries,
  limits: limitsOf('Your limits over all routes.'),
  routes: v.pipe(
    v.array(v.object({ route: text('Route name.'), ...usageEntries, limits: limitsOf('Your limits on this route.') })),
    v.description('Every route, with your usage of it.'),
  ),
  createsPerMinute: v.pipe(v.nullable(v.number()), v.description('Uploads you may start per minute; null: no limit.')),
});

const optionalText = (description: string) => v.optional(text(description));
export const StorageHookResult = v.object({
  records: v.pipe(
    v.array(
      v.object({
        outcome: v.pipe(
          v.picklist(['completed', 'rejected', 'ignored', 'refused', 'failed']),
          v.description('`completed`: the upload is a file; `rejected`: its bytes failed verification; `ignored`: no upload waits for this object (or not an object-created record); `refused`: the upload could not be finalized (the code says why); `failed`: storage or the database did not answer (the hook then answers 503).'),
        ),
        kind: v.pipe(v.picklist(['object-created', 'test', 'subscription-confirmation', 'other', 'unreadable']), v.description('What the record was.')),
        bucket: optionalText('The bucket the record names.'),
        key: optionalText('The object key the record names.'),
        uploadId: optionalText('The upload the object belongs to.'),
        fileId: optionalText('The file it became.'),
        code: optionalText('The error code of a rejection or refusal.'),
        detail: optionalText('Why, for people.'),
      }),
    ),
    v.description('What was done with each record of the event.'),
  ),
});

export const Problem = v.object({
  type: text('A URL naming the error code.'),
  title: text('A short summary of the code.'),
  status: v.pipe(v.number(), v.integer(), v.description('The HTTP status.')),
  code: v.pipe(v.picklist(ERROR_CODES), v.description('Stable machine code: switch on this.')),
  detail: text('What happened and what to do, in a sentence.'),
});

/** Every named schema, as it appears in the OpenAPI document's components. */
export const components = {
  CreateUploadRequest,
  SignPartsRequest,
  CompleteUploadRequest,
  DevTokenRequest,
  StoredPart,
  SignedPart,
  SignedParts,
  PresignedPut,
  PresignedPost,
  Upload,
  CreatedUpload,
  FileVariant,
  File,
  FileList,
  FileVersion,
  FileVersionList,
  Route,
  RouteList,
  DevToken,
  Health,
  Readiness,
  Usage,
  StorageHookResult,
  Problem,
};

export type UploadJson = v.InferOutput<typeof Upload>;
export type CreatedUploadJson = v.InferOutput<typeof CreatedUpload>;
export type FileJson = v.InferOutput<typeof File>;
export type FileVariantJson = v.InferOutput<typeof FileVariant>;
export type FileListJson = v.InferOutput<typeof FileList>;
export type FileVersionListJson = v.InferOutput<typeof FileVersionList>;
export type RouteListJson = v.InferOutput<typeof RouteList>;
export type DevTokenJson = v.InferOutput<typeof DevToken>;
export type SignedPartsJson = v.InferOutput<typeof SignedParts>;
export type HealthJson = v.InferOutput<typeof Health>;
export type ReadinessJson = v.InferOutput<typeof Readiness>;
export type UsageJson = v.InferOutput<typeof Usage>;
export type StorageHookJson = v.InferOutput<typeof StorageHookResult>;
