/**
 * upfront doctor [--json]: checks the live storage setup with the API's own credential and the
 * configured origins (see @upfront/server/buckets' diagnose): a line per finding, ok, warn or fail,
 * with its fix. Exit code 1 when anything fails, so CI can run it.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '@upfront/server';
import { diagnose } from '@upfront/server/buckets';
import { adminCredential } from './setup.ts';
import { UsageError } from './usage.ts';

export async function runDoctor(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' } }, strict: true });
  // The mode only decides how users sign in, which doctor does not need.
  const config = loadConfig({ mode: 'dev' });
  if (config.storage.driver !== 's3') throw new UsageError('doctor checks S3-compatible storage: set STORAGE_DRIVER=s3 and the S3_* variables');
  const admin = adminCredential();
  const storageClasses = [...config.routes.values()].flatMap((route) => route.storageClass ?? []);
  const findings = await diagnose(config.storage, { origins: config.corsOrigins, ...config.buckets }, { storageClasses, ...(admin && { admin }) });
  const failed = findings.some((finding) => finding.status === 'fail');
  if (values.json) console.log(JSON.stringify({ ok: !failed, findings }, null, 2));
  else {
    const width = Math.max(...findings.map((finding) => finding.check.length));
    for (const { status, check, detail, fix } of findings) console.log(`${status.padEnd(4)}  ${check.padEnd(width)}  ${detail}${fix ? `: ${fix}` : ''}`);
    console.log(failed ? 'Something fails: fix it, then run doctor again.' : 'All checks pass.');
  }
  return failed ? 1 : 0;
}
