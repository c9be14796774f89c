/**
 * The OpenAPI 3.1 document served at `GET /openapi.json`, made from the schemas in schemas.ts and the
 * list of operations below (a test checks the list against the routes the app really serves, and
 * real responses against the document). Loaded on first request only: nothing here is on the hot path.
 */
import { toJsonSchema, toJsonSchemaDefs, type ConversionConfig, type JsonSchema } from '@valibot/to-json-schema';
import type { ErrorCode } from '../errors.ts';
import { ERRORS } from './problem.ts';
import { components, ListFilesQuery } from './schemas.ts';

type ComponentName = keyof typeof components;

export interface Operation {
  method: 'get' | 'post' | 'delete';
  /** OpenAPI style: `/v1/uploads/{id}`. */
  path: string;
  operationId: string;
  summary: string;
  /** Needs a bearer token. */
  auth: boolean;
  body?: ComponentName;
  /** The body may be left out. */
  bodyOptional?: boolean;
  query?: typeof ListFilesQuery;
  status: number;
  /** Other success statuses with the same body, and what they mean. */
  alsoStatus?: { status: number; description: string };
  /** The success body; none for 204. */
  response?: ComponentName | 'OpenApiDocument';
  errors: ErrorCode[];
  /** Served only with the dev issuer on. */
  devOnly?: boolean;
}

const JSON_BODY_ERRORS: ErrorCode[] = ['invalid_request', 'payload_too_large'];
const AUTH_ERRORS: ErrorCode[] = ['unauthorized', 'auth_unavailable'];

export const operations: Operation[] = [
  { method: 'get', path: '/healthz', operationId: 'health', summary: 'Liveness check', auth: false, status: 200, response: 'Health', errors: [] },
  {
    method: 'get',
    path: '/readyz',
    operationId: 'readiness',
    summary: 'Readiness: the database and storage answer (503 not_ready names which does not)',
    auth: false,
    status: 200,
    response: 'Readiness',
    errors: ['not_ready'],
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'openApiDocument',
    summary: 'This document',
    auth: false,
    status: 200,
    response: 'OpenApiDocument',
    errors: [],
  },
  {
    method: 'get',
    path: '/v1/routes',
    operationId: 'listRoutes',
    summary: 'The upload routes and their rules',
    auth: false,
    status: 200,
    response: 'RouteList',
    errors: [],
  },
  {
    method: 'post',
    path: '/v1/dev/token',
    operationId: 'createDevToken',
    summary: 'A token for any user name (dev issuer only; in dev, only for requests to a loopback host)',
    auth: false,
    body: 'DevTokenRequest',
    status: 200,
    response: 'DevToken',
    errors: [...JSON_BODY_ERRORS, 'forbidden'],
    devOnly: true,
  },
  {
    method: 'post',
    path: '/v1/uploads',
    operationId: 'createUpload',
    summary: 'Check a file against a route and get a signed request (or a multipart upload) to send it straight to storage',
    auth: true,
    body: 'CreateUploadRequest',
    status: 201,
    alsoStatus: { status: 200, description: 'An unfinished multipart upload of the same file (same fingerprint), with the parts storage holds: resume it.' },
    response: 'CreatedUpload',
    errors: [...JSON_BODY_ERRORS, 'invalid_filename', 'file_too_large', 'type_not_allowed', 'not_found', 'quota_exceeded', 'rate_limited', 'storage_unavailable'],
  },
  {
    method: 'post',
    path: '/v1/uploads/{id}/parts',
    operationId: 'signParts',
    summary: 'Signed PUT URLs for parts of a multipart upload (again whenever they expire, while the upload lives)',
    auth: true,
    body: 'SignPartsRequest',
    status: 200,
    response: 'SignedParts',
    errors: [...JSON_BODY_ERRORS, 'not_found', 'upload_aborted', 'upload_completed', 'upload_expired'],
  },
  {
    method: 'post',
    path: '/v1/hooks/storage',
    operationId: 'storageHook',
    summary: "The store's object-created events (S3, RGW, SNS, SQS or EventBridge JSON), with the secret in ?secret=, x-upfront-hook-secret or a bearer token: each finalizes its upload as complete would",
    auth: false,
    status: 200,
    response: 'StorageHookResult',
    errors: ['invalid_request', 'payload_too_large', 'unauthorized', 'not_found', 'storage_unavailable'],
  },
  {
    method: 'get',
    path: '/v1/usage',
    operationId: 'getUsage',
    summary: 'What you keep and have reserved, over all routes and per route, with your limits',
    auth: true,
    status: 200,
    response: 'Usage',
    errors: [],
  },
  {
    method: 'get',
    path: '/v1/uploads/{id}',
    operationId: 'getUpload',
    summary: 'An upload and its state (multipart: and the parts storage holds)',
    auth: true,
    status: 200,
    response: 'Upload',
    errors: ['not_found', 'storage_unavailable'],
  },
  {
    method: 'post',
    path: '/v1/uploads/{id}/complete',
    operationId: 'completeUpload',
    summary: 'Verify the stored bytes (multipart: assemble the parts first) and promote them: the file (idempotent)',
    auth: true,
    body: 'CompleteUploadRequest',
    bodyOptional: true,
    status: 200,
    response: 'File',
    errors: [
      ...JSON_BODY_ERRORS,
      'checksum_mismatch',
      'not_found',
      'upload_incomplete',
      'upload_aborted',
      'upload_expired',
      'content_type_mismatch',
      'size_mismatch',
      'type_not_allowed',
      'storage_unavailable',
    ],
  },
  {
    method: 'delete',
    path: '/v1/uploads/{id}',
    operationId: 'abortUpload',
    summary: 'Abort an unfinished upload and delete its staged bytes',
    auth: true,
    status: 204,
    errors: ['not_found', 'upload_completed', 'storage_unavailable'],
  },
  {
    method: 'get',
    path: '/v1/files',
    operationId: 'listFiles',
    summary: 'Your files, newest first',
    auth: true,
    query: ListFilesQuery,
    status: 200,
    response: 'FileList',
    errors: ['invalid_request'],
  },
  { method: 'get', path: '/v1/files/{id}', operationId: 'getFile', summary: 'One of your files', auth: true, status: 200, response: 'File', errors: ['not_found'] },
  {
    method: 'delete',
    path: '/v1/files/{id}',
    operationId: 'deleteFile',
    summary: 'Delete one of your files',
    auth: true,
    status: 204,
    errors: ['not_found', 'storage_unavailable'],
  },
  {
    method: 'get',
    path: '/v1/files/{id}/versions',
    operationId: 'listFileVersions',
    summary: 'The versions of one of your files (replace it with an upload naming it in `replaces`), newest first',
    auth: true,
    status: 200,
    response: 'FileVersionList',
    errors: ['not_found', 'storage_unavailable'],
  },
  {
    method: 'post',
    path: '/v1/files/{id}/versions/{versionId}/restore',
    operationId: 'restoreFileVersion',
    summary: 'Make an older version of one of your files current again (a copy of it becomes the newest version)',
    auth: true,
    status: 200,
    response: 'File',
    errors: ['not_found', 'storage_unavailable'],
  },
];

const conversion: ConversionConfig = {
  target: 'draft-2020-12',
  overrideAction({ valibotAction, jsonSchema }) {
    // JSON Schema patterns are Unicode-aware already (as with the `u` flag); trimming is parsing, not a rule.
    if (valibotAction.type === 'regex') return { ...jsonSchema, pattern: (valibotAction as unknown as { requirement: RegExp }).requirement.source };
    if (valibotAction.type === 'trim') return jsonSchema;
    return undefined;
  },
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** valibot's definitions refer to each other as `#/$defs/X`; OpenAPI keeps them under components. */
function withComponentRefs(schema: JsonSchema): JsonSchema {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/$defs/', '"#/components/schemas/')) as JsonSchema;
}

export function openApiDocument({ devIssuer }: { devIssuer: boolean }): Record<string, unknown> {
  const schemas = withComponentRefs(toJsonSchemaDefs(components, conversion) as JsonSchema);
  const paths: Record<string, Record<string, unknown>> = {};
  for (const operation of operations) {
    if (operation.devOnly && !devIssuer) continue;
    (paths[operation.path] ??= {})[operation.method] = describe(operation);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Upfront API',
      version: '1',
      description:
        'Direct-to-storage uploads: create an upload, send the bytes straight to storage with the signed request, ' +
        'complete it (verified, promoted), read the file. Errors are application/problem+json with a stable `code`.',
    },
    paths,
    components: {
      schemas,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
  };
}

function describe(operation: Operation): Record<string, unknown> {
  const parameters: unknown[] = [];
  for (const name of operation.path.match(/(?<=\{)[^}]+(?=\})/g) ?? []) {
    // Ids are UUIDs; storage's version ids are its own opaque strings.
    const schema = name === 'versionId' ? { type: 'string', minLength: 1, maxLength: 1024 } : { type: 'string', format: 'uuid' };
    parameters.push({ name, in: 'path', required: true, schema });
  }
  for (const [name, schema] of Object.entries(operation.query?.entries ?? {})) {
    const { $schema: _, ...converted } = toJsonSchema(schema, { ...conversion, errorMode: 'ignore' });
    parameters.push({ name, in: 'query', required: false, description: converted.description, schema: converted });
  }
  const responses: Record<string, unknown> = {};
  const success = (description: string) =>
    operation.response === undefined
      ? { description: 'Done; no body.' }
      : {
          description,
          content: { 'application/json': { schema: operation.response === 'OpenApiDocument' ? { type: 'object' } : ref(operation.response) } },
        };
  responses[String(operation.status)] = success('Success.');
  if (operation.alsoStatus) responses[String(operation.alsoStatus.status)] = success(operation.alsoStatus.description);
  const errors = [...operation.errors, ...(operation.auth ? AUTH_ERRORS : [])];
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of errors) {
    for (const status of [ERRORS[code].status, ...(ERRORS[code].alsoStatus ?? [])]) byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[String(status)] = {
      description: codes.map((code) => `\`${code}\`: ${ERRORS[code].title}`).join('; '),
      // The codes this operation can answer with this status, so clients know what to switch on.
      content: {
        'application/problem+json': { schema: { allOf: [ref('Problem'), { properties: { code: { enum: codes } } }] } },
      },
    };
  }
  return {
    operationId: operation.operationId,
    summary: operation.summary,
    ...(operation.auth && { security: [{ bearer: [] }] }),
    ...(parameters.length > 0 && { parameters }),
    ...(operation.body && {
      requestBody: { required: !operation.bodyOptional, content: { 'application/json': { schema: ref(operation.body) } } },
    }),
    responses,
  };
}
