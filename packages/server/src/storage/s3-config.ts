/**
 * The s3 driver's settings and how they are read from the environment. Apart from the driver
 * itself, so that reading a configuration never loads the AWS SDK.
 */
import { isProvider, profileOf, PROVIDERS, type Provider } from './providers.ts';

export interface S3DriverConfig {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** The store, when configured (providers.ts): what Upfront signs and provisions follows its profile. */
  provider?: Provider;
  /** Default: the provider's (true for MinIO, else false). */
  forcePathStyle: boolean;
  buckets: { staging: string; public: string; private: string };
  /** CDN or other base URL of public objects; default: the public bucket's URL on `endpoint`. */
  publicBaseUrl?: string;
  /**
   * `aws-sdk` exists only for the benchmark's reference server: the SDK's presigners can only be
   * awaited, so with it the presign methods return promises (callers must `await` them).
   */
  presigner?: 'upfront' | 'aws-sdk';
  /**
   * Bytes; a copy of a larger object (when its size is given) goes part by part (UploadPartCopy), as
   * one CopyObject copies at most 5 GiB. Default DEFAULT_PART_COPY_THRESHOLD; lowered only in tests.
   */
  partCopyThreshold?: number;
}

/** S3's limit for one CopyObject. */
export const DEFAULT_PART_COPY_THRESHOLD = 5 * 1024 ** 3;

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
 * S3_BUCKET_PUBLIC, S3_BUCKET_PRIVATE (required) and S3_SESSION_TOKEN, S3_PROVIDER (default: detected),
 * S3_FORCE_PATH_STYLE (default: the provider's), S3_PUBLIC_BASE_URL and S3_PART_COPY_THRESHOLD (optional).
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
  const provider = env.S3_PROVIDER?.trim().toLowerCase() || undefined;
  if (provider !== undefined && !isProvider(provider)) {
    throw new Error(`S3_PROVIDER ("provider" in the config file) is one of ${PROVIDERS.join(', ')} (got ${JSON.stringify(env.S3_PROVIDER)})`);
  }
  return {
    endpoint: value('S3_ENDPOINT'),
    region: value('S3_REGION'),
    accessKeyId: value('S3_ACCESS_KEY_ID'),
    secretAccessKey: value('S3_SECRET_ACCESS_KEY'),
    ...(env.S3_SESSION_TOKEN && { sessionToken: env.S3_SESSION_TOKEN }),
    ...(provider && { provider }),
    forcePathStyle: pathStyle === '' ? profileOf({ endpoint: value('S3_ENDPOINT'), ...(provider && { provider }) }).pathStyle : pathStyle === 'true' || pathStyle === '1',
    buckets: { staging: value('S3_BUCKET_STAGING'), public: value('S3_BUCKET_PUBLIC'), private: value('S3_BUCKET_PRIVATE') },
    ...(env.S3_PUBLIC_BASE_URL && { publicBaseUrl: env.S3_PUBLIC_BASE_URL }),
    ...(env.S3_PART_COPY_THRESHOLD && { partCopyThreshold: parseBytes(env.S3_PART_COPY_THRESHOLD, 'S3_PART_COPY_THRESHOLD') }),
  };
}

const UNITS = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 } as const;

/** `5GB`, `512MB` or a number of bytes; binary units, as config.ts's sizes (which imports this file, hence not shared). */
function parseBytes(value: string, name: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB)?\s*$/i.exec(value);
  const bytes = match ? Math.floor(Number(match[1]) * UNITS[(match[2] ?? 'B').toUpperCase() as keyof typeof UNITS]) : Number.NaN;
  if (!(bytes > 0 && Number.isSafeInteger(bytes))) throw new Error(`${name} must be a size like 5GB or a number of bytes (got ${JSON.stringify(value)})`);
  return bytes;
}
