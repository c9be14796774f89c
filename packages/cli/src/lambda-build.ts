/**
 * upfront lambda build [--out dir]: the configuration (upfront.config.json and the environment, as for
 * `upfront serve`) as an AWS Lambda deployment: upfront-lambda.zip (index.mjs exporting `handler`, the
 * config file, and sharp's packages when a route runs the image processor) and template.json, an AWS
 * SAM template of the function, its role, the buckets and the events (@upfront/server/buckets'
 * samTemplate). The function's environment is this one's Upfront variables, without the credentials
 * (the function signs with its role's) and with the secrets as parameters `sam deploy` asks for.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { zipSync } from 'fflate';
import { samTemplate } from '@upfront/server/buckets';
import { lambdaEnv } from '@upfront/server/lambda';
import { bucketSettings } from './storage-config.ts';
import { bundleLambda } from './lambda-bundle.ts';
import { loadCommandConfig } from './load-config.ts';
import { UsageError } from './usage.ts';

export const ZIP_NAME = 'upfront-lambda.zip';
export const TEMPLATE_NAME = 'template.json';

/** Variables of the function's environment, as named in this one. */
const UPFRONT_VARIABLE = /^(S3_|AUTH_|CORS_ORIGINS$|UPFRONT_ROUTE_|UPFRONT_DOWNLOAD_EXPIRES_IN$|UPFRONT_MODE$|LOG_LEVEL$|QUOTA_|RATE_LIMIT_|SWEEP_|WEBHOOK_|DATABASE_POOL_SIZE$)/;
/** Not passed on: the role signs storage requests, setup's admin has no business there. */
const LEFT_OUT = /^(S3_ACCESS_KEY_ID|S3_SECRET_ACCESS_KEY|S3_SESSION_TOKEN|S3_ADMIN_.*)$/;
const SECRET = /SECRET|PASSWORD|TOKEN|_KEY$/;

export async function runLambda(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command !== 'build') throw new UsageError('the lambda command is: upfront lambda build [--out <dir>]');
  const { values } = parseArgs({ args: rest, options: { out: { type: 'string' } }, strict: true });
  // Read as the function reads it (lambda-env.ts), where the role's credentials sign: none are needed here.
  const config = loadCommandConfig({ mode: 'production', env: lambdaEnv({ S3_ACCESS_KEY_ID: 'execution-role', S3_SECRET_ACCESS_KEY: 'execution-role', ...process.env }) });
  if (config.storage.driver !== 's3') throw new UsageError('on Lambda files go to S3: set STORAGE_DRIVER=s3 and the S3_* variables (the disk driver needs a disk that lasts)');
  if (!/^postgres(ql)?:/i.test(config.databaseUrl)) throw new UsageError('on Lambda the metadata store is PostgreSQL: set DATABASE_URL=postgres://… (SQLite needs a disk that lasts)');
  const out = resolve(values.out ?? 'lambda');
  mkdirSync(out, { recursive: true });

  const bundle = await bundleLambda(config);
  const configFile = process.env.UPFRONT_CONFIG ?? (existsSync('upfront.config.json') ? 'upfront.config.json' : undefined);
  const zip = zipSync(
    {
      ...bundle.code,
      // Where loadConfig looks on Lambda: the function's directory is its working directory.
      ...(configFile && { 'upfront.config.json': readFileSync(configFile) }),
      ...bundle.packages,
    },
    { level: 9 },
  );
  writeFileSync(join(out, ZIP_NAME), zip);

  const passed = Object.entries(process.env).filter((entry): entry is [string, string] => UPFRONT_VARIABLE.test(entry[0]) && !LEFT_OUT.test(entry[0]) && entry[1] !== undefined && entry[1] !== '');
  const secrets = passed.filter(([name]) => SECRET.test(name)).map(([name]) => name);
  const template = samTemplate({
    storage: config.storage,
    settings: bucketSettings(config),
    routes: [...config.routes.values()],
    codeUri: ZIP_NAME,
    environment: Object.fromEntries(passed.filter(([name]) => !SECRET.test(name))),
    secrets,
    sweepSeconds: config.sweeper.intervalSeconds,
  });
  const templateJson = `${JSON.stringify(template, null, 2)}\n`;
  writeFileSync(join(out, TEMPLATE_NAME), templateJson);

  const where = relative(process.cwd(), out) || '.';
  const sharp = Object.keys(bundle.packages).length > 0 ? ', sharp for linux-x64 in node_modules/' : '';
  const chunks = Object.entries(bundle.code).filter(([name]) => name !== 'index.mjs');
  const chunkBytes = chunks.reduce((sum, [, bytes]) => sum + bytes.byteLength, 0);
  console.log(
    `Wrote ${join(where, ZIP_NAME)} (${size(zip.byteLength)}: index.mjs ${size(bundle.code['index.mjs']!.byteLength)}, ` +
      `${chunks.length} chunks loaded on first use ${size(chunkBytes)}${configFile ? ', upfront.config.json' : ''}${sharp})`,
  );
  console.log(`Wrote ${join(where, TEMPLATE_NAME)} (${size(Buffer.byteLength(templateJson))}: the function (and its sweeping twin) with its role, ${config.storage.buckets.staging}, ${config.storage.buckets.public}, ${config.storage.buckets.private}, an HTTP API, staging's object-created events${config.sweeper.intervalSeconds > 0 ? `, a sweep every ${Math.max(1, Math.round(config.sweeper.intervalSeconds / 60))} min` : ''})`);
  console.log(`Next: cd ${where} && sam deploy --guided   (it asks for DATABASE_URL${secrets.map((name) => `, ${name}`).join('')})`);
  return 0;
}

function size(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} KB`;
}
