/**
 * The floor under any Lambda function with Upfront's duties for a create-upload, and nothing else: the
 * caller's JWT checked against the IdP's JWKS (jose), one INSERT into PostgreSQL (pg), an answer. No
 * signing at all, no framework, no logs. Bundled by bench/lambda-cold-start.ts like the peers: whatever
 * it costs, no such function can start faster. lambda-peer-checked.mjs does the same, then presigns.
 */
import { createRemoteJWKSet, jwtVerify } from 'jose';
import pg from 'pg';

const jwks = createRemoteJWKSet(new URL(process.env.AUTH_JWKS_URL));
const pool = new pg.Pool({ connectionString: process.env.PEER_DATABASE_URL, max: 2 });

/** Checks the caller's JWT and records the upload: its key and what it declared. */
export async function recordUpload(event) {
  const token = (event.headers.authorization ?? '').replace(/^Bearer /, '');
  const { payload } = await jwtVerify(token, jwks, { issuer: process.env.AUTH_ISSUER, audience: process.env.AUTH_AUDIENCE });
  const { filename, contentType, size } = JSON.parse(event.body);
  const key = `uploads/${payload.sub}/${crypto.randomUUID()}-${filename}`;
  await pool.query('insert into lambda_peer_uploads (key, user_id, content_type, size) values ($1, $2, $3, $4)', [key, payload.sub, contentType, size]);
  return { key, contentType, size };
}

export const handler = async (event) => {
  const { key } = await recordUpload(event);
  return { statusCode: 201, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key }) };
};
