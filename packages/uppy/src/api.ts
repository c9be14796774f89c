/** Calls to the Upfront API with the user's bearer token; a failed answer becomes an UpfrontError with its code and sentence. */
import { UpfrontError } from '@upfront/client';

export type Token = string | (() => string | Promise<string>);

export type Api = <T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown) => Promise<T>;

export function apiCaller(endpoint: string, token: Token): Api {
  const base = endpoint.replace(/\/+$/, '');
  return async <T>(method: string, path: string, body?: unknown) => {
    // Asked before every call, so an app's token function can refresh it.
    const bearer = typeof token === 'function' ? await token() : token;
    let response: Response;
    try {
      response = await fetch(base + path, {
        method,
        headers: { authorization: `Bearer ${bearer}`, accept: 'application/json', ...(body !== undefined && { 'content-type': 'application/json' }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    } catch (cause) {
      throw new UpfrontError('api_unavailable', 'Could not reach the upload service. Check your connection and try again.', 0, { cause });
    }
    if (!response.ok) throw problemOf(response.status, await response.text().catch(() => ''));
    return (response.status === 204 ? undefined : await response.json()) as T;
  };
}

/** The API's problem+json (`code`, `detail`) as an error; a body without them still says what happened. */
function problemOf(status: number, text: string): UpfrontError {
  let problem: { code?: unknown; detail?: unknown } = {};
  try {
    problem = JSON.parse(text) ?? {};
  } catch {
    // not JSON: a proxy's page, say
  }
  const code = typeof problem.code === 'string' ? problem.code : status >= 500 ? 'server_error' : 'invalid_request';
  const detail = typeof problem.detail === 'string' ? problem.detail : `The upload service answered with status ${status}. Try again later.`;
  return new UpfrontError(code, detail, status);
}
