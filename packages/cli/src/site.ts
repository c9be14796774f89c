/**
 * upfront site deploy [dir] [--api <url>] [--oidc-issuer <url> --oidc-client-id <id>] [--json]: uploads
 * a built front end (default: the demo app this package ships) into the website bucket the configuration names (`"buckets": {"site": …}` or
 * S3_BUCKET_SITE and S3_SITE_URL), and prints each file with its type and caching, and the site's URL.
 * Uses S3_ADMIN_ACCESS_KEY_ID / S3_ADMIN_SECRET_ACCESS_KEY when set, like setup.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { deploySite, DeployError, type DeployResult } from '@upfront/server/buckets';
import { loadStorageConfig } from './storage-config.ts';
import { UsageError } from './usage.ts';

// The demo web page, copied into the package by the build (scripts/build.sh), as `upfront dev` serves it.
const demoApp = fileURLToPath(new URL('./web/', import.meta.url));

export async function runSite(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { api: { type: 'string' }, 'oidc-issuer': { type: 'string' }, 'oidc-client-id': { type: 'string' }, json: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  const [action, dir = demoApp, ...rest] = positionals;
  if (action !== 'deploy' || rest.length > 0) throw new UsageError('usage: upfront site deploy [dir] [--api <url>] [--oidc-issuer <url> --oidc-client-id <id>] [--json]');
  if (values.api !== undefined && !/^https?:\/\/[^/]/.test(values.api)) throw new UsageError(`--api is the Upfront API's URL, like https://api.example.com (got ${JSON.stringify(values.api)})`);
  const { 'oidc-issuer': issuer, 'oidc-client-id': clientId } = values;
  if ((issuer === undefined) !== (clientId === undefined)) throw new UsageError('--oidc-issuer and --oidc-client-id go together: the provider\'s URL and this site\'s client id there');
  if (issuer !== undefined && !/^https?:\/\/[^/]/.test(issuer)) throw new UsageError(`--oidc-issuer is the OpenID Connect provider's URL, like https://login.example.com (got ${JSON.stringify(issuer)})`);
  if (dir === demoApp && !existsSync(demoApp)) throw new UsageError(`the demo app is not built (${demoApp}): run scripts/build.sh, or name the directory to deploy`);
  const { storage, settings, admin } = loadStorageConfig('site deploy');
  if (!settings.site) throw new UsageError('no site bucket is configured: set S3_BUCKET_SITE and S3_SITE_URL (or "buckets": {"site": {…}} in upfront.config.json), then run `upfront setup`');
  let result: DeployResult;
  try {
    result = await deploySite(storage, settings.site, dir, {
      ...(values.api !== undefined && { api: values.api }),
      ...(issuer !== undefined && clientId !== undefined && { oidc: { issuer, clientId } }),
      ...(admin && { admin }),
    });
  } catch (error) {
    if (!(error instanceof DeployError)) throw error;
    console.error(`upfront site deploy: ${error.message}`);
    return 1;
  }
  if (values.json) {
    console.log(JSON.stringify(result, null, 2));
    return 0;
  }
  for (const warning of result.warnings) console.log(`warning: ${warning}`);
  const width = (pick: (file: DeployResult['files'][number]) => string) => Math.max(...result.files.map((file) => pick(file).length));
  const [keyWidth, typeWidth, cacheWidth] = [width((file) => file.key), width((file) => file.contentType), width((file) => file.cacheControl)];
  console.log(`Deployed ${dir === demoApp ? 'the demo app' : dir} to ${result.bucket}:`);
  for (const file of result.files) {
    console.log(`  ${file.key.padEnd(keyWidth)}  ${file.contentType.padEnd(typeWidth)}  ${file.cacheControl.padEnd(cacheWidth)}  ${size(file.size).padStart(8)}`);
  }
  const total = result.files.reduce((sum, file) => sum + file.size, 0);
  const removed = result.removed.length > 0 ? `; removed ${result.removed.length === 1 ? '1 file' : `${result.removed.length} files`} the last deploy left (${result.removed.join(', ')})` : '';
  console.log(`${result.files.length === 1 ? '1 file' : `${result.files.length} files`}, ${size(total)}${removed}.`);
  console.log(`The site: ${result.url}`);
  return 0;
}

const size = (bytes: number) => (bytes < 1024 ? `${bytes} B` : bytes < 1024 ** 2 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1024 ** 2).toFixed(1)} MB`);
