/**
 * upfront cdn nginx [--listen <port>] [--server-name <name>] [--cache-dir <dir>] [--max-age <seconds>]:
 * prints an nginx configuration (nginx-cdn.ts) that serves the configured public bucket as a caching
 * CDN, reading it with the configured secret (S3_CDN_SECRET) so that the bucket lets only it through.
 */
import { parseArgs } from 'node:util';
import { publicBucketUrl } from '@upfront/server/buckets';
import { DEFAULT_MAX_AGE, nginxCdnConfig } from './nginx-cdn.ts';
import { loadStorageConfig } from './storage-config.ts';
import { UsageError } from './usage.ts';

export function runCdn(args: string[]): number {
  const { values, positionals } = parseArgs({
    args,
    options: { listen: { type: 'string' }, 'server-name': { type: 'string' }, 'cache-dir': { type: 'string' }, 'max-age': { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.join(' ') !== 'nginx') throw new UsageError('usage: upfront cdn nginx [--listen <port>] [--server-name <name>] [--cache-dir <dir>] [--max-age <seconds>]');
  const maxAge = Number(values['max-age'] ?? DEFAULT_MAX_AGE);
  if (!Number.isInteger(maxAge) || maxAge < 1) throw new UsageError(`--max-age is a whole number of seconds (got ${values['max-age']})`);
  const { storage, settings } = loadStorageConfig('cdn nginx');
  if (settings.cdn && 'cloudFrontDistributionArn' in settings.cdn) {
    throw new UsageError('the public bucket admits only CloudFront (S3_CDN_DISTRIBUTION_ARN), which nginx cannot sign as: give nginx a secret (S3_CDN_SECRET) or its addresses (S3_CDN_SOURCE_IPS) instead');
  }
  process.stdout.write(
    nginxCdnConfig({
      origin: publicBucketUrl(storage),
      ...(settings.cdn && 'secret' in settings.cdn && { secret: settings.cdn.secret }),
      listen: values.listen ?? '80',
      serverName: values['server-name'] ?? '_',
      cacheDir: values['cache-dir'] ?? '/var/cache/nginx/upfront',
      maxAge,
    }),
  );
  return 0;
}
