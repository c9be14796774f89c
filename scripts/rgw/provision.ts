/**
 * Creates the three Upfront buckets on the dev RGW that scripts/rgw/start.sh booted, as their owner
 * (the admin credential): the bucket policies setup writes, browser CORS on staging (no lifecycle rules: a
 * test RGW's lifecycle day lasts seconds, and the tests' files must stay). Then
 * gives the API's user (S3_ACCESS_KEY_ID) the runtime policy `upfront policy` prints for the repository's
 * upfront.config.json, as an IAM user policy: its only rights. Reads the S3_* env start.sh printed.
 */
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  PutBucketCorsCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../packages/server/src/config.ts';
import { runtimePolicy } from '../../packages/server/src/buckets/policy.ts';
import { bucketSpecs, DEFAULT_BUCKET_SETTINGS } from '../../packages/server/src/buckets/spec.ts';
import { putUserPolicy } from './user-policy.ts';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`provision: ${name} is not set`);
  return value;
}

const endpoint = required('S3_ENDPOINT');
const region = required('S3_REGION');
const owner = { accessKeyId: required('S3_ADMIN_ACCESS_KEY_ID'), secretAccessKey: required('S3_ADMIN_SECRET_ACCESS_KEY') };
const client = new S3Client({
  endpoint,
  region,
  credentials: owner,
  forcePathStyle: true,
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});
const staging = required('S3_BUCKET_STAGING');
const publicBucket = required('S3_BUCKET_PUBLIC');
const privateBucket = required('S3_BUCKET_PRIVATE');
const corsOrigins = (process.env.RGW_CORS_ORIGINS ?? '')
  .split(',')
  .map((origin) => origin.trim())
  .filter(Boolean);

for (const bucket of [staging, publicBucket, privateBucket]) {
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (error) {
    if (!(error instanceof S3ServiceException && error.name === 'BucketAlreadyOwnedByYou')) throw error;
  }
}

// The bucket policies `upfront setup` writes: anonymous reads of public files, and each bucket's share
// of the runtime policy naming the API's user (RGW checks POST form uploads, and once a bucket has a
// policy also deletes and copies, against the bucket policy alone).
const config = loadConfig({ mode: 'dev', env: { ...process.env, STORAGE_DRIVER: 's3' }, file: fileURLToPath(new URL('../../upfront.config.json', import.meta.url)) });
const routes = [...config.routes.values()];
const apiUser = required('RGW_API_USER');
const buckets = { staging, public: publicBucket, private: privateBucket };
for (const { name, policy } of bucketSpecs({ buckets }, { origins: corsOrigins, ...DEFAULT_BUCKET_SETTINGS, apiPrincipal: `arn:aws:iam:::user/${apiUser}`, routes })) {
  if (policy) await client.send(new PutBucketPolicyCommand({ Bucket: name, Policy: JSON.stringify(policy) }));
}

if (corsOrigins.length > 0) {
  await client.send(
    new PutBucketCorsCommand({
      Bucket: staging,
      CORSConfiguration: {
        CORSRules: [
          {
            AllowedOrigins: corsOrigins,
            AllowedMethods: ['PUT', 'POST', 'GET', 'HEAD'],
            AllowedHeaders: ['*'],
            ExposeHeaders: ['ETag'],
            MaxAgeSeconds: 600,
          },
        ],
      },
    }),
  );
}

// RGW creates its data pools on first use; write once now so the first test does not pay for it.
const warmKey = '.upfront-warm-up';
await client.send(new PutObjectCommand({ Bucket: staging, Key: warmKey, Body: 'x' }));
await client.send(new DeleteObjectCommand({ Bucket: staging, Key: warmKey }));
const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: staging, Key: warmKey }));
await client.send(new AbortMultipartUploadCommand({ Bucket: staging, Key: warmKey, UploadId }));

// The API's user may do what the API does, on these buckets, and nothing else.
await putUserPolicy({ endpoint, region, credentials: owner }, apiUser, 'upfront-runtime', runtimePolicy({ buckets }, routes));

console.log(`provisioned ${staging}, ${publicBucket} (public read), ${privateBucket}; CORS origins: ${corsOrigins.join(' ') || 'none'}; ${apiUser} has the runtime policy`);
