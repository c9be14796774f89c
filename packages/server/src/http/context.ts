import type { Context } from 'hono';
import * as v from 'valibot';
import type { User } from '../auth/authenticate.ts';
import { UpfrontError, type ErrorCode } from '../errors.ts';
import type { RouteLabel } from './observe.ts';

/** `route` labels a request that no API route answered (metrics and logs, see observe.ts). */
export type Env = { Variables: { user: User; requestId: string; route?: RouteLabel } };

/** API bodies are small JSON; file bytes go straight to storage, never through the API. */
export const MAX_JSON_BODY = 64 * 1024;

/** `application/json` or `application/<something>+json`, parameters allowed. */
export function isJsonType(contentType: string | undefined): boolean {
  return /^application\/(.+\+)?json\b/i.test(contentType ?? '');
}

/** The request's JSON body; a malformed or oversized body is the client's mistake, said plainly. */
export async function readJson(c: Context): Promise<unknown> {
  if (!isJsonType(c.req.header('content-type'))) {
    throw new UpfrontError('invalid_request', 'Send the body as JSON with "Content-Type: application/json".');
  }
  const text = await readLimitedText(c.req.raw);
  try {
    return JSON.parse(text);
  } catch {
    throw new UpfrontError('invalid_request', 'The body is not valid JSON; check quotes, commas and brackets.');
  }
}

/**
 * `input` checked against `schema` (schemas.ts), or the first problem as a 400 whose detail is the
 * schema's own sentence for it. `codes` gives a field's problems another code than invalid_request.
 */
export function parseInput<S extends v.GenericSchema>(
  schema: S,
  input: unknown,
  codes: Partial<Record<string, ErrorCode>> = {},
): v.InferOutput<S> {
  const result = v.safeParse(schema, input, { abortEarly: true });
  if (result.success) return result.output;
  const issue = result.issues[0];
  const field = issue.path?.[0]?.key;
  const code = typeof field === 'string' && Object.hasOwn(codes, field) ? codes[field]! : 'invalid_request';
  throw new UpfrontError(code, missingField(schema, issue) ?? issue.message);
}

/** A missing key is reported by the object with its own message; the field's says what to send. */
function missingField(schema: v.GenericSchema, issue: v.GenericIssue): string | undefined {
  const key = issue.path?.length === 1 ? issue.path[0]!.key : undefined;
  const entries = (schema as Partial<v.ObjectSchema<v.ObjectEntries, undefined>>).entries;
  if (issue.kind !== 'schema' || issue.input !== undefined || typeof key !== 'string' || !entries || !Object.hasOwn(entries, key)) {
    return undefined;
  }
  return v.safeParse(entries[key]!, undefined).issues?.[0].message;
}

/** The JSON body, checked against `schema` (see parseInput). */
export async function readBody<S extends v.GenericSchema>(
  c: Context,
  schema: S,
  codes?: Partial<Record<string, ErrorCode>>,
): Promise<v.InferOutput<S>> {
  return parseInput(schema, await readJson(c), codes);
}

function tooLarge(): UpfrontError {
  return new UpfrontError('payload_too_large', 'API request bodies are at most 64 KB; file bytes go straight to storage, not here.');
}

/**
 * The body as text, refusing more than MAX_JSON_BODY bytes without buffering them. A declared
 * Content-Length is checked up front (the HTTP layer holds the body to it); a chunked body is
 * counted as it arrives.
 */
async function readLimitedText(request: Request): Promise<string> {
  const declared = request.headers.get('content-length');
  if (declared !== null) {
    if (Number(declared) > MAX_JSON_BODY) throw tooLarge();
    return request.text();
  }
  if (!request.body) return '';
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    size += read.value.byteLength;
    if (size > MAX_JSON_BODY) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(read.value);
  }
  return new Blob(chunks).text();
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Path ids are UUIDs; anything else cannot exist. */
export function idParam(c: Context, what: 'upload' | 'file'): string {
  const id = c.req.param('id') ?? '';
  if (!UUID.test(id)) throw new UpfrontError('not_found', `No ${what} with this id belongs to you.`);
  return id;
}
