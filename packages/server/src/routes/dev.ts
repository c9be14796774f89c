import type { Hono } from 'hono';
import type { DevIssuer } from '../auth/dev-issuer.ts';
import type { Env } from '../http/context.ts';
import { readBody } from '../http/context.ts';
import { DevTokenRequest, type DevTokenJson } from '../http/schemas.ts';
import { UpfrontError } from '../errors.ts';

/**
 * `POST /v1/dev/token {"user": "alice"}` → a token for alice. Mounted only when the dev issuer is on.
 * With `loopbackOnly` (dev mode) only requests addressed to this machine by a loopback name are
 * served: a web page whose own domain resolves to 127.0.0.1 (DNS rebinding) sends its own Host.
 */
export function devRoutes(app: Hono<Env>, issuer: DevIssuer, { loopbackOnly }: { loopbackOnly: boolean }): void {
  app.post('/v1/dev/token', async (c) => {
    if (loopbackOnly && !isLoopbackHost(c.req.header('host'))) {
      throw new UpfrontError(
        'forbidden',
        'Dev sign-in answers only requests to localhost, 127.0.0.1 or [::1]; open the app through one of those names.',
      );
    }
    const { user } = await readBody(c, DevTokenRequest);
    const { token, expiresAt } = await issuer.issue(user);
    const answer: DevTokenJson = { token, expiresAt: expiresAt.toISOString() };
    return c.json(answer);
  });
}

/** `localhost`, `*.localhost`, `127.x.x.x` or `[::1]`, with or without a port. */
export function isLoopbackHost(host: string | undefined): boolean {
  const name = (host ?? '').toLowerCase().replace(/:\d+$/, '');
  return (
    name === 'localhost' ||
    name.endsWith('.localhost') ||
    name === '[::1]' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)
  );
}
