import { createRemoteJWKSet, decodeJwt, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { AuthConfig } from '../config.ts';
import { ApiError } from '../http/problem.ts';
import { DEV_AUDIENCE, DEV_ISSUER, type DevIssuer } from './dev-issuer.ts';

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
      throw new ApiError(401, 'unauthorized', 'Send a bearer token in the Authorization header ("Authorization: Bearer <token>"); sign in to get one.');
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
    trusted.push({ keys: createRemoteJWKSet(new URL(config.jwksUrl)), issuer: config.issuer, audience: config.audience });
  }
  if (devIssuer) trusted.push({ keys: devIssuer.keys, issuer: DEV_ISSUER, audience: DEV_AUDIENCE });

  return async (token) => {
    let claimedIssuer: string | undefined;
    try {
      claimedIssuer = decodeJwt(token).iss;
    } catch {
      throw new ApiError(401, 'unauthorized', 'The bearer token is not a JWT; sign in again to get a fresh token.');
    }
    const match = trusted.find((t) => t.issuer === claimedIssuer);
    if (!match) throw new ApiError(401, 'unauthorized', 'The token was issued by an issuer this API does not trust; sign in again.');
    try {
      const { payload } = await jwtVerify(token, match.keys, {
        issuer: match.issuer,
        audience: match.audience,
        algorithms: ALGORITHMS,
        clockTolerance: 30,
      });
      if (typeof payload.sub !== 'string' || payload.sub === '') {
        throw new ApiError(401, 'unauthorized', 'The token names no user (no "sub" claim); sign in again.');
      }
      // Tokens without `exp` are re-verified every time rather than cached forever.
      return { user: { id: payload.sub }, expiresAt: payload.exp ? payload.exp * 1000 : 0 };
    } catch (error) {
      if (error instanceof ApiError) throw error;
      if (error instanceof errors.JWTExpired) throw new ApiError(401, 'unauthorized', 'The token has expired; sign in again.');
      if (error instanceof errors.JWTClaimValidationFailed) {
        throw new ApiError(401, 'unauthorized', `The token's "${error.claim}" claim is not accepted here; sign in to this app again.`);
      }
      if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) {
        throw new ApiError(503, 'auth_unavailable', 'The identity provider\'s keys could not be fetched; try again shortly.');
      }
      throw new ApiError(401, 'unauthorized', 'The token\'s signature could not be verified; sign in again.');
    }
  };
}
