/**
 * Doctor's check of the sweeper's listings, with the API's credential: each bucket listed under the
 * routes' prefixes (s3:ListBucket) and staging's multipart uploads (s3:ListBucketMultipartUploads), as
 * the sweeper lists them. A credential attached before the sweeper existed lacks them.
 */
import { ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { S3DriverConfig } from '../storage/s3-config.ts';
import type { Found } from './doctor.ts';
import { keyPrefix, narrowest, type PolicyRoute } from './policy.ts';

const FIX = 'grant the API\'s credential the listing actions of `upfront policy` (s3:ListBucket, s3:ListBucketMultipartUploads), then run setup';

export async function checkListing(s3: S3Client, config: S3DriverConfig, routes: PolicyRoute[], found: Found): Promise<void> {
  const refused: string[] = [];
  for (const bucket of ['staging', 'public', 'private'] as const) {
    const own = routes.filter((route) => bucket === 'staging' || route.visibility === bucket);
    for (const prefix of narrowest(own.map((route) => keyPrefix(route.keyTemplate, route.name)))) {
      const listed = s3.send(new ListObjectsV2Command({ Bucket: config.buckets[bucket], MaxKeys: 1, ...(prefix && { Prefix: prefix }) }));
      if (!(await succeeds(listed))) refused.push(`list ${config.buckets[bucket]}/${prefix}`);
    }
  }
  if (!(await succeeds(s3.send(new ListMultipartUploadsCommand({ Bucket: config.buckets.staging, MaxUploads: 1 }))))) {
    refused.push(`list multipart uploads of ${config.buckets.staging}`);
  }
  if (refused.length > 0) found('sweeper listing', 'fail', `storage refuses the API's credential to ${refused.join(', ')}: the sweeper cannot clean up`, FIX);
  else found('sweeper listing', 'ok', 'the API\'s credential lists the buckets and staging\'s multipart uploads, as the sweeper does');
}

const succeeds = (sent: Promise<unknown>) => sent.then(() => true, (error: { name?: string }) => (error.name === 'AccessDenied' ? false : Promise.reject(error)));
