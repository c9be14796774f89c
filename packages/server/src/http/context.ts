import type { Context } from 'hono';
import type { User } from '../auth/authenticate.ts';
import { ApiError } from './problem.ts';

export type Env = { Variables: { user: User } };

/** The request's JSON body; a malformed body is the client's mistake, said plainly. */
export async function readJson(c: Context): Promise<unknown> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/(.+\+)?json\b/i.test(type)) {
    throw new ApiError(400, 'invalid_request', 'Send the body as JSON with "Content-Type: application/json".');
  }
  try {
    return await c.req.json();
  } catch {
    throw new ApiError(400, 'invalid_request', 'The body is not valid JSON; check quotes, commas and brackets.');
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Path ids are UUIDs; anything else cannot exist. */
export function idParam(c: Context, what: 'upload' | 'file'): string {
  const id = c.req.param('id') ?? '';
  if (!UUID.test(id)) throw new ApiError(404, 'not_found', `No ${what} with this id belongs to you.`);
  return id;
}
