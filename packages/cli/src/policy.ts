/**
 * upfront policy [--json] [--admin]: prints the IAM policies of the configuration (the same
 * upfront.config.json and S3_* environment as `upfront serve`): the API's runtime credential's, exactly
 * what the API does on its buckets and its routes' keys, and the admin credential's, what `upfront
 * setup` and `upfront doctor` need. --json prints one document alone, ready for PutUserPolicy.
 */
import { parseArgs } from 'node:util';
import { adminPolicy, runtimePolicy, type IamPolicy } from '@upfront/server/buckets';
import { loadStorageConfig } from './storage-config.ts';

export function runPolicy(args: string[]): number {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' }, admin: { type: 'boolean' } }, strict: true });
  const { config, storage, settings } = loadStorageConfig('policy');
  const runtime = runtimePolicy(storage, config.routes.values());
  const admin = adminPolicy(storage, settings.site?.bucket);
  if (values.json) {
    console.log(json(values.admin ? admin : runtime));
    return 0;
  }
  if (!values.admin) {
    console.log(`# The API's credential (S3_ACCESS_KEY_ID): policy "upfront-runtime"\n${json(runtime)}\n`);
    console.log(settings.apiPrincipal
      ? `# "buckets": "apiPrincipal" is ${settings.apiPrincipal}: \`upfront setup\` grants it the same in each bucket's policy.\n`
      : '# On Ceph RGW also set "buckets": {"apiPrincipal": "arn:aws:iam:::user/<uid>"}: setup then grants the same in each\n# bucket\'s policy, which RGW needs for POST form uploads (it checks them against the bucket policy alone).\n');
  }
  console.log(`# The admin credential of setup and doctor (S3_ADMIN_ACCESS_KEY_ID): policy "upfront-admin"\n${json(admin)}\n`);
  console.log(ATTACH);
  return 0;
}

const json = (policy: IamPolicy) => JSON.stringify(policy, null, 2);

const ATTACH = `# Attach each to its own user (save one with: upfront policy --json [--admin] > policy.json):
#   Ceph RGW: IAM PutUserPolicy on the RGW endpoint, as a user with the user-policy=* capability:
#     aws iam put-user-policy --endpoint-url "$S3_ENDPOINT" --user-name <uid> --policy-name upfront-runtime --policy-document file://policy.json
#     and radosgw-admin user modify --uid <uid> --max-buckets=-1 (RGW lets any user create buckets otherwise)
#   AWS: aws iam put-user-policy (or put-role-policy for a role) with the same document.`;
