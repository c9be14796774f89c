import type { JWTVerifyGetKey } from 'jose';
import { createLocalJWKSet } from 'jose/jwks/local';
import { exportJWK } from 'jose/key/export';
import { generateKeyPair } from 'jose/key/generate/keypair';
import { SignJWT } from 'jose/jwt/sign';

export const DEV_ISSUER = 'upfront-dev';
export const DEV_AUDIENCE = 'upfront';
const TOKEN_LIFETIME_SECONDS = 3600;

export interface DevIssuer {
  issue(user: string): Promise<{ token: string; expiresAt: Date }>;
  keys: JWTVerifyGetKey;
}

/**
 * Local stand-in for Auth0/Cognito/Keycloak: signs ES256 tokens for any user name with a key made at
 * start-up (tokens die with the process, which is what a dev issuer should do). Never on in production
 * unless AUTH_DEV_ISSUER=true.
 */
export async function createDevIssuer(): Promise<DevIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'dev', alg: 'ES256', use: 'sig' };
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
