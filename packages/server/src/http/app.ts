import { Hono, type Context } from 'hono';
import type { Authenticate } from '../auth/authenticate.ts';
import type { DevIssuer } from '../auth/dev-issuer.ts';
import { devRoutes } from '../routes/dev.ts';
import { fileRoutes } from '../routes/files.ts';
import { dropInRoutes } from '../routes/drop-in/index.ts';
import { hookRoutes } from '../routes/hooks.ts';
import { uploadRoutes } from '../routes/uploads.ts';
import { usageRoutes } from '../routes/usage.ts';
import type { Services } from '../services.ts';
import { takesPostPolicy } from '../uploads/create-upload.ts';
import type { Env } from './context.ts';
import { apiCors } from './cors.ts';
import type { HealthJson, ReadinessJson, RouteListJson } from './schemas.ts';
import { UpfrontError } from '../errors.ts';
import { problemResponse } from './problem.ts';
import type { Logger } from './logging.ts';
import { observe } from './observe.ts';
import { readiness } from './readiness.ts';

export type FetchHandler = (request: Request) => Promise<Response>;

export interface AppOptions {
  services: Services;
  authenticate: Authenticate;
  log: Logger;
  devIssuer?: DevIssuer;
  /** Requests under this path prefix go to the disk storage endpoint (its own signatures and CORS). */
  storageEndpoint?: { pathPrefix: string; handler: FetchHandler };
  /** Everything that is not the API (e.g. the web page's static files). */
  fallback?: FetchHandler;
}

/** What the client is told about a failed request; unexpected errors are logged, not shown. */
function asUpfrontError(error: unknown, c: Context<Env>, log: Logger): UpfrontError {
  if (error instanceof UpfrontError) {
    // A failure the client is told of in its own words, whose cause the operator must see (a processor's).
    if (error.cause !== undefined) log.error({ err: error.cause, reqId: c.get('requestId'), code: error.code }, error.detail);
    return error;
  }
  // Storage errors carry `code = 'storage_unavailable'` (see storage drivers).
  if ((error as { code?: unknown } | null)?.code === 'storage_unavailable') {
    return new UpfrontError('storage_unavailable', 'Storage did not answer; try again in a moment.');
  }
  log.error({ err: error, reqId: c.get('requestId'), method: c.req.method, path: c.req.path }, 'unexpected error');
  return new UpfrontError('internal_error', 'Something went wrong on our side; try again, and report it if it persists.');
}

export function createApp({ services, authenticate, log, devIssuer, storageEndpoint, fallback }: AppOptions): Hono<Env> {
  const app = new Hono<Env>();
  const cors = apiCors(services.config.corsOrigins);
  app.use(observe(services.metrics, log));

  // onError does not run through middleware, so it adds the CORS headers a browser needs to read the error.
  app.onError((error, c) => problemResponse(asUpfrontError(error, c, log), cors.headersFor(c.req.header('origin'))));

  if (storageEndpoint) {
    app.all(`${storageEndpoint.pathPrefix}/*`, (c) => storageEndpoint.handler(c.req.raw));
  }

  app.get('/healthz', (c) => c.json({ status: 'ok' } satisfies HealthJson));
  app.get('/readyz', async (c) => {
    const checks = await readiness(services, log);
    const failed = Object.entries(checks).filter(([, result]) => result === 'failed').map(([name]) => name);
    if (failed.length === 0) return c.json({ status: 'ok', checks } satisfies ReadinessJson);
    const error = new UpfrontError('not_ready', `This instance cannot reach its ${failed.join(' and ')}; see its logs, and send traffic elsewhere meanwhile.`);
    return problemResponse(error);
  });
  app.get('/metrics', async (c) => {
    const { registry } = services.metrics;
    return c.body(await registry.metrics(), 200, { 'content-type': registry.contentType });
  });

  // Built on first request (it loads the JSON Schema converter), then served from memory.
  let openApi: Promise<string> | undefined;
  app.get('/openapi.json', async (c) => {
    openApi ??= import('./openapi.ts').then(({ openApiDocument }) => JSON.stringify(openApiDocument({ devIssuer: devIssuer !== undefined })));
    return c.body(await openApi, 200, { 'content-type': 'application/json', ...cors.headersFor(c.req.header('origin')) });
  });

  // The store's events: authenticated by their own secret, not a user's token, nor from browsers (no CORS).
  hookRoutes(app, services, log);
  // Shaped like hand-rolled signers' endpoints, outside /v1; only those configured (routes/drop-in/).
  dropInRoutes(app, services, authenticate);
  app.use('/v1/*', cors.middleware);

  app.get('/v1/routes', (c) => {
    // Where storage takes no POST policy (R2, B2), a POST route's uploads are PUTs: say so.
    const post = takesPostPolicy(services.config.storage) ? ('post' as const) : ('put' as const);
    const routes = [...services.config.routes.values()].map(({ name, types, maxSize, visibility, strategy, multipartThreshold }) => ({
      name,
      types,
      maxSize,
      visibility,
      strategy: strategy === 'post' ? post : strategy,
      multipartThreshold,
    }));
    return c.json({ routes } satisfies RouteListJson);
  });
  if (devIssuer) devRoutes(app, devIssuer, { loopbackOnly: services.config.mode === 'dev' });

  app.use('/v1/*', async (c, next) => {
    c.set('user', await authenticate(c.req.header('authorization')));
    await next();
  });
  uploadRoutes(app, services);
  fileRoutes(app, services);
  usageRoutes(app, services);

  app.notFound(async (c) => {
    if (fallback && !c.req.path.startsWith('/v1/')) {
      c.set('route', 'static');
      return fallback(c.req.raw);
    }
    c.set('route', 'unmatched');
    return problemResponse(
      new UpfrontError('not_found', `There is no ${c.req.method} ${c.req.path}; see the API reference in the README.`),
      cors.headersFor(c.req.header('origin')),
    );
  });
  return app;
}
