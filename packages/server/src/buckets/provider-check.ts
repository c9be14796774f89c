/**
 * doctor's findings about the provider profile (storage/providers.ts): which one it applied and why,
 * whether the configured one contradicts what the store shows, and what a profile leaves to the store's
 * own settings (MinIO's stale-upload expiry, which no S3 call can read).
 */
import { applyProvider, describeProvider, minioStaleUploadsCommand, PROFILES, providerFromAnswer, providerFromEndpoint, type Provider } from '../storage/providers.ts';
import type { S3DriverConfig } from '../storage/s3-config.ts';
import type { Finding } from './doctor.ts';
import type { BucketSettings } from './spec.ts';

/** `answer`: the headers of the store's answer to an anonymous GET of the endpoint. */
export function providerFindings(config: S3DriverConfig, answer: Headers, settings: Pick<BucketSettings, 'abortIncompleteDays'>): Finding[] {
  const applied = applyProvider(config, answer);
  const detected = providerFromEndpoint(config.endpoint) ?? providerFromAnswer(answer);
  // What the API applies: it never asks the store, so it knows only the configuration and the endpoint.
  const api = applyProvider(config);
  const findings: Finding[] = [];
  if (config.provider && detected && differ(config.provider, detected)) {
    findings.push({
      check: 'provider',
      status: 'warn',
      detail: `${describeProvider(applied)}, but the store looks like ${detected} (${providerFromEndpoint(config.endpoint) ? 'its endpoint' : 'its answers'})`,
      fix: `set S3_PROVIDER=${detected}, or leave it unset to detect it`,
    });
  } else if (differ(applied.provider, api.provider)) {
    findings.push({
      check: 'provider',
      status: 'warn',
      detail: `${describeProvider(applied)}, but the API does not ask the store and applies ${api.provider}`,
      fix: `set S3_PROVIDER=${applied.provider}`,
    });
  } else findings.push({ check: 'provider', status: 'ok', detail: describeProvider(applied) });
  if (applied.profile.abortIncomplete === 'store-setting') {
    findings.push({
      check: 'stale uploads',
      status: 'warn',
      detail: `${applied.provider} takes no lifecycle rule that aborts unfinished multipart uploads; its own api stale_uploads_expiry does (24h unless set), which doctor cannot read`,
      fix: `run \`${minioStaleUploadsCommand(settings.abortIncompleteDays)}\` (ALIAS: your mc alias of the store)`,
    });
  }
  return findings;
}

/** Two providers whose profiles differ (ceph and other, say, do not). */
const differ = (a: Provider, b: Provider): boolean => JSON.stringify(PROFILES[a]) !== JSON.stringify(PROFILES[b]);
