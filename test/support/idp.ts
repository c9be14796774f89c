/**
 * A stand-in identity provider (what Auth0/Cognito/Keycloak expose): an RSA key pair, its JWKS served
 * over real HTTP, and a signer for tokens with any claims, so tests can make expired, foreign-audience
 * or otherwise bad tokens that Upfront must refuse.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type JWTPayload } from 'jose';

export interface Idp {
  jwksUrl: string;
  issuer: string;
  audience: string;
  /** Env for Upfront to trust this IdP. */
  env: Record<string, string>;
  /**
   * A token with `claims`; by default issued a minute ago, expiring in `expiresIn` seconds (600).
   * `iat`, `nbf` and `exp` in seconds from now override those; `exp: null` leaves the expiry out.
   */
  sign(
    claims: JWTPayload & { sub?: string },
    options?: { expiresIn?: number; audience?: string; issuer?: string; iat?: number; nbf?: number; exp?: number | null },
  ): Promise<string>;
  close(): Promise<void>;
}

export async function startIdp(): Promise<Idp> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] });
  const server = createServer((req, res) => {
    if (req.url === '/.well-known/jwks.json') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = `${base}/`;
  const audience = 'upfront-test-api';
  return {
    jwksUrl: `${base}/.well-known/jwks.json`,
    issuer,
    audience,
    env: { AUTH_JWKS_URL: `${base}/.well-known/jwks.json`, AUTH_ISSUER: issuer, AUTH_AUDIENCE: audience },
    sign(claims, options = {}) {
      const now = Math.floor(Date.now() / 1000);
      const token = new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer(options.issuer ?? issuer)
        .setAudience(options.audience ?? audience)
        .setIssuedAt(now + (options.iat ?? -60));
      if (options.nbf !== undefined) token.setNotBefore(now + options.nbf);
      if (options.exp !== null) token.setExpirationTime(now + (options.exp ?? options.expiresIn ?? 600));
      return token.sign(privateKey);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
