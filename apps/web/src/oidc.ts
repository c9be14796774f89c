/**
 * OpenID Connect sign-in as a public client (no secret in a page): authorization code flow with
 * PKCE (S256). `startOidcSignIn` sends the browser to the provider; when it comes back to this page
 * with `?code&state`, `finishOidcSignIn` trades the code for tokens. The access token is what the
 * API verifies (its issuer and audience); the ID token names the user.
 */
import { UpfrontError } from '@upfront/client';
import type { OidcSettings } from './settings.ts';
import type { Session } from './session.ts';

const PENDING_KEY = 'upfront.oidc';

interface Discovery {
  authorization_endpoint: string;
  token_endpoint: string;
}

const base64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const randomString = () => base64url(crypto.getRandomValues(new Uint8Array(32)));
/** This page without query or fragment: where the provider sends the user back. */
const redirectUri = () => location.origin + location.pathname;

async function discover(issuer: string): Promise<Discovery> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  const response = await fetch(url);
  const body = (await response.json().catch(() => null)) as Partial<Discovery> | null;
  if (!response.ok || typeof body?.authorization_endpoint !== 'string' || typeof body.token_endpoint !== 'string') {
    throw new UpfrontError('oidc_unavailable', `The identity provider's configuration (${url}) could not be read; check the page's upfront-oidc-issuer.`, response.status);
  }
  return { authorization_endpoint: body.authorization_endpoint, token_endpoint: body.token_endpoint };
}

export async function startOidcSignIn(settings: OidcSettings): Promise<void> {
  const { authorization_endpoint } = await discover(settings.issuer);
  const verifier = randomString();
  const state = randomString();
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ verifier, state }));
  const url = new URL(authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: settings.clientId,
    redirect_uri: redirectUri(),
    scope: 'openid profile email',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
  }).toString();
  location.assign(url);
}

let finishing: Promise<Session | undefined> | undefined;

/**
 * The session when this page load is the provider's redirect back; undefined when it is not. Once per
 * page load: the code and the verifier can be used only once (React may run an effect twice).
 */
export function finishOidcSignIn(settings: OidcSettings): Promise<Session | undefined> {
  finishing ??= finish(settings);
  return finishing;
}

async function finish(settings: OidcSettings): Promise<Session | undefined> {
  const params = new URLSearchParams(location.search);
  const code = params.get('code');
  const error = params.get('error');
  if (!code && !error) return undefined;
  const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) ?? 'null') as { verifier: string; state: string } | null;
  sessionStorage.removeItem(PENDING_KEY);
  history.replaceState(null, '', redirectUri());
  if (error) throw new UpfrontError(error, params.get('error_description') ?? 'The identity provider did not sign you in; try again.');
  if (!pending || params.get('state') !== pending.state) {
    throw new UpfrontError('oidc_state_mismatch', 'This sign-in was not started from this tab (its state does not match); sign in again.');
  }
  const { token_endpoint } = await discover(settings.issuer);
  const response = await fetch(token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: code!, redirect_uri: redirectUri(), client_id: settings.clientId, code_verifier: pending.verifier }),
  });
  const tokens = (await response.json().catch(() => null)) as { access_token?: unknown; id_token?: unknown; error_description?: unknown } | null;
  if (!response.ok || typeof tokens?.access_token !== 'string') {
    const why = typeof tokens?.error_description === 'string' ? tokens.error_description : `status ${response.status}`;
    throw new UpfrontError('oidc_token_failed', `The identity provider did not give a token (${why}); sign in again.`, response.status);
  }
  return { token: tokens.access_token, user: userName(typeof tokens.id_token === 'string' ? tokens.id_token : tokens.access_token) };
}

/** The name to show, from the token's claims (read, not verified: the API verifies the access token). */
function userName(jwt: string): string {
  try {
    const payload = jwt.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/');
    const claims = JSON.parse(atob(payload)) as Record<string, unknown>;
    for (const claim of ['name', 'preferred_username', 'email', 'sub']) if (typeof claims[claim] === 'string') return claims[claim];
  } catch {
    // Not a JWT: an opaque token still signs in, with no name to show.
  }
  return 'you';
}
