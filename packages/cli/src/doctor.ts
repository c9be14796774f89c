/**
 * upfront doctor [--json]: checks the live storage setup with the API's own credential and the
 * configured origins (see @upfront/server/buckets' diagnose): a line per finding, ok, warn or fail,
 * with its fix. Exit code 1 when anything fails, so CI can run it.
 */
import { parseArgs } from 'node:util';
import { diagnose } from '@upfront/server/buckets';
import { loadStorageConfig } from './storage-config.ts';

export async function runDoctor(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' } }, strict: true });
  const { config, storage, settings, admin } = loadStorageConfig('doctor');
  const storageClasses = [...config.routes.values()].flatMap((route) => route.storageClass ?? []);
  const findings = await diagnose(storage, settings, { storageClasses, ...(admin && { admin }) });
  const failed = findings.some((finding) => finding.status === 'fail');
  if (values.json) console.log(JSON.stringify({ ok: !failed, findings }, null, 2));
  else {
    const width = Math.max(...findings.map((finding) => finding.check.length));
    for (const { status, check, detail, fix } of findings) console.log(`${status.padEnd(4)}  ${check.padEnd(width)}  ${detail}${fix ? `: ${fix}` : ''}`);
    console.log(failed ? 'Something fails: fix it, then run doctor again.' : 'All checks pass.');
  }
  return failed ? 1 : 0;
}
