import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import type { JWK, JWTVerifyGetKey } from 'jose';
import { createLocalJWKSet } from 'jose/jwks/local';
import { importJWK } from 'jose/key/import';
import { SignJWT } from 'jose/jwt/sign';
import { ConfigError } from '../config.ts';
import { keptInDataDir } from '../data-dir-secret.ts';

export const DEV_ISSUER = 'upfront-dev';
export const DEV_AUDIENCE = 'upfront';
const TOKEN_LIFETIME_SECONDS = 3600;
/** In the data dir, beside disk-secret: every instance on that directory signs and checks with it. */
export const DEV_KEY_FILE = 'dev-key.json';

export interface DevIssuer {
  issue(user: string): Promise<{ token: string; expiresAt: Date }>;
  keys: JWTVerifyGetKey;
}

export interface DevIssuerOptions {
  /** AUTH_DEV_KEY: the private key as a JWK (JSON), e.g. the content of another instance's dev-key.json. */
  key?: string;
  /** Where the key is made once and kept when none is given. */
  dataDir: string;
}

/**
 * Local stand-in for Auth0/Cognito/Keycloak: signs ES256 tokens for any user name. The key is shared
 * by every instance that uses the same data dir or AUTH_DEV_KEY, so a token from one is valid on all
 * (and across restarts). Never on in production unless AUTH_DEV_ISSUER=true.
 */
export async function createDevIssuer(options: DevIssuerOptions): Promise<DevIssuer> {
  const privateJwk =
    options.key === undefined
      ? parseKey(keptInDataDir(options.dataDir, DEV_KEY_FILE, newKey), join(options.dataDir, DEV_KEY_FILE), `remove ${DEV_KEY_FILE} to have a new key made`)
      : parseKey(options.key, 'AUTH_DEV_KEY', `copy it from an instance's ${DEV_KEY_FILE}`);
  const privateKey = await importJWK(privateJwk, 'ES256');
  const { kty, crv, x, y } = privateJwk;
  const jwk = { kty, crv, x, y, kid: 'dev', alg: 'ES256', use: 'sig' };
  return {
    keys: createLocalJWKSet({ keys: [jwk] }),
    async issue(user) {
      const expiresAt = new Date(Date.now() + TOKEN_LIFETIME_SECONDS * 1000);
      const token = await new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: 'dev' })
        .setSubject(user)
        .setIssuer(DEV_ISSUER)
        .setAudience(DEV_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
        .sign(privateKey);
      return { token, expiresAt };
    },
  };
}

function newKey(): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return `${JSON.stringify(privateKey.export({ format: 'jwk' }))}\n`;
}

function parseKey(text: string, where: string, hint: string): JWK {
  let key: JWK | null = null;
  try {
    key = JSON.parse(text) as JWK | null;
  } catch {
    // Said below, with what the key should look like.
  }
  if (typeof key !== 'object' || key === null || key.kty !== 'EC' || key.crv !== 'P-256' || typeof key.d !== 'string' || typeof key.x !== 'string' || typeof key.y !== 'string') {
    throw new ConfigError(
      `${where} must be an ES256 private key as a JWK ({"kty":"EC","crv":"P-256","x":…,"y":…,"d":…}): ${hint}.`,
    );
  }
  return { kty: key.kty, crv: key.crv, x: key.x, y: key.y, d: key.d };
}
