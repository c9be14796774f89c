/**
 * The cold-start peer: the smallest server that does what create-upload does minus the database —
 * Hono on Node, a JWT checked with jose against the identity provider's JWKS, a PUT URL presigned by
 * @aws-sdk/s3-request-presigner. Plain JavaScript, so that it starts as fast as such a server can
 * (no TypeScript loader), like the compiled Upfront it is measured against.
 *
 * Env: PORT, AUTH_JWKS_URL, AUTH_ISSUER, AUTH_AUDIENCE.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

const keys = createRemoteJWKSet(new URL(process.env.AUTH_JWKS_URL));
const s3 = new S3Client({
  endpoint: 'http://127.0.0.1:7480',
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: 'AKIDBENCHMARK0000000', secretAccessKey: 'benchmark/secret/key/000000000000000000' },
  requestChecksumCalculation: 'WHEN_REQUIRED',
});

const app = new Hono();
app.post('/v1/uploads', async (c) => {
  const token = (c.req.header('authorization') ?? '').replace(/^Bearer /, '');
  let sub;
  try {
    ({ payload: { sub } } = await jwtVerify(token, keys, { issuer: process.env.AUTH_ISSUER, audience: process.env.AUTH_AUDIENCE }));
  } catch {
    return c.json({ code: 'unauthorized' }, 401);
  }
  const { filename, contentType, size } = await c.req.json();
  const key = `${sub}/${crypto.randomUUID()}-${filename}`;
  const command = new PutObjectCommand({ Bucket: 'staging', Key: key, ContentType: contentType, ContentLength: size });
  const url = await getSignedUrl(s3, command, { expiresIn: 600, signableHeaders: new Set(['content-type', 'content-length']) });
  return c.json({ key, put: { method: 'PUT', url, headers: { 'Content-Type': contentType } } }, 201);
});
serve({ fetch: app.fetch, port: Number(process.env.PORT), hostname: '127.0.0.1' });
