/**
 * The first middleware: gives each request an id (x-request-id, honoured and echoed), counts and
 * times it by route pattern and status, and logs one line for it.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { Env } from './context.ts';
import type { Logger } from './logging.ts';
import type { UpfrontMetrics } from './metrics.ts';
import { requestId } from './request-id.ts';

/** What a request was answered by when no API route matched (the value of the `route` variable). */
export type RouteLabel = 'unmatched' | 'static';

export function observe(metrics: UpfrontMetrics, log: Logger): MiddlewareHandler<Env> {
  return async (c, next) => {
    const started = performance.now();
    const id = requestId(c.req.header('x-request-id'));
    c.set('requestId', id);
    await next();
    const seconds = (performance.now() - started) / 1000;
    const labels = { method: c.req.method, route: c.get('route') ?? routePath(c), status: String(c.res.status) };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, seconds);
    setHeader(c, 'x-request-id', id);
    // The path without its query: signed URLs carry their signature there.
    log.info(
      { reqId: id, ...labels, path: c.req.path, ms: Math.round(seconds * 1e4) / 10, ...(c.get('user') && { user: c.get('user').id }) },
      'request',
    );
  };
}

/** A response made by fetch (a proxied static file) has immutable headers: copy it then. */
function setHeader(c: Context<Env>, name: string, value: string): void {
  try {
    c.res.headers.set(name, value);
  } catch {
    c.res = new Response(c.res.body, c.res);
    c.res.headers.set(name, value);
  }
}
