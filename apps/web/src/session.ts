/**
 * The signed-in user, kept in sessionStorage (this tab only, gone when it closes): the bearer token
 * the API checks and the name shown. Dev sign-in asks the API's dev issuer for a token.
 */
import { UpfrontError } from '@upfront/client';

export interface Session {
  token: string;
  user: string;
}

const TOKEN_KEY = 'upfront.token';
const USER_KEY = 'upfront.user';

export function loadSession(): Session | undefined {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const user = sessionStorage.getItem(USER_KEY);
  return token && user !== null ? { token, user } : undefined;
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(TOKEN_KEY, session.token);
  sessionStorage.setItem(USER_KEY, session.user);
}

export function clearSession(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(USER_KEY);
}

/** POST /v1/dev/token: any name, no password (the API offers it in dev mode only). */
export async function devSignIn(apiUrl: string, user: string): Promise<Session> {
  const response = await fetch(`${apiUrl}/v1/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user }),
  });
  const body = (await response.json().catch(() => null)) as { token?: unknown; code?: unknown; detail?: unknown } | null;
  if (response.ok && typeof body?.token === 'string') return { token: body.token, user };
  if (typeof body?.code === 'string' && typeof body.detail === 'string') throw new UpfrontError(body.code, body.detail, response.status);
  throw new UpfrontError(
    response.status === 404 ? 'dev_sign_in_disabled' : 'sign_in_failed',
    response.status === 404 ? 'Development sign-in is not enabled on this server; configure an OpenID Connect provider for the page.' : `Sign-in failed (status ${response.status}); try again.`,
    response.status,
  );
}
