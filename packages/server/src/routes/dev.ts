import type { Hono } from 'hono';
import type { DevIssuer } from '../auth/dev-issuer.ts';
import type { Env } from '../http/context.ts';
import { readJson } from '../http/context.ts';
import { UpfrontError } from '../errors.ts';

/** `POST /v1/dev/token {"user": "alice"}` → a token for alice. Mounted only when the dev issuer is on. */
export function devRoutes(app: Hono<Env>, issuer: DevIssuer): void {
  app.post('/v1/dev/token', async (c) => {
    const body = (await readJson(c)) as { user?: unknown } | null;
    const user = typeof body?.user === 'string' ? body.user.trim() : '';
    if (!/^[\p{L}\p{N}._@+-]{1,64}$/u.test(user)) {
      throw new UpfrontError('invalid_request', 'Send {"user": "<name>"}: 1 to 64 letters, digits or . _ @ + -');
    }
    const { token, expiresAt } = await issuer.issue(user);
    return c.json({ token, expiresAt: expiresAt.toISOString() });
  });
}
