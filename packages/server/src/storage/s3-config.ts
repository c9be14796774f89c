/**
 * The s3 driver's settings and how they are read from the environment. Apart from the driver
 * itself, so that reading a configuration never loads the AWS SDK.
 */
export interface S3DriverConfig {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  forcePathStyle: boolean;
  buckets: { staging: string; public: string; private: string };
  /** CDN or other base URL of public objects; default: the public bucket's URL on `endpoint`. */
  publicBaseUrl?: string;
  /**
   * `aws-sdk` exists only for the benchmark's reference server: the SDK's presigners can only be
   * awaited, so with it the presign methods return promises (callers must `await` them).
   */
  presigner?: 'upfront' | 'aws-sdk';
}

const REQUIRED_ENV = [
  'S3_ENDPOINT',
  'S3_REGION',
  'S3_ACCESS_KEY_ID',
  'S3_SECRET_ACCESS_KEY',
  'S3_BUCKET_STAGING',
  'S3_BUCKET_PUBLIC',
  'S3_BUCKET_PRIVATE',
] as const;

/**
 * Reads S3_ENDPOINT, S3_REGION, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, S3_BUCKET_STAGING,
 * S3_BUCKET_PUBLIC, S3_BUCKET_PRIVATE (required) and S3_SESSION_TOKEN, S3_FORCE_PATH_STYLE (default
 * false), S3_PUBLIC_BASE_URL (optional).
 */
export function s3ConfigFromEnv(env: Record<string, string | undefined>): S3DriverConfig {
  const missing = REQUIRED_ENV.filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new Error(`the s3 storage driver needs ${missing.join(', ')} (missing or empty)`);
  }
  const value = (name: (typeof REQUIRED_ENV)[number]): string => env[name]!;
  for (const name of ['S3_ENDPOINT', 'S3_PUBLIC_BASE_URL'] as const) {
    const url = env[name];
    if (url && !URL.canParse(url)) throw new Error(`${name} must be an absolute URL (got ${JSON.stringify(url)})`);
  }
  const pathStyle = (env.S3_FORCE_PATH_STYLE ?? '').trim().toLowerCase();
  if (!['', 'true', 'false', '1', '0'].includes(pathStyle)) {
    throw new Error(`S3_FORCE_PATH_STYLE is "true" or "false" (got ${JSON.stringify(env.S3_FORCE_PATH_STYLE)})`);
  }
  return {
    endpoint: value('S3_ENDPOINT'),
    region: value('S3_REGION'),
    accessKeyId: value('S3_ACCESS_KEY_ID'),
    secretAccessKey: value('S3_SECRET_ACCESS_KEY'),
    ...(env.S3_SESSION_TOKEN && { sessionToken: env.S3_SESSION_TOKEN }),
    forcePathStyle: pathStyle === 'true' || pathStyle === '1',
    buckets: { staging: value('S3_BUCKET_STAGING'), public: value('S3_BUCKET_PUBLIC'), private: value('S3_BUCKET_PRIVATE') },
    ...(env.S3_PUBLIC_BASE_URL && { publicBaseUrl: env.S3_PUBLIC_BASE_URL }),
  };
}
