/**
 * `upfront doctor`: checks the live setup the way the API and browsers will use it, with the API's own
 * credential: the endpoint answers, the clocks agree, the credential works, the buckets are configured
 * (setup's plan: anything it would change is a finding), each origin's CORS preflight passes for every
 * method the clients send and ETag is exposed, a presigned PUT and a POST policy upload round-trip,
 * anonymous reads reach public files and nothing else (no bucket can be listed anonymously; with a CDN,
 * only the CDN reads public files, and serves them), the website endpoint serves the site, and the
 * storage classes routes and transitions name exist. Each finding is ok, warn or fail, with the fix.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { applyProvider, type ProviderProfile } from '../storage/providers.ts';
import type { S3DriverConfig } from '../storage/s3-config.ts';
import { createS3Client, createS3Driver } from '../storage/s3-driver.ts';
import { objectUrl } from '../storage/sigv4.ts';
import { checkCdn } from './cdn-check.ts';
import { checkListing } from './listing-check.ts';
import { DOCTOR_PREFIX, putProbe } from './probe.ts';
import { providerFindings } from './provider-check.ts';
import { setupBuckets, SetupError, type SetupOptions } from './setup.ts';
import type { BucketSettings } from './spec.ts';
import { missingStorageClass } from './storage-class.ts';
import { checkWebsite } from './website-check.ts';

export type Status = 'ok' | 'warn' | 'fail';

export interface Finding {
  check: string;
  status: Status;
  detail: string;
  /** What to do about a warn or fail. */
  fix?: string;
}

export const SETUP = 'run `upfront setup`';
/** Clock difference that is worth a warning, and the one past which storage refuses signatures (SigV4: 15 min). */
const SKEW_WARN = 60_000;
const SKEW_FAIL = 15 * 60_000;

export interface DiagnoseOptions extends Pick<SetupOptions, 'admin'> {
  /** Storage classes routes promote into (`storageClass`); the transitions' classes are checked too. */
  storageClasses?: string[];
}

export async function diagnose(config: S3DriverConfig, settings: BucketSettings, options: DiagnoseOptions = {}): Promise<Finding[]> {
  const findings: Finding[] = [];
  const found = (check: string, status: Status, detail: string, fix?: string) => findings.push({ check, status, detail, ...(fix && status !== 'ok' && { fix }) });

  let answer: Response;
  try {
    answer = await fetch(config.endpoint, { signal: AbortSignal.timeout(5000) });
    await answer.arrayBuffer();
  } catch (error) {
    found('endpoint', 'fail', `${config.endpoint} does not answer (${(error as Error).cause ?? (error as Error).message})`, 'check S3_ENDPOINT, and that the store is running and reachable from here');
    return findings;
  }
  found('endpoint', 'ok', `${config.endpoint} answers`);
  // The profile doctor checks against: configured, else detected from the endpoint or this answer.
  const provider = applyProvider(config, answer.headers);
  findings.push(...providerFindings(config, answer.headers, settings));
  const skew = Date.parse(answer.headers.get('date') ?? '') - Date.now();
  if (Number.isNaN(skew)) found('clock', 'warn', 'the store sent no Date header: its clock cannot be compared', 'none needed unless signatures are refused as expired');
  else {
    const status = Math.abs(skew) > SKEW_FAIL ? 'fail' : Math.abs(skew) > SKEW_WARN ? 'warn' : 'ok';
    found('clock', status, `the store's clock is ${Math.round(Math.abs(skew) / 1000)} s ${skew >= 0 ? 'ahead of' : 'behind'} this machine's`, 'sync the clocks (NTP): storage refuses signatures more than 15 minutes off');
  }

  const s3 = createS3Client(config);
  // Probe objects test what the buckets do, not what the API may: the admin writes them when given (the
  // API's least-privilege credential may not remove a version, nor write outside its routes' keys).
  const probes = options.admin ? createS3Client({ ...config, ...options.admin, sessionToken: undefined }) : s3;
  try {
    // A GET of a key nobody writes: storage checks the signature first, and then answers NoSuchKey, or
    // AccessDenied to a credential without s3:ListBucket (the API's has none; a HEAD of the bucket needs it).
    const refused = await s3.send(new GetObjectCommand({ Bucket: config.buckets.staging, Key: `${DOCTOR_PREFIX}credential-check` })).then(
      async (answer) => void (await answer.Body?.transformToByteArray()),
      (error: { name?: string; $metadata?: { httpStatusCode?: number } }) =>
        ['NoSuchKey', 'AccessDenied', 'NoSuchBucket'].includes(error.name ?? '') ? undefined : (error.$metadata?.httpStatusCode ?? 0),
    );
    if (refused === 403) {
      found('credentials', 'fail', 'storage refuses the API\'s credential', 'check S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, and that they may use the staging bucket');
      return findings;
    }
    // NoSuchBucket: signed right, and the staging bucket is missing (the bucket checks below say so).
    if (refused !== undefined) {
      found('credentials', 'fail', `storage could not check the credential: it answered ${refused || 'nothing'} to a GET in the staging bucket`, 'check the store\'s health, then run doctor again');
      return findings;
    }
    found('credentials', 'ok', 'the API\'s credential is accepted');

    try {
      const { changes } = await setupBuckets(config, settings, { ...(options.admin && { admin: options.admin }), provider, dryRun: true });
      for (const change of changes) found(`${change.role} ${change.setting}`, 'fail', `${change.bucket} needs: ${change.summary}`, SETUP);
      if (changes.length === 0) found('buckets', 'ok', `the ${settings.site ? 'four' : 'three'} buckets exist and match the configuration`);
      if (changes.some((change) => change.setting === 'bucket')) return findings;
    } catch (error) {
      if (!(error instanceof SetupError)) throw error;
      found('buckets', 'warn', `the bucket settings could not be read: ${error.message}`, 'run doctor with S3_ADMIN_ACCESS_KEY_ID/S3_ADMIN_SECRET_ACCESS_KEY set, or grant reading them');
    }

    for (const origin of settings.origins) await checkCors(config, origin, found);
    await roundTrips(config, settings, provider.profile, probes, found);
    if (settings.routes) await checkListing(s3, config, settings.routes, found);
    if (settings.site) await checkWebsite(settings.site, found);
    await checkCdn(config, settings, probes, found);
    const classes = new Set([...(options.storageClasses ?? []), ...settings.transitions.map((transition) => transition.storageClass)]);
    for (const storageClass of classes) {
      const missing = await missingStorageClass(probes, config.buckets.private, storageClass);
      if (missing) found(`storage class ${storageClass}`, 'fail', `the store has no storage class ${storageClass} (${missing}): files meant for it cannot be promoted or moved`, 'define it in the store, or fix the name in upfront.config.json');
      else found(`storage class ${storageClass}`, 'ok', `the store has the storage class ${storageClass}`);
    }
  } finally {
    s3.destroy();
    if (probes !== s3) probes.destroy();
  }
  return findings;
}

export type Found = (check: string, status: Status, detail: string, fix?: string) => void;

/** A concrete origin for a pattern: `http://localhost:*` is tried as port 3000. */
const sampleOrigin = (origin: string) => origin.replace('*', origin.endsWith(':*') ? '3000' : 'app');

async function checkCors(config: S3DriverConfig, pattern: string, found: Found): Promise<void> {
  const origin = sampleOrigin(pattern);
  const refused: string[] = [];
  for (const [method, headers] of [['PUT', 'content-type,content-md5'], ['POST', ''], ['GET', ''], ['HEAD', ''], ['DELETE', '']] as const) {
    const answer = await fetch(urlOf(config, config.buckets.staging, 'upfront-doctor-probe'), {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': method, ...(headers && { 'access-control-request-headers': headers }) },
    });
    await answer.arrayBuffer();
    if (answer.status >= 300 || answer.headers.get('access-control-allow-origin') === null) refused.push(`${method} (${answer.status})`);
  }
  if (refused.length > 0) found(`cors ${pattern}`, 'fail', `staging refuses preflights from ${origin} for ${refused.join(', ')}: browsers there cannot upload`, SETUP);
  else found(`cors ${pattern}`, 'ok', `preflights from ${origin} pass for PUT, POST, GET, HEAD, DELETE`);
}

/** A URL of an object as anyone reaches it (the key '' is the bucket itself, for a listing). */
const urlOf = ({ endpoint, forcePathStyle }: S3DriverConfig, bucket: string, key: string) => objectUrl(endpoint, bucket, key, forcePathStyle);

/** Writes probe objects the way uploads are written, reads them the way anyone could, and removes them. */
async function roundTrips(config: S3DriverConfig, settings: BucketSettings, profile: Readonly<ProviderProfile>, probes: S3Client, found: Found): Promise<void> {
  const driver = createS3Driver(config);
  const key = `${DOCTOR_PREFIX}${randomUUID()}.txt`;
  const body = 'upfront doctor probe';
  const origin = settings.origins[0] && sampleOrigin(settings.origins[0]);

  const put = await driver.presignPut({ key, contentType: 'text/plain', contentLength: body.length, expiresIn: 60 });
  const sent = await fetch(put.url, { method: 'PUT', headers: { ...put.headers, ...(origin && { origin }) }, body });
  const sentText = await sent.text();
  if (!sent.ok) found('presigned PUT', 'fail', `storage refused a presigned PUT: ${sent.status} ${sentText.slice(0, 200)}`, 'check the credential may s3:PutObject into staging, and the clock');
  else {
    const stored = await driver.head('staging', key);
    found('presigned PUT', stored?.size === body.length ? 'ok' : 'fail', stored ? 'a presigned PUT wrote the probe, read back with its size' : 'the PUT succeeded but the probe cannot be read back', 'check the credential may s3:GetObject in staging');
    if (origin) {
      const exposed = (sent.headers.get('access-control-expose-headers') ?? '').toLowerCase().split(/\s*,\s*/);
      found('cors ETag', exposed.includes('etag') ? 'ok' : 'fail', exposed.includes('etag') ? 'ETag is exposed to browsers' : 'ETag is not exposed to browsers: multipart uploads from a page cannot read part ETags', SETUP);
    }
    await driver.delete('staging', key);
  }

  if (!profile.postPolicy) found('POST policy', 'ok', 'the store takes no POST policy forms: uploads with strategy "post" are presigned PUTs');
  else {
    const post = await driver.presignPost({ key, contentType: 'text/plain', maxSize: 1024, expiresIn: 60 });
    const form = new FormData();
    for (const [name, value] of Object.entries(post.fields)) form.append(name, value);
    form.append('file', new Blob([body], { type: 'text/plain' }));
    const posted = await fetch(post.url, { method: 'POST', body: form });
    const postedText = await posted.text();
    found('POST policy', posted.ok ? 'ok' : 'warn', posted.ok ? 'a POST policy form wrote the probe' : `storage refused a POST policy form (${posted.status} ${postedText.slice(0, 200)}): routes with strategy "post" cannot work`, 'use strategy "put" or "auto" on such a store');
    if (posted.ok) await driver.delete('staging', key);
  }

  for (const [role, bucket, readable] of [
    // With a CDN configured, only the CDN may read public files (cdn.ts): a direct read must be refused.
    ['public', config.buckets.public, !settings.cdn],
    ['staging', config.buckets.staging, false],
    ['private', config.buckets.private, false],
  ] as const) {
    const probe = await putProbe(probes, bucket, { key, body });
    try {
      const read = await fetch(urlOf(config, bucket, key));
      await read.arrayBuffer();
      const ok = readable ? read.status === 200 : read.status === 403 || read.status === 401;
      const detail = readable
        ? ok ? 'anyone can read public files' : `an anonymous GET of a public file answered ${read.status}: public URLs do not work`
        : ok ? `${role} refuses anonymous reads${role === 'public' ? ': only the CDN gets through' : ''}`
        : `an anonymous GET of a ${role} file answered ${read.status}: anyone can read ${role} files${role === 'public' ? ' around the CDN' : ''}`;
      found(`anonymous ${role}`, ok ? 'ok' : 'fail', detail, SETUP);
      // Listing is refused everywhere, public included: anyone may read a file whose URL they have, not find the others.
      const list = await fetch(urlOf(config, bucket, ''));
      await list.arrayBuffer();
      const listed = list.status === 200;
      found(`anonymous list ${role}`, listed ? 'fail' : 'ok', listed ? `anyone can list the ${role} bucket's files` : `${role} refuses anonymous listing`, SETUP);
    } finally {
      await probe.remove();
    }
  }
}
