/**
 * The Lambda cold-start peer with Upfront's duties for a create-upload, written the way a careful team
 * hand-rolls it: the caller's JWT checked against the IdP's JWKS and the upload recorded in PostgreSQL
 * (lambda-floor.mjs's recordUpload), then the AWS SDK's presigned PUT (content type and length signed).
 * No rules, quotas, metrics or logs beyond that. Bundled by bench/lambda-cold-start.ts like the plain peer.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { recordUpload } from './lambda-floor.mjs';

const s3 = new S3Client({ requestChecksumCalculation: 'WHEN_REQUIRED' });

export const handler = async (event) => {
  const { key, contentType, size } = await recordUpload(event);
  const command = new PutObjectCommand({ Bucket: process.env.BUCKET, Key: key, ContentType: contentType, ContentLength: size });
  const url = await getSignedUrl(s3, command, { expiresIn: 600, signableHeaders: new Set(['content-type', 'content-length']) });
  return { statusCode: 201, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key, put: { method: 'PUT', url } }) };
};
