/**
 * The environment Upfront's configuration is read from on Lambda: the function's own, with the S3
 * settings Lambda already gives filled in where they are not set. The execution role's credentials
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) sign the API's storage requests, and
 * the function's region (AWS_REGION) names S3's endpoint there.
 */
type Env = Record<string, string | undefined>;

export function lambdaEnv(env: Env): Env {
  const filled: Env = { ...env, STORAGE_DRIVER: env.STORAGE_DRIVER || 's3' };
  if (!env.S3_ACCESS_KEY_ID && env.AWS_ACCESS_KEY_ID) {
    filled.S3_ACCESS_KEY_ID = env.AWS_ACCESS_KEY_ID;
    filled.S3_SECRET_ACCESS_KEY = env.AWS_SECRET_ACCESS_KEY;
    filled.S3_SESSION_TOKEN = env.AWS_SESSION_TOKEN;
  }
  filled.S3_REGION ||= env.AWS_REGION;
  if (!env.S3_ENDPOINT && filled.S3_REGION) {
    filled.S3_ENDPOINT = `https://s3.${filled.S3_REGION}.amazonaws.com`;
    filled.S3_PROVIDER ||= 'aws';
  }
  return filled;
}
