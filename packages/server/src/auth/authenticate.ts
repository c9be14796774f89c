// jose's subpath modules: loading only what verification needs keeps start-up short.
import type { JWTVerifyGetKey } from 'jose';
import { JWKSInvalid, JWKSTimeout, JWTClaimValidationFailed, JWTExpired } from 'jose/errors';
import { createRemoteJWKSet, customFetch } from 'jose/jwks/remote';
import { decodeJwt } from 'jose/jwt/decode';
import { jwtVerify } from 'jose/jwt/verify';
import type { AuthConfig } from '../config.ts';
import { UpfrontError } from '../errors.ts';
import { DEV_AUDIENCE, DEV_ISSUER, type DevIssuer } from './dev-issuer.ts';
import { fetchJwks } from './jwks-fetch.ts';

export interface User {
  /** The token's `sub`. */
  id: string;
}

export type Authenticate = (authorization: string | undefined) => Promise<User>;

interface Trusted {
  keys: JWTVerifyGetKey;
  issuer: string;
  audience: string;
}

// Asymmetric algorithms only: an HS256 token signed with a public key, or `alg: none`, is refused.
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/**
 * Bearer JWT → user. Tokens are checked against the issuer they claim (the JWKS of Auth0, Cognito,
 * Keycloak…, or the dev issuer), with issuer and audience enforced and a small clock tolerance.
 */
export function createAuthenticator(config: AuthConfig, devIssuer?: DevIssuer): Authenticate {
  const verify = createVerifier(config, devIssuer);
  // A browser sends the same token with every request; checking its signature once per token (until
  // it expires) keeps an asymmetric signature check off the hot path of create-upload.
  const verified = new Map<string, { user: User; expiresAt: number }>();
  return async (authorization) => {
    const token = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(authorization ?? '')?.[1];
    if (!token) {
      throw new UpfrontError('unauthorized', 'Send a bearer token in the Authorization header ("Authorization: Bearer <token>"); sign in to get one.');
    }
    const hit = verified.get(token);
    if (hit && hit.expiresAt > Date.now()) return hit.user;
    const { user, expiresAt } = await verify(token);
    if (verified.size >= MAX_CACHED_TOKENS) verified.clear();
    verified.set(token, { user, expiresAt });
    return user;
  };
}

const MAX_CACHED_TOKENS = 10_000;

function createVerifier(config: AuthConfig, devIssuer?: DevIssuer): (token: string) => Promise<{ user: User; expiresAt: number }> {
  const trusted: Trusted[] = [];
  if (config.jwksUrl && config.issuer && config.audience) {
    trusted.push({ keys: createRemoteJWKSet(new URL(config.jwksUrl), { [customFetch]: fetchJwks }), issuer: config.issuer, audience: config.audience });
  }
  if (devIssuer) trusted.push({ keys: devIssuer.keys, issuer: DEV_ISSUER, audience: DEV_AUDIENCE });

  const tolerance = config.clockTolerance;
  return async (token) => {
    let claimedIssuer: string | undefined;
    try {
      claimedIssuer = decodeJwt(token).iss;
    } catch {
      throw new UpfrontError('unauthorized', 'The bearer token is not a JWT; sign in again to get a fresh token.');
    }
    const match = trusted.find((t) => t.issuer === claimedIssuer);
    if (!match) throw new UpfrontError('unauthorized', 'The token was issued by an issuer this API does not trust; sign in again.');
    try {
      const { payload } = await jwtVerify(token, match.keys, {
        issuer: match.issuer,
        audience: match.audience,
        algorithms: ALGORITHMS,
        clockTolerance: tolerance,
        // A token without an expiry would be a password that never changes.
        requiredClaims: ['exp'],
      });
      if (typeof payload.sub !== 'string' || payload.sub === '') {
        throw new UpfrontError('unauthorized', 'The token names no user (no "sub" claim); sign in again.');
      }
      // jose checks `nbf` against the clock, but `iat` only when a maximum age is set.
      if (typeof payload.iat === 'number' && payload.iat > Date.now() / 1000 + tolerance) {
        throw new UpfrontError('unauthorized', 'The token says it was issued in the future ("iat"); check the clocks of this server and of the identity provider, then sign in again.');
      }
      return { user: { id: payload.sub }, expiresAt: payload.exp! * 1000 };
    } catch (error) {
      if (error instanceof UpfrontError) throw error;
      if (error instanceof JWTExpired) throw new UpfrontError('unauthorized', 'The token has expired; sign in again.');
      if (error instanceof JWTClaimValidationFailed) {
        if (error.reason === 'missing') {
          throw new UpfrontError('unauthorized', `The token has no "${error.claim}" claim, which this API requires; sign in again.`);
        }
        if (error.claim === 'nbf') {
          throw new UpfrontError('unauthorized', 'The token is not valid yet ("nbf" is in the future); check the clocks of this server and of the identity provider.');
        }
        throw new UpfrontError('unauthorized', `The token's "${error.claim}" claim is not accepted here; sign in to this app again.`);
      }
      if (error instanceof JWKSTimeout || error instanceof JWKSInvalid) {
        throw new UpfrontError('auth_unavailable', 'The identity provider\'s keys could not be fetched; try again shortly.');
      }
      throw new UpfrontError('unauthorized', 'The token\'s signature could not be verified; sign in again.');
    }
  };
}
