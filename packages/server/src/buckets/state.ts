/** What a bucket looks like now, read with the S3 API (each setting that is absent reads as empty). */
import {
  GetBucketAclCommand,
  GetBucketCorsCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketPolicyCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  type LifecycleRule as S3LifecycleRule,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { CorsRule, LifecycleRule, PolicyDocument, PublicAccessBlock } from './spec.ts';
import { readWebsite, type WebsiteSettings } from './website.ts';

export interface BucketState {
  exists: boolean;
  cors: CorsRule[];
  /** Every enabled rule, Upfront's and others. */
  lifecycle: LifecycleRule[];
  /** The rules as the store gave them, so a change to Upfront's keeps the others whole. */
  lifecycleRules: S3LifecycleRule[];
  policy: PolicyDocument | null;
  versioning: 'Enabled' | 'Suspended' | 'Off';
  /** The ACL grants something to everyone (AllUsers) or to any AWS account (AuthenticatedUsers). */
  publicAcl: boolean;
  /** Block Public Access (none: all off); null when not read. */
  publicAccessBlock: PublicAccessBlock | null;
  /** Its static website settings; null when it is no website, absent when not read. */
  website?: WebsiteSettings | null;
}

const NO_BLOCK: PublicAccessBlock = { blockPublicAcls: false, ignorePublicAcls: false, blockPublicPolicy: false, restrictPublicBuckets: false };

const ANYONE = /\/global\/(AllUsers|AuthenticatedUsers)$/;

/** `publicAccessBlock`: read Block Public Access too (only the AWS profile sets it); `website`: the website settings too. */
export async function readBucket(s3: S3Client, bucket: string, { publicAccessBlock = false, website = false } = {}): Promise<BucketState> {
  const exists = await s3.send(new HeadBucketCommand({ Bucket: bucket })).then(
    () => true,
    (error: { $metadata?: { httpStatusCode?: number } }) => {
      if (error.$metadata?.httpStatusCode === 404) return false;
      throw error;
    },
  );
  if (!exists) return { exists, cors: [], lifecycle: [], lifecycleRules: [], policy: null, versioning: 'Off', publicAcl: false, publicAccessBlock: publicAccessBlock ? NO_BLOCK : null };
  const [cors, lifecycle, policy, versioning, acl, block, site] = await Promise.all([
    absentAs(s3.send(new GetBucketCorsCommand({ Bucket: bucket })), { CORSRules: [] }),
    absentAs(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket })), { Rules: [] }),
    absentAs(s3.send(new GetBucketPolicyCommand({ Bucket: bucket })), { Policy: undefined }),
    s3.send(new GetBucketVersioningCommand({ Bucket: bucket })),
    s3.send(new GetBucketAclCommand({ Bucket: bucket })),
    publicAccessBlock ? absentAs(s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket })), { PublicAccessBlockConfiguration: undefined }) : undefined,
    website ? readWebsite(s3, bucket) : undefined,
  ]);
  // No configuration at all is every switch off.
  const switches = block && (block.PublicAccessBlockConfiguration ?? {});
  return {
    exists,
    cors: (cors.CORSRules ?? []).map((rule) => ({
      allowedOrigins: rule.AllowedOrigins ?? [],
      allowedMethods: rule.AllowedMethods ?? [],
      allowedHeaders: rule.AllowedHeaders ?? [],
      exposeHeaders: rule.ExposeHeaders ?? [],
      maxAgeSeconds: rule.MaxAgeSeconds ?? 0,
    })),
    lifecycle: (lifecycle.Rules ?? [])
      .filter((rule) => rule.Status === 'Enabled')
      .map((rule) => ({
        id: rule.ID ?? '',
        prefix: rule.Filter?.Prefix ?? rule.Prefix ?? '',
        ...(rule.Expiration?.Days !== undefined && { expirationDays: rule.Expiration.Days }),
        ...(rule.AbortIncompleteMultipartUpload?.DaysAfterInitiation !== undefined && { abortIncompleteDays: rule.AbortIncompleteMultipartUpload.DaysAfterInitiation }),
        ...(rule.Transitions?.length && { transitions: rule.Transitions.map((transition) => ({ days: transition.Days ?? 0, storageClass: transition.StorageClass ?? '' })) }),
      })),
    lifecycleRules: lifecycle.Rules ?? [],
    policy: policy.Policy ? (JSON.parse(policy.Policy) as PolicyDocument) : null,
    versioning: versioning.Status ?? 'Off',
    publicAcl: (acl.Grants ?? []).some((grant) => ANYONE.test(grant.Grantee?.URI ?? '')),
    publicAccessBlock: switches
      ? {
          blockPublicAcls: switches.BlockPublicAcls ?? false,
          ignorePublicAcls: switches.IgnorePublicAcls ?? false,
          blockPublicPolicy: switches.BlockPublicPolicy ?? false,
          restrictPublicBuckets: switches.RestrictPublicBuckets ?? false,
        }
      : null,
    ...(site !== undefined && { website: site }),
  };
}

/** The setting's answer, or `empty` when the bucket has none (S3 answers 404 NoSuch…). */
async function absentAs<T, E>(answer: Promise<T>, empty: E): Promise<T | E> {
  try {
    return await answer;
  } catch (error) {
    const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    if ($metadata?.httpStatusCode === 404 && name?.startsWith('NoSuch')) return empty;
    throw error;
  }
}
