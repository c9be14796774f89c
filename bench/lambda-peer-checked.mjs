/**
 * The Lambda cold-start peer with Upfront's duties for a create-upload, written the way a careful team
 * hand-rolls it: the caller's JWT checked against the IdP's JWKS (jose), the upload recorded in
 * PostgreSQL (pg, one INSERT), then the AWS SDK's presigned PUT (content type and length signed). No
 * rules, quotas, metrics or logs beyond that. Bundled by bench/lambda-cold-start.ts like the plain peer;
 * it shows the floor any function doing this work stands on.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import pg from 'pg';

const s3 = new S3Client({ requestChecksumCalculation: 'WHEN_REQUIRED' });
const jwks = createRemoteJWKSet(new URL(process.env.AUTH_JWKS_URL));
const pool = new pg.Pool({ connectionString: process.env.PEER_DATABASE_URL, max: 2 });

export const handler = async (event) => {
  const token = (event.headers.authorization ?? '').replace(/^Bearer /, '');
  const { payload } = await jwtVerify(token, jwks, { issuer: process.env.AUTH_ISSUER, audience: process.env.AUTH_AUDIENCE });
  const { filename, contentType, size } = JSON.parse(event.body);
  const key = `uploads/${payload.sub}/${crypto.randomUUID()}-${filename}`;
  await pool.query('insert into lambda_peer_uploads (key, user_id, content_type, size) values ($1, $2, $3, $4)', [key, payload.sub, contentType, size]);
  const command = new PutObjectCommand({ Bucket: process.env.BUCKET, Key: key, ContentType: contentType, ContentLength: size });
  const url = await getSignedUrl(s3, command, { expiresIn: 600, signableHeaders: new Set(['content-type', 'content-length']) });
  return { statusCode: 201, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key, put: { method: 'PUT', url } }) };
};
