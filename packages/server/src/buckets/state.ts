/** What a bucket looks like now, read with the S3 API (each setting that is absent reads as empty). */
import {
  GetBucketAclCommand,
  GetBucketCorsCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketPolicyCommand,
  GetBucketVersioningCommand,
  HeadBucketCommand,
  type LifecycleRule as S3LifecycleRule,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { CorsRule, LifecycleRule, PolicyDocument } from './spec.ts';

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
}

const ANYONE = /\/global\/(AllUsers|AuthenticatedUsers)$/;

export async function readBucket(s3: S3Client, bucket: string): Promise<BucketState> {
  const exists = await s3.send(new HeadBucketCommand({ Bucket: bucket })).then(
    () => true,
    (error: { $metadata?: { httpStatusCode?: number } }) => {
      if (error.$metadata?.httpStatusCode === 404) return false;
      throw error;
    },
  );
  if (!exists) return { exists, cors: [], lifecycle: [], lifecycleRules: [], policy: null, versioning: 'Off', publicAcl: false };
  const [cors, lifecycle, policy, versioning, acl] = await Promise.all([
    absentAs(s3.send(new GetBucketCorsCommand({ Bucket: bucket })), { CORSRules: [] }),
    absentAs(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket })), { Rules: [] }),
    absentAs(s3.send(new GetBucketPolicyCommand({ Bucket: bucket })), { Policy: undefined }),
    s3.send(new GetBucketVersioningCommand({ Bucket: bucket })),
    s3.send(new GetBucketAclCommand({ Bucket: bucket })),
  ]);
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
