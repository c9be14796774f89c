/**
 * Provider profiles: what Upfront signs and provisions differently per S3-compatible store. One record
 * per store says what it supports; the provider is configured (S3_PROVIDER, or "provider" in the config
 * file), else detected: from the endpoint's host name (AWS, R2, B2), and where doctor and setup can ask
 * the store, from its answer (MinIO names itself in `Server`, Ceph RGW by its request ids).
 */

export const PROVIDERS = ['aws', 'ceph', 'minio', 'r2', 'b2', 'other'] as const;
export type Provider = (typeof PROVIDERS)[number];

export interface ProviderProfile {
  /** Storage takes POST policy forms; without, an upload that would be a POST is a presigned PUT. */
  postPolicy: boolean;
  /**
   * When the AWS SDK adds checksums to requests and checks them in answers: AWS whenever the operation
   * supports one; other stores only where the operation requires one, as they refuse or ignore the
   * SDK's default CRC32 headers.
   */
  checksums: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';
  /** Path-style addressing by default (S3_FORCE_PATH_STYLE overrides it). */
  pathStyle: boolean;
  /**
   * How unfinished multipart uploads are aborted: a bucket lifecycle rule, or the store's own setting
   * (MinIO drops AbortIncompleteMultipartUpload from lifecycle rules and aborts stale uploads itself).
   */
  abortIncomplete: 'lifecycle' | 'store-setting';
  /** setup sets S3 Block Public Access on every bucket. */
  blockPublicAccess: boolean;
  /** How a CDN alone is let read the public bucket: CloudFront Origin Access Control, or what the bucket policy can say. */
  originAccess: 'oac' | 'policy';
}

/** Every store but AWS: checksums only when required, POST policies, lifecycle rules, origin locked by policy. */
const S3_COMPATIBLE: ProviderProfile = {
  postPolicy: true,
  checksums: 'WHEN_REQUIRED',
  pathStyle: false,
  abortIncomplete: 'lifecycle',
  blockPublicAccess: false,
  originAccess: 'policy',
};

export const PROFILES: Readonly<Record<Provider, Readonly<ProviderProfile>>> = {
  aws: { ...S3_COMPATIBLE, checksums: 'WHEN_SUPPORTED', blockPublicAccess: true, originAccess: 'oac' },
  ceph: S3_COMPATIBLE,
  // MinIO addresses buckets by host name only when MINIO_DOMAIN is set, which few deployments do.
  minio: { ...S3_COMPATIBLE, pathStyle: true, abortIncomplete: 'store-setting' },
  // Neither takes PostObject (R2's and B2's lists of supported S3 operations lack it).
  r2: { ...S3_COMPATIBLE, postPolicy: false },
  b2: { ...S3_COMPATIBLE, postPolicy: false },
  other: S3_COMPATIBLE,
};

export function isProvider(value: unknown): value is Provider {
  return typeof value === 'string' && (PROVIDERS as readonly string[]).includes(value);
}

/** The provider an endpoint's host name names, if any (custom domains and local stores name none). */
export function providerFromEndpoint(endpoint: string): Provider | undefined {
  const host = URL.canParse(endpoint) ? new URL(endpoint).hostname.toLowerCase() : '';
  if (/(^|\.)amazonaws\.com(\.cn)?$/.test(host)) return 'aws';
  if (host.endsWith('.r2.cloudflarestorage.com')) return 'r2';
  if (host.endsWith('.backblazeb2.com')) return 'b2';
  return undefined;
}

/**
 * RGW's request ids: `tx`, 21 hex digits of a counter, `-`, 10 hex digits of the time, `-`, then its
 * host and zone group (`tx00000b4b3170ce093174c-006b161078-1022-default`). RGW sends no Server header.
 */
const RGW_REQUEST_ID = /^tx[0-9a-f]{21}-[0-9a-f]{10}-[0-9a-z]/;

/** The provider a store's answer (any request to it) shows, if any. */
export function providerFromAnswer(headers: Headers): Provider | undefined {
  const server = (headers.get('server') ?? '').toLowerCase();
  if (server.startsWith('minio')) return 'minio';
  if (server === 'amazons3') return 'aws';
  if (server.includes('ceph') || RGW_REQUEST_ID.test(headers.get('x-amz-request-id') ?? '')) return 'ceph';
  return undefined;
}

/** Where the applied provider came from. */
export type ProviderSource = 'configured' | 'endpoint' | 'answer' | 'default';

export interface AppliedProvider {
  provider: Provider;
  source: ProviderSource;
  profile: Readonly<ProviderProfile>;
}

/**
 * The provider Upfront applies: the configured one, else the one the endpoint names, else the one the
 * store's answer shows (when there is one: doctor and setup ask, the API at start does not), else `other`.
 */
export function applyProvider(config: { endpoint: string; provider?: Provider }, answer?: Headers): AppliedProvider {
  const [provider, source] = findProvider(config, answer);
  return { provider, source, profile: PROFILES[provider] };
}

function findProvider(config: { endpoint: string; provider?: Provider }, answer?: Headers): [Provider, ProviderSource] {
  if (config.provider) return [config.provider, 'configured'];
  const named = providerFromEndpoint(config.endpoint);
  if (named) return [named, 'endpoint'];
  const shown = answer && providerFromAnswer(answer);
  if (shown) return [shown, 'answer'];
  return ['other', 'default'];
}

/**
 * applyProvider, asking the store (an anonymous GET of the endpoint; any answer, even a refusal, shows
 * it) only when neither the configuration nor the endpoint names the provider. A store that does not
 * answer shows nothing: then `other`, and what setup does next says why storage cannot be reached.
 */
export async function detectProvider(config: { endpoint: string; provider?: Provider }): Promise<AppliedProvider> {
  const applied = applyProvider(config);
  if (applied.source !== 'default') return applied;
  const answer = await fetch(config.endpoint, { signal: AbortSignal.timeout(5000) }).then(
    async (response) => {
      await response.arrayBuffer();
      return response.headers;
    },
    () => undefined,
  );
  return applyProvider(config, answer);
}

/** What the API applies without asking the store: from the configuration or the endpoint alone. */
export const profileOf = (config: { endpoint: string; provider?: Provider }): Readonly<ProviderProfile> => applyProvider(config).profile;

const SOURCES: Record<ProviderSource, string> = {
  configured: 'configured',
  endpoint: 'detected from the endpoint',
  answer: "detected from the store's answers",
  default: 'none configured or detected',
};

export const describeProvider = ({ provider, source }: Pick<AppliedProvider, 'provider' | 'source'>): string => `${provider} (${SOURCES[source]})`;

/**
 * MinIO's equivalent of the abort rule: it aborts multipart uploads older than `api stale_uploads_expiry`
 * itself (24h unless set), whatever the lifecycle says. Set with MinIO's client; `ALIAS` is the mc alias.
 */
export const minioStaleUploadsCommand = (abortIncompleteDays: number): string =>
  `mc admin config set ALIAS api stale_uploads_expiry=${abortIncompleteDays * 24}h`;
