import type { MiddlewareHandler } from 'hono';

/**
 * CORS allowlist: exact origins, or `scheme://host:*` for any port of a host (handy for localhost dev).
 * An origin not on the list gets no CORS headers at all, so the browser blocks the response.
 */
export function originMatcher(allowed: string[]): (origin: string) => boolean {
  const exact = new Set(allowed.filter((o) => !o.endsWith(':*')));
  const anyPort = allowed.filter((o) => o.endsWith(':*')).map((o) => o.slice(0, -1));
  return (origin) =>
    exact.has('*') || exact.has(origin) || anyPort.some((prefix) => origin.startsWith(prefix) && /^\d+$/.test(origin.slice(prefix.length)));
}

export interface ApiCors {
  /** Answers preflights; marks every other response for an allowed origin before the handler runs. */
  middleware: MiddlewareHandler;
  /** For responses made outside the middleware (errors, not found). */
  headersFor(origin: string | undefined): Record<string, string>;
}

/** What a preflight allows: the methods, and the request headers the browser code sends. */
export interface Preflight {
  methods: string;
  headers: string;
}

const API_PREFLIGHT: Preflight = { methods: 'GET, POST, DELETE', headers: 'Authorization, Content-Type' };

/**
 * CORS for the API (or other paths with a preflight of their own). Headers are set before the handler
 * runs: adding them to a finished response (as hono/cors does for `Vary`) makes Hono rebuild it around a
 * body stream, a tenth of the time of a whole create-upload.
 */
export function apiCors(corsOrigins: string[], preflight: Preflight = API_PREFLIGHT): ApiCors {
  const allowed = originMatcher(corsOrigins);
  const headersFor = (origin: string | undefined): Record<string, string> =>
    origin && allowed(origin) ? { 'access-control-allow-origin': origin, vary: 'Origin' } : { vary: 'Origin' };
  return {
    headersFor,
    middleware: async (c, next) => {
      const headers = headersFor(c.req.header('origin'));
      if (c.req.method === 'OPTIONS') {
        if (headers['access-control-allow-origin']) {
          Object.assign(headers, {
            'access-control-allow-methods': preflight.methods,
            'access-control-allow-headers': preflight.headers,
            'access-control-max-age': '600',
          });
        }
        return new Response(null, { status: 204, headers });
      }
      for (const [name, value] of Object.entries(headers)) c.header(name, value);
      await next();
    },
  };
}
