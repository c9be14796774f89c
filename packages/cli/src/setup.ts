/**
 * upfront setup [--dry-run] [--json]: provisions the S3 buckets the configuration describes (the same
 * upfront.config.json and S3_* environment as `upfront serve`): prints the plan, applies it, and says
 * when there is nothing to change. S3_ADMIN_ACCESS_KEY_ID / S3_ADMIN_SECRET_ACCESS_KEY, when set, are
 * used instead of the API's credential, so that one can stay least-privilege.
 */
import { parseArgs } from 'node:util';
import { setupBuckets, SetupError, type Change, type SetupResult } from '@upfront/server/buckets';
import { loadStorageConfig } from './storage-config.ts';

export async function runSetup(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } }, strict: true });
  const { storage, settings, admin } = loadStorageConfig('setup');
  let result: SetupResult;
  try {
    result = await setupBuckets(storage, settings, {
      dryRun: values['dry-run'],
      ...(admin && { admin }),
    });
  } catch (error) {
    if (!(error instanceof SetupError)) throw error;
    if (values.json) console.log(JSON.stringify({ error: error.message, done: error.done, failed: error.change }, null, 2));
    else {
      if (error.done.length > 0) console.log(`Made ${count(error.done.length)} before:\n${describe(error.done)}`);
      console.error(`upfront setup: ${error.message}`);
    }
    return 1;
  }
  if (values.json) {
    console.log(JSON.stringify(result, null, 2));
    return 0;
  }
  for (const warning of result.warnings) console.log(`warning: ${warning}`);
  if (result.changes.length === 0) {
    console.log(`Nothing to change: the buckets on ${result.endpoint} match the configuration.`);
    return 0;
  }
  console.log(`Plan for ${result.endpoint}:\n${describe(result.changes)}`);
  console.log(result.applied ? `Applied ${count(result.changes.length)}.` : `Dry run: ${count(result.changes.length)} planned, none made.`);
  return 0;
}

const count = (n: number) => (n === 1 ? '1 change' : `${n} changes`);

/** The changes, grouped by bucket. */
function describe(changes: Change[]): string {
  const lines: string[] = [];
  let bucket: string | undefined;
  for (const change of changes) {
    if (change.bucket !== bucket) lines.push(`  ${(bucket = change.bucket)} (${change.role})`);
    lines.push(`    ${change.setting === 'bucket' ? '+' : '~'} ${change.summary}`);
  }
  return lines.join('\n');
}
