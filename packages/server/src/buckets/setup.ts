/**
 * `upfront setup`: reads each bucket, plans the changes that make it match the configuration
 * (plan.ts), and applies them unless it is a dry run. Idempotent: a second run plans nothing. It uses
 * the API's S3 settings, or an admin credential when one is given, so the API's own can stay narrow.
 */
import {
  CreateBucketCommand,
  DeleteBucketLifecycleCommand,
  DeleteBucketPolicyCommand,
  ListBucketsCommand,
  PutBucketAclCommand,
  PutBucketCorsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
  type LifecycleRule as S3LifecycleRule,
  type S3Client,
  type TransitionStorageClass,
} from '@aws-sdk/client-s3';
import { originMatcher } from '../http/cors.ts';
import { detectProvider, minioStaleUploadsCommand, type AppliedProvider } from '../storage/providers.ts';
import type { S3DriverConfig } from '../storage/s3-config.ts';
import { createS3Client } from '../storage/s3-driver.ts';
import { principalOf } from './folders.ts';
import { planBucket, type Change } from './plan.ts';
import { missingStorageClass } from './storage-class.ts';
import { bucketSpecs, type BucketSettings, type BucketSpec } from './spec.ts';
import { readBucket, type BucketState } from './state.ts';
import { putWebsite } from './website.ts';
import { applyNotifications, eventsWiring, planNotifications, readNotifications, type NotificationClient } from './notifications.ts';

export interface SetupOptions {
  /** Plan only. */
  dryRun?: boolean;
  /** Credentials allowed to configure buckets; default the API's own. */
  admin?: { accessKeyId: string; secretAccessKey: string };
  /** The provider whose profile to provision for; default: configured or detected (providers.ts). */
  provider?: AppliedProvider;
}

export interface SetupResult {
  endpoint: string;
  /** The provider profile the plan follows. */
  provider: AppliedProvider;
  changes: Change[];
  /** Whether the changes were made (false for a dry run, or when there were none). */
  applied: boolean;
  /** What setup cannot fix but should be known. */
  warnings: string[];
}

export async function setupBuckets(config: S3DriverConfig, settings: BucketSettings, options: SetupOptions = {}): Promise<SetupResult> {
  const s3 = createS3Client(options.admin ? { ...config, ...options.admin, sessionToken: undefined } : config);
  try {
    const provider = options.provider ?? (await detectProvider(config));
    const { profile } = provider;
    const specs = bucketSpecs(config, settings, profile, settings.folders?.length ? await callerPrincipal(s3, config) : undefined);
    const states = await Promise.all(
      specs.map((spec) =>
        readBucket(s3, spec.name, { publicAccessBlock: profile.blockPublicAccess, website: spec.website !== undefined }).catch((error: unknown) => {
          throw new SetupError(`${spec.name}: could not read its settings from ${config.endpoint}`, [], error);
        }),
      ),
    );
    const plans = specs.map((spec, index) => ({ spec, state: states[index]!, changes: planBucket(spec, states[index]!) }));
    // Storage events are provisioned on RGW (notifications.ts); elsewhere setup says what to wire.
    const notifier: NotificationClient = { s3, config, credentials: options.admin ?? config };
    const pushUrl = provider.provider === 'ceph' ? settings.events?.pushUrl : undefined;
    const eventChanges = pushUrl
      ? planNotifications(config.buckets.staging, pushUrl, await readNotifications(notifier).catch((error: unknown) => {
          throw new SetupError(`${config.buckets.staging}: could not read its notifications from ${config.endpoint}`, [], error);
        }))
      : [];
    const changes = plans.flatMap((plan) => (plan.spec.role === 'staging' ? [...plan.changes, ...eventChanges] : plan.changes));
    const warnings = settings.origins.length === 0 ? ['No browser origins are configured (CORS_ORIGINS): staging gets no CORS rules, so browsers cannot upload.'] : [];
    if (profile.abortIncomplete === 'store-setting') warnings.push(staleUploadsNote(settings.abortIncompleteDays));
    if (settings.events && !pushUrl) warnings.push(eventsWiring(provider.provider, config.buckets.staging, settings.events));
    const siteOrigin = settings.site && new URL(settings.site.url).origin;
    if (siteOrigin && !originMatcher(settings.origins)(siteOrigin)) warnings.push(`The site's origin ${siteOrigin} is not among the browser origins (CORS_ORIGINS): its pages can neither call the API nor upload. Add it.`);
    if (settings.cdn && !config.publicBaseUrl) warnings.push('Public files are readable through the CDN only ("buckets": "cdn"), but S3_PUBLIC_BASE_URL is not set: file URLs point at the bucket, which refuses them. Set it to the CDN\'s URL.');
    if (options.dryRun || changes.length === 0) return { endpoint: config.endpoint, provider, changes, applied: false, warnings };
    const done: Change[] = [];
    for (const { spec, state, changes } of plans) {
      for (const change of changes) {
        try {
          await apply(s3, provider, config, spec, state, change);
        } catch (error) {
          throw new SetupError(`${change.bucket}: could not ${change.summary}`, done, error, change);
        }
        done.push(change);
      }
    }
    for (const change of eventChanges) {
      try {
        await applyNotifications(notifier, pushUrl!);
      } catch (error) {
        throw new SetupError(`${change.bucket}: could not ${change.summary}`, done, error, change);
      }
      done.push(change);
    }
    return { endpoint: config.endpoint, provider, changes, applied: true, warnings };
  } finally {
    s3.destroy();
  }
}

/** Setup's own credential as a policy principal (folder rules exempt it): ListBuckets names its owner. */
async function callerPrincipal(s3: S3Client, config: S3DriverConfig): Promise<string> {
  try {
    const { Owner } = await s3.send(new ListBucketsCommand({}));
    if (Owner?.ID) return principalOf(Owner.ID);
    throw new Error('ListBuckets named no owner');
  } catch (error) {
    throw new SetupError(`could not learn who the credential is (folder rules exempt it) from ${config.endpoint}`, [], error);
  }
}

/** Storage refused (or could not answer) a read or a change; the changes in `done` were made. */
export class SetupError extends Error {
  override name = 'SetupError';
  constructor(
    what: string,
    readonly done: Change[],
    cause: unknown,
    readonly change?: Change,
  ) {
    const { name = 'Error', message = String(cause), code, $metadata } = cause as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
    // HEAD answers carry no body: a refusal then reads as an unknown error with status 403.
    const reason = $metadata?.httpStatusCode === 403 && name === 'Unknown' ? 'Forbidden' : (code ?? name);
    super(`${what}: ${reason}${reason === 'Forbidden' ? '' : `: ${message}`}.${HINTS[reason] ?? ''}`, { cause });
  }
}

const HINTS: Record<string, string> = {
  Forbidden: ' Storage refused the credential: check S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY (or the admin ones), and that they may read bucket settings.',
  AccessDenied: ' The credential may not configure buckets: give setup an admin one (S3_ADMIN_ACCESS_KEY_ID, S3_ADMIN_SECRET_ACCESS_KEY).',
  InvalidAccessKeyId: ' Check S3_ACCESS_KEY_ID (or S3_ADMIN_ACCESS_KEY_ID).',
  SignatureDoesNotMatch: ' Check S3_SECRET_ACCESS_KEY (or S3_ADMIN_SECRET_ACCESS_KEY).',
  ECONNREFUSED: ' Nothing answers there: check S3_ENDPOINT, and that the store is running.',
};

/** MinIO aborts stale multipart uploads by its own setting, in place of the lifecycle rule it drops. */
const staleUploadsNote = (abortIncompleteDays: number): string =>
  `MinIO ignores lifecycle rules that abort unfinished multipart uploads, and aborts them itself after its api stale_uploads_expiry (24h unless set): to abort them after ${abortIncompleteDays === 1 ? '1 day' : `${abortIncompleteDays} days`} as configured, run \`${minioStaleUploadsCommand(abortIncompleteDays)}\` (ALIAS: your mc alias of the store).`;

async function apply(s3: S3Client, provider: AppliedProvider, config: S3DriverConfig, spec: BucketSpec, state: BucketState, change: Change): Promise<void> {
  const Bucket = spec.name;
  switch (change.setting) {
    case 'bucket':
      return void (await s3.send(new CreateBucketCommand({ Bucket, ...locationOf(provider, config) })));
    case 'public-access': {
      const block = spec.publicAccessBlock!;
      return void (await s3.send(
        new PutPublicAccessBlockCommand({
          Bucket,
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: block.blockPublicAcls,
            IgnorePublicAcls: block.ignorePublicAcls,
            BlockPublicPolicy: block.blockPublicPolicy,
            RestrictPublicBuckets: block.restrictPublicBuckets,
          },
        }),
      ));
    }
    case 'acl':
      return void (await s3.send(new PutBucketAclCommand({ Bucket, ACL: 'private' })));
    case 'policy':
      if (!spec.policy) return void (await s3.send(new DeleteBucketPolicyCommand({ Bucket })));
      return void (await s3.send(new PutBucketPolicyCommand({ Bucket, Policy: JSON.stringify(spec.policy) })));
    case 'cors':
      return void (await s3.send(
        new PutBucketCorsCommand({
          Bucket,
          CORSConfiguration: {
            CORSRules: spec.cors!.map((rule) => ({
              AllowedOrigins: rule.allowedOrigins,
              AllowedMethods: rule.allowedMethods,
              AllowedHeaders: rule.allowedHeaders,
              ExposeHeaders: rule.exposeHeaders,
              MaxAgeSeconds: rule.maxAgeSeconds,
            })),
          },
        }),
      ));
    case 'lifecycle': {
      for (const transition of spec.lifecycle.flatMap((rule) => rule.transitions ?? [])) {
        const missing = await missingStorageClass(s3, Bucket, transition.storageClass);
        if (missing) throw Object.assign(new Error(`the store has no storage class ${transition.storageClass}`), { name: missing });
      }
      // Upfront's rules replace its old ones; every other rule stays as it was.
      const others = state.lifecycleRules.filter((rule) => !rule.ID?.startsWith('upfront-'));
      const ours = spec.lifecycle.map(
        (rule): S3LifecycleRule => ({
          ID: rule.id,
          Status: 'Enabled',
          Filter: { Prefix: rule.prefix },
          ...(rule.expirationDays !== undefined && { Expiration: { Days: rule.expirationDays } }),
          ...(rule.abortIncompleteDays !== undefined && { AbortIncompleteMultipartUpload: { DaysAfterInitiation: rule.abortIncompleteDays } }),
          ...(rule.transitions && { Transitions: rule.transitions.map((transition) => ({ Days: transition.days, StorageClass: transition.storageClass as TransitionStorageClass })) }),
        }),
      );
      const rules = [...others, ...ours];
      if (rules.length === 0) return void (await s3.send(new DeleteBucketLifecycleCommand({ Bucket })));
      return void (await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules: rules } })));
    }
    case 'versioning':
      return void (await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } })));
    case 'website':
      return putWebsite(s3, Bucket, spec.website!);
  }
}

/** AWS wants the region named when a bucket is created outside us-east-1; other stores take their default. */
function locationOf({ provider }: AppliedProvider, { region }: S3DriverConfig) {
  return provider === 'aws' && region !== 'us-east-1' ? { CreateBucketConfiguration: { LocationConstraint: region as never } } : {};
}
