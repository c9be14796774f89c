/**
 * Doctor's check of the CDN in front of the public bucket (S3_PUBLIC_BASE_URL): a probe written into
 * public is served at its public URL, the one the API hands out, with the same bytes. (That the bucket
 * itself refuses direct reads when only the CDN may read is doctor's anonymous-read check.)
 */
import { randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { S3DriverConfig } from '../storage/s3-config.ts';
import { createS3Driver } from '../storage/s3-driver.ts';
import { browserGet } from './browser-get.ts';
import type { Found } from './doctor.ts';
import { putProbe } from './probe.ts';
import type { BucketSettings } from './spec.ts';

export async function checkCdn(config: S3DriverConfig, settings: BucketSettings, s3: S3Client, found: Found): Promise<void> {
  if (!config.publicBaseUrl) {
    if (settings.cdn) found('cdn', 'fail', 'public files are readable through the CDN only, but no CDN URL is set: file URLs point at the bucket, which refuses them', "set S3_PUBLIC_BASE_URL to the CDN's URL");
    return;
  }
  const body = `upfront doctor probe ${randomUUID()}`;
  const probe = await putProbe(s3, config.buckets.public, { key: `upfront-doctor/${randomUUID()}.txt`, body });
  try {
    const url = createS3Driver(config).publicUrl(probe.key);
    const fix = `check that the CDN's origin is the public bucket${settings.cdn && 'secret' in settings.cdn ? ' and that it sends the secret as Referer' : ''} (\`upfront cdn nginx\` prints a working nginx configuration)`;
    let answer;
    try {
      answer = await browserGet(url);
    } catch (error) {
      found('cdn', 'fail', `the CDN does not answer at ${url} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, 'check S3_PUBLIC_BASE_URL, and that the CDN is running');
      return;
    }
    const same = answer.status === 200 && answer.body.toString() === body;
    found('cdn', same ? 'ok' : 'fail', same ? `${config.publicBaseUrl} serves public files` : `a public file read through ${url} answered ${answer.status}${answer.status === 200 ? ' with other bytes' : ''}`, fix);
  } finally {
    await probe.remove();
  }
}
