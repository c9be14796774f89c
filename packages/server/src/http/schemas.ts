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
  v.picklist(['put', 'post']),
  v.description('How the bytes are sent: a presigned PUT (`put`) or a POST policy form (`post`).'),
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
  },
  'Send a JSON object: {"route", "filename", "contentType", "size"}.',
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

export const PresignedPost = v.object({
  method: v.literal('POST'),
  url: text('The bucket URL to POST the form to.'),
  fields: v.pipe(v.record(v.string(), v.string()), v.description('Send every field, then the file last, as the field `file` (multipart/form-data).')),
});

const uploadEntries = {
  id: uuid('The upload id.'),
  key: text('Where the object is stored (generated from the route\'s key template).'),
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
  errorCode: v.pipe(v.nullable(v.string()), v.description('Why verification rejected it (`rejected` only).')),
};

export const Upload = v.object(uploadEntries);

export const CreatedUpload = v.object({
  ...uploadEntries,
  put: v.pipe(v.optional(PresignedPut), v.description('With strategy `put`.')),
  post: v.pipe(v.optional(PresignedPost), v.description('With strategy `post`.')),
});

export const File = v.object({
  id: uuid('The file id.'),
  route: text('The route it was uploaded on.'),
  key: text('Where it is stored.'),
  filename: text('The sanitised original filename.'),
  contentType: text('The type detected from its bytes.'),
  size: bytes('Length in bytes.'),
  visibility,
  createdAt: timestamp('When it was stored.'),
  url: text('The public URL, or for private files a short-lived signed download (Content-Disposition: attachment).'),
});

export const FileList = v.object({
  files: v.pipe(v.array(File), v.description('Newest first.')),
  next: v.pipe(v.nullable(v.string()), v.description('The `before` of the next page; null on the last page.')),
});

export const Route = v.object({
  name: text('Route name, used in create-upload.'),
  types: v.pipe(v.array(v.string()), v.description('Allowed MIME types.')),
  maxSize: bytes('Largest file accepted, bytes.'),
  visibility,
  strategy,
});

export const RouteList = v.object({ routes: v.array(Route) });

export const DevToken = v.object({
  token: text('A bearer token for the user.'),
  expiresAt: timestamp('When the token expires.'),
});

export const Health = v.object({ status: v.literal('ok') });

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
  DevTokenRequest,
  PresignedPut,
  PresignedPost,
  Upload,
  CreatedUpload,
  File,
  FileList,
  Route,
  RouteList,
  DevToken,
  Health,
  Problem,
};

export type UploadJson = v.InferOutput<typeof Upload>;
export type CreatedUploadJson = v.InferOutput<typeof CreatedUpload>;
export type FileJson = v.InferOutput<typeof File>;
export type FileListJson = v.InferOutput<typeof FileList>;
export type RouteListJson = v.InferOutput<typeof RouteList>;
export type DevTokenJson = v.InferOutput<typeof DevToken>;
export type HealthJson = v.InferOutput<typeof Health>;
