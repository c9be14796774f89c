/**
 * The Lambda cold-start peer: the usual tutorial function that hands out a presigned PUT URL — the AWS
 * SDK's S3 client and @aws-sdk/s3-request-presigner's getSignedUrl of a PutObject, content type and
 * length signed, behind an HTTP API (payload format 2.0). No auth, no database: the floor of such a
 * function. Bundled by bench/lambda-cold-start.ts with esbuild as `upfront lambda build` bundles Upfront.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

const s3 = new S3Client({ requestChecksumCalculation: 'WHEN_REQUIRED' });

export const handler = async (event) => {
  const { filename, contentType, size } = JSON.parse(event.body);
  const key = `uploads/${crypto.randomUUID()}-${filename}`;
  const command = new PutObjectCommand({ Bucket: process.env.BUCKET, Key: key, ContentType: contentType, ContentLength: size });
  const url = await getSignedUrl(s3, command, { expiresIn: 600, signableHeaders: new Set(['content-type', 'content-length']) });
  return { statusCode: 201, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key, put: { method: 'PUT', url } }) };
};
