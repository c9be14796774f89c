/**
 * The S3 driver configuration of the dev Ceph RGW that scripts/rgw/start.sh boots (npm test starts it and
 * exports its S3_* variables). Without them suites fail rather than skip: storage is never optional.
 *
 * Two credentials, as in production: rgwConfig() is the API's, with only the runtime policy `upfront
 * policy` prints (on the three configured buckets); rgwAdminConfig() is the buckets' owner, for what
 * `upfront setup` does and for tests that make buckets of their own or look into storage directly.
 */
import { s3ConfigFromEnv, type S3DriverConfig } from '../../packages/server/src/storage/s3-config.ts';

export function rgwConfig(): S3DriverConfig {
  try {
    return s3ConfigFromEnv(process.env);
  } catch (error) {
    throw new Error(
      `RGW is not running: start it with scripts/rgw/start.sh (npm test does this) (${(error as Error).message})`,
    );
  }
}

/** The configuration with the admin credential (S3_ADMIN_ACCESS_KEY_ID, S3_ADMIN_SECRET_ACCESS_KEY). */
export function rgwAdminConfig(): S3DriverConfig {
  const config = rgwConfig();
  const { S3_ADMIN_ACCESS_KEY_ID: accessKeyId, S3_ADMIN_SECRET_ACCESS_KEY: secretAccessKey } = process.env;
  if (!accessKeyId || !secretAccessKey) {
    throw new Error('S3_ADMIN_ACCESS_KEY_ID and S3_ADMIN_SECRET_ACCESS_KEY are not set: start RGW with scripts/rgw/start.sh (npm test does this)');
  }
  return { ...config, accessKeyId, secretAccessKey };
}

/**
 * The S3_* variables of an API on a test's own buckets: the owner's credential, as the API user's policy
 * names the three configured buckets only.
 */
export function ownBucketsEnv(buckets: { staging: string; public: string; private: string }): Record<string, string> {
  const { accessKeyId, secretAccessKey } = rgwAdminConfig();
  return {
    S3_BUCKET_STAGING: buckets.staging,
    S3_BUCKET_PUBLIC: buckets.public,
    S3_BUCKET_PRIVATE: buckets.private,
    S3_ACCESS_KEY_ID: accessKeyId,
    S3_SECRET_ACCESS_KEY: secretAccessKey,
  };
}

/** The API's RGW user (RGW_API_USER) and its principal in policies. */
export function rgwApiUser(): { uid: string; principal: string } {
  const uid = process.env.RGW_API_USER;
  if (!uid) throw new Error('RGW_API_USER is not set: start RGW with scripts/rgw/start.sh (npm test does this)');
  return { uid, principal: `arn:aws:iam:::user/${uid}` };
}
