import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Visibility } from './store/types.ts';
import { validateKeyTemplate } from './uploads/key-template.ts';
import { normaliseContentType } from './uploads/content-types.ts';
import { s3ConfigFromEnv, type S3DriverConfig } from './storage/s3-config.ts';
import { folderProblem, type FolderRule } from './buckets/folders.ts';
import type { CdnConfig } from './buckets/cdn.ts';
import type { SiteConfig } from './buckets/website.ts';
import { parseRouteWebhook, parseWebhookDelivery, webhookFromEnv, type RouteWebhook, type WebhookDeliveryConfig } from './webhooks/config.ts';
import { parseSweeperConfig, type SweeperConfig } from './sweeper/config.ts';
import { parseEventsConfig, type EventsConfig } from './events/config.ts';
import { parseRouteProcessing, type ImageSettings } from './processors/config.ts';
import { parseDropInConfig, type DropInConfig } from './routes/drop-in/config.ts';
import { profileOf } from './storage/providers.ts';

/** One kind of upload and its rules. */
export interface RouteConfig {
  name: string;
  /** Allowed MIME types, checked at create (declared) and at complete (magic bytes). */
  types: string[];
  /** Bytes. */
  maxSize: number;
  /** e.g. `{user}/{date}-{uuid}.{ext}`; see uploads/key-template.ts. */
  keyTemplate: string;
  visibility: Visibility;
  /** Lifetime of a signed upload request (a PUT, a POST form, one part's URL), seconds. */
  expiresIn: number;
  /** `auto` (the default): multipart above `multipartThreshold`, else a presigned PUT. */
  strategy: RouteStrategy;
  /** Bytes; `auto` sends larger files in parts. */
  multipartThreshold: number;
  /** Bytes; the part size multipart uploads start from (raised for files that would need over 10,000 parts). */
  partSize: number;
  /** How long a multipart upload may take, seconds: its part URLs can be signed again until then. */
  multipartExpiresIn: number;
  /** The storage class verified files are promoted into (S3 and RGW; the disk driver has none); default the bucket's. */
  storageClass?: string;
  /** Where this route's events (upload completed or rejected, file deleted or restored) are POSTed; default none. */
  webhook?: RouteWebhook;
  /** Each user's limits on this route (stored files plus unfinished uploads); default none. */
  quota?: QuotaLimits;
  /** Run between verification and promotion, in order: `image` (built in) or the app's (processors/). */
  processors?: string[];
  /** The built-in `image` processor's settings, when `processors` names it. */
  image?: ImageSettings;
}

/** Limits on what a user keeps: bytes and number of files. */
export interface QuotaLimits {
  bytes?: number;
  files?: number;
}

export interface QuotaConfig {
  /** Each user's limits over all routes (QUOTA_USER_BYTES, QUOTA_USER_FILES); default none. */
  perUser: QuotaLimits;
  /** Create-upload requests a user may make per minute (RATE_LIMIT_CREATES_PER_MINUTE); 0, the default, is no limit. */
  createsPerMinute: number;
}

export type RouteStrategy = 'auto' | 'put' | 'post' | 'multipart';

export interface AuthConfig {
  /** Built-in dev issuer: signs a token for any user name. Only for local use. */
  devIssuer: boolean;
  /**
   * Lets production run with the dev issuer (anyone can sign in as anyone): for throwaway demos only,
   * and warned about at every start. Set by AUTH_DEV_ISSUER_UNSAFE_IN_PRODUCTION=true.
   */
  unsafeDevIssuerInProduction?: boolean;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  /** Seconds of clock difference allowed when checking `exp`, `nbf` and `iat` (default 30). */
  clockTolerance: number;
  /** AUTH_DEV_KEY: the dev issuer's private key as a JWK; default one made once and kept in the data dir. */
  devKey?: string;
}

export interface DiskStorageConfig {
  driver: 'disk';
  /** Secret for the disk endpoint's signatures; generated and kept in the data dir if not set. */
  secret?: string;
  /**
   * Seconds in a lifecycle day for the server's own expiry of staged objects (storage/disk-lifecycle.ts):
   * 86,400, or a few seconds in tests (DISK_LIFECYCLE_DAY_SECONDS, like RGW's `rgw lc debug interval`).
   */
  lifecycleDaySeconds: number;
}

export interface S3StorageConfig extends S3DriverConfig {
  driver: 's3';
}

export interface UpfrontConfig {
  mode: 'dev' | 'production';
  dataDir: string;
  /** `sqlite:<path>` or `postgres://…` */
  databaseUrl: string;
  /** Connections of one instance's PostgreSQL pool (DATABASE_POOL_SIZE, default 10). */
  databasePoolSize: number;
  storage: DiskStorageConfig | S3StorageConfig;
  auth: AuthConfig;
  /** Origins allowed to call the API from a browser (exact, or `http://localhost:*` for any port). */
  corsOrigins: string[];
  /** By name. A Map: names come from clients, and must never reach an object's built-in properties. */
  routes: ReadonlyMap<string, RouteConfig>;
  /** Lifetime of signed download URLs of private files, seconds. */
  downloadExpiresIn: number;
  /** What `upfront setup` provisions besides CORS and policies (buckets/spec.ts). */
  buckets: BucketLifecycleConfig;
  /** Least level of the JSON logs (LOG_LEVEL, default info; warn under node's test runner). */
  logLevel: LogLevel;
  /** How webhook deliveries are retried (routes name their webhooks). */
  webhooks: WebhookDeliveryConfig;
  /** Per-user limits and the create-upload rate limit. */
  quotas: QuotaConfig;
  /** What the sweeper (sweeper/) waits for, and how often `serve` runs it. */
  sweeper: SweeperConfig;
  /** The storage hook (POST /v1/hooks/storage) that finalizes uploads on the store's object-created events; default off. */
  events?: EventsConfig;
  /** Endpoints shaped like hand-rolled signers' (routes/drop-in/), each on a route's rules; default none. */
  dropIn?: DropInConfig;
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** LOG_LEVEL; without it, tests (NODE_TEST_CONTEXT) log warnings only, so their output stays readable. */
function parseLogLevel(value: string | undefined): LogLevel {
  const level = value || (process.env.NODE_TEST_CONTEXT ? 'warn' : 'info');
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new ConfigError(`LOG_LEVEL is one of ${LOG_LEVELS.join(', ')}, not ${JSON.stringify(level)}`);
  return level as LogLevel;
}

export interface BucketLifecycleConfig {
  /** Days after which staged objects expire (default 1). */
  stagingExpiryDays: number;
  /** Days after which unfinished multipart uploads are aborted (default 1). */
  abortIncompleteDays: number;
  /** Public and private files move to these storage classes after so many days (default none). */
  transitions: { days: number; storageClass: string }[];
  /** Prefixes of the final buckets only the admin writes (read-only) or reads (write-only) (default none). */
  folders: FolderRule[];
  /** The API credential's principal, named in staging's policy so that it may take POST uploads (RGW needs it). */
  apiPrincipal?: string;
  /** The website bucket `upfront site deploy` fills (S3_BUCKET_SITE, S3_SITE_URL); none by default. */
  site?: SiteConfig;
  /** Only this CDN may read public files (S3_CDN_SECRET, S3_CDN_SOURCE_IPS or S3_CDN_DISTRIBUTION_ARN); default anyone may. */
  cdn?: CdnConfig;
}

type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const MB = 1024 * 1024;
const DAY = 86_400;
/** Where a route puts files unless it says otherwise: per user, by date, never reused. */
export const DEFAULT_KEY_TEMPLATE = '{user}/{date}-{uuid}.{ext}';
/** S3's limits: a part is at least 5 MiB (but the last), an upload at most 10,000 parts and 5 TiB. */
export const MIN_PART_SIZE = 5 * MB;
export const MAX_PARTS = 10_000;
export const MAX_OBJECT_SIZE = 5 * 1024 * 1024 * MB;
const multipartDefaults = { multipartThreshold: 64 * MB, partSize: 8 * MB, multipartExpiresIn: 24 * 60 * 60 };

const defaultRouteList: Record<string, RouteConfig> = {
  image: {
    name: 'image',
    types: ['image/png', 'image/jpeg', 'image/webp', 'image/gif'],
    maxSize: 10 * MB,
    keyTemplate: DEFAULT_KEY_TEMPLATE,
    visibility: 'public',
    expiresIn: 600,
    strategy: 'put',
    ...multipartDefaults,
  },
  document: {
    name: 'document',
    types: ['application/pdf'],
    maxSize: 25 * MB,
    keyTemplate: DEFAULT_KEY_TEMPLATE,
    visibility: 'private',
    expiresIn: 600,
    strategy: 'post',
    ...multipartDefaults,
  },
};

/** The routes an app gets without a config file: public images and private PDFs. */
export const defaultRoutes: ReadonlyMap<string, RouteConfig> = new Map(Object.entries(defaultRouteList));

/** `10MB`, `512KB`, `1.5GB`, or a number of bytes (units are binary: 1 MB = 1,048,576 bytes). */
export function parseSize(value: unknown, what: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value;
  if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB)?\s*$/i.exec(value);
    if (m) {
      const unit = { B: 1, KB: 1024, MB: MB, GB: 1024 * MB, TB: 1024 * 1024 * MB }[(m[2] ?? 'B').toUpperCase() as 'B'];
      const bytes = Math.floor(Number(m[1]) * unit);
      if (bytes > 0 && Number.isSafeInteger(bytes)) return bytes;
    }
  }
  throw new ConfigError(`${what} must be a positive size like 10MB or 1048576 (got ${JSON.stringify(value)})`);
}

function parseWhole(value: unknown, min: number, max: number, what: string, unit = 'seconds'): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max) return n;
  throw new ConfigError(`${what} must be a whole number of ${unit} from ${min} to ${max} (got ${JSON.stringify(value)})`);
}

function parseSeconds(value: unknown, what: string): number {
  return parseWhole(value, 1, 604800, what);
}

/**
 * The dev issuer signs a token for any user name: in production that is no sign-in at all. It is
 * refused there unless the operator names the risk explicitly (and is then warned at every start).
 */
export function checkDevIssuer(mode: UpfrontConfig['mode'], auth: AuthConfig): void {
  if (mode === 'production' && auth.devIssuer && !auth.unsafeDevIssuerInProduction) {
    throw new ConfigError(
      'AUTH_DEV_ISSUER=true lets anyone sign in as any user, so production refuses it. Configure your identity ' +
        'provider (AUTH_JWKS_URL, AUTH_ISSUER, AUTH_AUDIENCE); for a throwaway demo only, also set ' +
        'AUTH_DEV_ISSUER_UNSAFE_IN_PRODUCTION=true (upfront serve --unsafe-dev-sign-in).',
    );
  }
}

function parseRoute(name: string, raw: Record<string, unknown>, base?: RouteConfig): RouteConfig {
  const where = `route "${name}"`;
  if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(name)) {
    throw new ConfigError(`${where}: names are lowercase letters, digits, "-" and "_"`);
  }
  const pick = <K extends keyof RouteConfig>(k: K): unknown => (Object.hasOwn(raw, k) && raw[k] !== undefined ? raw[k] : base?.[k]);
  const types = pick('types');
  const typeList = typeof types === 'string' ? types.split(',') : types;
  if (!Array.isArray(typeList) || typeList.length === 0) throw new ConfigError(`${where}: "types" must list at least one MIME type`);
  const normalised = typeList.map((t) => {
    const type = typeof t === 'string' ? normaliseContentType(t) : undefined;
    if (!type) throw new ConfigError(`${where}: ${JSON.stringify(t)} is not a MIME type`);
    return type;
  });
  const keyTemplate = pick('keyTemplate') ?? DEFAULT_KEY_TEMPLATE;
  if (typeof keyTemplate !== 'string') throw new ConfigError(`${where}: "keyTemplate" must be a string`);
  const problem = validateKeyTemplate(keyTemplate);
  if (problem) throw new ConfigError(`${where}: keyTemplate ${JSON.stringify(keyTemplate)}: ${problem}`);
  const visibility = pick('visibility') ?? 'private';
  if (visibility !== 'public' && visibility !== 'private') throw new ConfigError(`${where}: "visibility" is "public" or "private"`);
  const strategy = pick('strategy') ?? 'auto';
  if (strategy !== 'auto' && strategy !== 'put' && strategy !== 'post' && strategy !== 'multipart') {
    throw new ConfigError(`${where}: "strategy" is "auto", "put", "post" or "multipart"`);
  }
  const maxSize = parseSize(pick('maxSize'), `${where}: "maxSize"`);
  if (maxSize > MAX_OBJECT_SIZE) throw new ConfigError(`${where}: "maxSize" is at most 5TB (S3's largest object)`);
  const partSize = parseSize(pick('partSize') ?? multipartDefaults.partSize, `${where}: "partSize"`);
  if (partSize < MIN_PART_SIZE || partSize > 5 * 1024 * MB) throw new ConfigError(`${where}: "partSize" is from 5MB to 5GB (S3's part limits)`);
  const quota = pick('quota');
  const storageClass = pick('storageClass');
  const webhook = parseRouteWebhook(where, pick('webhook'));
  if (storageClass !== undefined && !isStorageClass(storageClass)) throw new ConfigError(`${where}: "storageClass" is a storage class name like STANDARD_IA or COLD (letters, digits, "_")`);
  return {
    name,
    types: normalised,
    maxSize,
    keyTemplate,
    visibility,
    expiresIn: parseSeconds(pick('expiresIn') ?? 600, `${where}: "expiresIn"`),
    strategy,
    multipartThreshold: parseSize(pick('multipartThreshold') ?? multipartDefaults.multipartThreshold, `${where}: "multipartThreshold"`),
    partSize,
    multipartExpiresIn: parseSeconds(pick('multipartExpiresIn') ?? multipartDefaults.multipartExpiresIn, `${where}: "multipartExpiresIn"`),
    ...(storageClass !== undefined && { storageClass }),
    ...(webhook && { webhook }),
    ...(quota !== undefined && { quota: parseQuotaLimits(quota, `${where}: "quota"`) }),
    ...parseRouteProcessing(where, { processors: pick('processors'), image: pick('image'), types: normalised, visibility }, (message) => new ConfigError(message)),
  };
}

/** `{"bytes": "1GB", "files": 1000}`; either may be left out. */
function parseQuotaLimits(raw: unknown, where: string): QuotaLimits {
  if (!isObject(raw)) throw new ConfigError(`${where} must be an object like {"bytes": "1GB", "files": 1000}`);
  const unknown = Object.keys(raw).filter((key) => key !== 'bytes' && key !== 'files');
  if (unknown.length > 0) throw new ConfigError(`${where} takes "bytes" and "files", not ${unknown.map((key) => JSON.stringify(key)).join(', ')}`);
  return {
    ...(raw.bytes !== undefined && { bytes: parseSize(raw.bytes, `${where}: "bytes"`) }),
    ...(raw.files !== undefined && { files: parseWhole(raw.files, 1, Number.MAX_SAFE_INTEGER, `${where}: "files"`, 'files') }),
  };
}

/** `"quotas": {"perUser": {…}, "createsPerMinute": 60}` in the file; QUOTA_USER_BYTES, QUOTA_USER_FILES, RATE_LIMIT_CREATES_PER_MINUTE override. */
function parseQuotas(raw: unknown, env: Env): QuotaConfig {
  if (!isObject(raw)) throw new ConfigError('"quotas" must be an object like {"perUser": {"bytes": "1GB", "files": 1000}, "createsPerMinute": 60}');
  const perUser = raw.perUser === undefined ? {} : isObject(raw.perUser) ? raw.perUser : undefined;
  if (!perUser) throw new ConfigError('"quotas": "perUser" must be an object like {"bytes": "1GB", "files": 1000}');
  return {
    perUser: parseQuotaLimits(
      { ...perUser, ...(env.QUOTA_USER_BYTES && { bytes: env.QUOTA_USER_BYTES }), ...(env.QUOTA_USER_FILES && { files: env.QUOTA_USER_FILES }) },
      '"quotas": "perUser"',
    ),
    createsPerMinute: parseWhole(env.RATE_LIMIT_CREATES_PER_MINUTE || (raw.createsPerMinute ?? 0), 0, 1_000_000, 'RATE_LIMIT_CREATES_PER_MINUTE', 'requests'),
  };
}

/** S3's storage class names (STANDARD_IA, GLACIER_IR) and RGW's own (COLD). */
const isStorageClass = (value: unknown): value is string => typeof value === 'string' && /^[A-Z][A-Z0-9_]{0,63}$/.test(value);

/** `UPFRONT_ROUTE_IMAGE_MAX_SIZE=5MB` overrides routes.image.maxSize (field names in SCREAMING_SNAKE). */
function routeOverrides(env: Env, name: string, raw: Record<string, unknown>): Record<string, unknown> {
  const prefix = `UPFRONT_ROUTE_${name.toUpperCase().replace(/-/g, '_')}_`;
  const fields: Record<string, keyof RouteConfig> = {
    TYPES: 'types',
    MAX_SIZE: 'maxSize',
    KEY_TEMPLATE: 'keyTemplate',
    VISIBILITY: 'visibility',
    EXPIRES_IN: 'expiresIn',
    STRATEGY: 'strategy',
    MULTIPART_THRESHOLD: 'multipartThreshold',
    PART_SIZE: 'partSize',
    MULTIPART_EXPIRES_IN: 'multipartExpiresIn',
    STORAGE_CLASS: 'storageClass',
    PROCESSORS: 'processors',
  };
  const out: Record<string, unknown> = {};
  for (const [suffix, field] of Object.entries(fields)) {
    const value = env[prefix + suffix];
    if (value !== undefined && value !== '') out[field] = value;
  }
  const webhook = webhookFromEnv(env, prefix, raw.webhook);
  if (webhook) out.webhook = webhook;
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function bool(value: string | undefined, fallback: boolean, what: string): boolean {
  if (value === undefined || value === '') return fallback;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new ConfigError(`${what} must be true or false (got ${JSON.stringify(value)})`);
}

function list(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

/**
 * The s3 driver's settings; a missing or malformed one is a configuration error like any other. The
 * file's `"provider"` stands for S3_PROVIDER when that is not set.
 */
function s3Config(env: Env, file: Record<string, unknown>): S3DriverConfig {
  if (file.provider !== undefined && typeof file.provider !== 'string') throw new ConfigError('"provider" is a store\'s name, like "minio" (see S3_PROVIDER)');
  try {
    return s3ConfigFromEnv({ ...env, S3_PROVIDER: env.S3_PROVIDER || (file.provider as string | undefined) });
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

export interface LoadConfigOptions {
  env?: Env;
  /** Path of the JSON config file; default `UPFRONT_CONFIG` or `./upfront.config.json` if it exists. */
  file?: string;
  mode?: 'dev' | 'production';
}

/**
 * Config = built-in defaults, then the JSON file (`{ "routes": { … }, … }`), then environment variables.
 * Production mode is the safe default: no dev issuer unless asked for, and auth must be configured.
 */
export function loadConfig(options: LoadConfigOptions = {}): UpfrontConfig {
  const env = options.env ?? process.env;
  const mode = options.mode ?? (env.UPFRONT_MODE === 'dev' ? 'dev' : 'production');
  const filePath = options.file ?? env.UPFRONT_CONFIG ?? (existsSync('upfront.config.json') ? 'upfront.config.json' : undefined);
  let file: Record<string, unknown> = {};
  if (filePath) {
    try {
      file = JSON.parse(readFileSync(filePath, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new ConfigError(`cannot read config file ${filePath}: ${(error as Error).message}`);
    }
  }

  const rawRoutes = file.routes ?? defaultRouteList;
  if (!isObject(rawRoutes)) throw new ConfigError('"routes" must be an object: {"<name>": {"types": [...], "maxSize": "10MB", ...}}');
  const routes = new Map<string, RouteConfig>();
  for (const [name, raw] of Object.entries(rawRoutes)) {
    if (!isObject(raw)) throw new ConfigError(`route "${name}" must be an object of settings`);
    routes.set(name, parseRoute(name, { ...raw, ...routeOverrides(env, name, raw) }, defaultRoutes.get(name)));
  }
  if (routes.size === 0) throw new ConfigError('define at least one route');

  const dataDir = resolve(env.UPFRONT_DATA_DIR ?? (file.dataDir as string | undefined) ?? '.upfront');
  const driver = env.STORAGE_DRIVER ?? (file.storage as string | undefined) ?? 'disk';
  if (driver !== 'disk' && driver !== 's3') throw new ConfigError(`STORAGE_DRIVER is "disk" or "s3" (got ${JSON.stringify(driver)})`);

  const auth: AuthConfig = {
    devIssuer: bool(env.AUTH_DEV_ISSUER, mode === 'dev', 'AUTH_DEV_ISSUER'),
    jwksUrl: env.AUTH_JWKS_URL || undefined,
    issuer: env.AUTH_ISSUER || undefined,
    audience: env.AUTH_AUDIENCE || undefined,
    clockTolerance: parseWhole(env.AUTH_CLOCK_TOLERANCE ?? 30, 0, 300, 'AUTH_CLOCK_TOLERANCE'),
    ...(env.AUTH_DEV_KEY && { devKey: env.AUTH_DEV_KEY }),
    ...(bool(env.AUTH_DEV_ISSUER_UNSAFE_IN_PRODUCTION, false, 'AUTH_DEV_ISSUER_UNSAFE_IN_PRODUCTION') && {
      unsafeDevIssuerInProduction: true,
    }),
  };
  if (auth.jwksUrl && (!auth.issuer || !auth.audience)) {
    throw new ConfigError('AUTH_JWKS_URL needs AUTH_ISSUER and AUTH_AUDIENCE too, so tokens of other apps are refused');
  }
  if (!auth.devIssuer && !auth.jwksUrl) {
    throw new ConfigError('no way to sign users in: set AUTH_JWKS_URL, AUTH_ISSUER and AUTH_AUDIENCE (or AUTH_DEV_ISSUER=true for local use)');
  }
  checkDevIssuer(mode, auth);

  const buckets = parseBuckets(file.buckets ?? {}, env);
  checkLifetimes(routes, buckets);
  const events = parseEventsConfig(file.events, env);
  const storage: UpfrontConfig['storage'] = driver === 's3' ? { driver: 's3', ...s3Config(env, file) } : {
    driver: 'disk',
    secret: env.DISK_SECRET || undefined,
    lifecycleDaySeconds: parseWhole(env.DISK_LIFECYCLE_DAY_SECONDS ?? DAY, 1, DAY, 'DISK_LIFECYCLE_DAY_SECONDS'),
  };
  const dropIn = parseDropInConfig(file.dropIn, env, routes, storage.driver !== 's3' || profileOf(storage).postPolicy);

  return {
    mode,
    dataDir,
    databaseUrl: env.DATABASE_URL || `sqlite:${resolve(dataDir, 'upfront.db')}`,
    databasePoolSize: parseWhole(env.DATABASE_POOL_SIZE || 10, 1, 1000, 'DATABASE_POOL_SIZE', 'connections'),
    storage,
    auth,
    corsOrigins: list(env.CORS_ORIGINS ?? (file.corsOrigins as string[] | undefined)?.join(',')),
    routes,
    downloadExpiresIn: parseSeconds(env.UPFRONT_DOWNLOAD_EXPIRES_IN ?? 300, 'UPFRONT_DOWNLOAD_EXPIRES_IN'),
    buckets,
    logLevel: parseLogLevel(env.LOG_LEVEL),
    webhooks: parseWebhookDelivery(file.webhooks, env),
    quotas: parseQuotas(file.quotas ?? {}, env),
    sweeper: parseSweeperConfig(file.sweeper ?? {}, env),
    ...(events && { events }),
    ...(dropIn && { dropIn }),
  };
}

/**
 * Staged bytes must outlive the uploads that wait for them: storage's lifecycle removes staged objects
 * after stagingExpiryDays and unfinished multipart uploads after abortIncompleteDays, so an upload that
 * could still be completed would find its bytes gone. With these bounds an upload always expires first,
 * and completing it answers upload_expired.
 */
function checkLifetimes(routes: ReadonlyMap<string, RouteConfig>, buckets: BucketLifecycleConfig): void {
  for (const route of routes.values()) {
    if (route.expiresIn > buckets.stagingExpiryDays * DAY) {
      throw new ConfigError(`route "${route.name}": "expiresIn" (${route.expiresIn} s) outlives staged objects ("buckets": "stagingExpiryDays" ${buckets.stagingExpiryDays}); lower it or raise stagingExpiryDays`);
    }
    if (route.multipartExpiresIn > buckets.abortIncompleteDays * DAY) {
      throw new ConfigError(
        `route "${route.name}": "multipartExpiresIn" (${route.multipartExpiresIn} s) outlives unfinished multipart uploads ("buckets": "abortIncompleteDays" ${buckets.abortIncompleteDays}); lower it or raise abortIncompleteDays`,
      );
    }
  }
}

/** `"buckets": {"stagingExpiryDays": 1, "abortIncompleteDays": 1, "transitions": [{"days": 30, "storageClass": "COLD"}]}` */
function parseBuckets(raw: unknown, env: Env): BucketLifecycleConfig {
  if (!isObject(raw)) throw new ConfigError('"buckets" must be an object: {"stagingExpiryDays": 1, "transitions": [...]}');
  const days = (value: unknown, what: string) => parseWhole(value, 1, 36_500, `"buckets": "${what}"`, 'days');
  const transitions = raw.transitions ?? [];
  if (!Array.isArray(transitions)) throw new ConfigError('"buckets": "transitions" is a list like [{"days": 30, "storageClass": "COLD"}]');
  const [site, cdn] = [parseSite(raw.site, env), parseCdn(raw.cdn, env)];
  return {
    stagingExpiryDays: days(raw.stagingExpiryDays ?? 1, 'stagingExpiryDays'),
    abortIncompleteDays: days(raw.abortIncompleteDays ?? 1, 'abortIncompleteDays'),
    transitions: transitions.map((transition: unknown) => {
      if (!isObject(transition) || !isStorageClass(transition.storageClass)) {
        throw new ConfigError('"buckets": each transition is {"days": 30, "storageClass": "COLD"} (a storage class name in capitals)');
      }
      return { days: days(transition.days, 'transitions[].days'), storageClass: transition.storageClass };
    }),
    folders: parseFolders(raw.folders ?? []),
    ...(raw.apiPrincipal !== undefined && { apiPrincipal: parsePrincipal(raw.apiPrincipal) }),
    ...(site && { site }),
    ...(cdn && { cdn }),
  };
}

/**
 * `"buckets": {"site": {"bucket": "…", "url": "…", "indexDocument": "index.html", "errorDocument": "404.html"}}`;
 * S3_BUCKET_SITE and S3_SITE_URL stand for bucket and url.
 */
function parseSite(raw: unknown, env: Env): SiteConfig | undefined {
  if (raw !== undefined && !isObject(raw)) throw new ConfigError('"buckets": "site" is {"bucket": "…", "url": "…"}');
  const bucket = env.S3_BUCKET_SITE || raw?.bucket;
  if (bucket === undefined) return undefined;
  if (typeof bucket !== 'string' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new ConfigError(`the site bucket (S3_BUCKET_SITE) must be a bucket name (got ${JSON.stringify(bucket)})`);
  const url = env.S3_SITE_URL || raw?.url;
  if (typeof url !== 'string' || !/^https?:\/\//.test(url) || !URL.canParse(url)) {
    throw new ConfigError(
      `the site bucket needs the URL browsers reach it at: S3_SITE_URL ("buckets": {"site": {"url": …}}), its website endpoint, e.g. http://${bucket}.s3-website-<region>.amazonaws.com, or http://${bucket}.s3-website.localhost:7480 on the dev RGW (got ${JSON.stringify(url ?? null)})`,
    );
  }
  const documentName = (value: unknown, fallback: string, what: string) => {
    const name = value ?? fallback;
    if (typeof name !== 'string' || !/^[^/\s][^\s]*$/.test(name)) throw new ConfigError(`"buckets": "site": "${what}" is a file name in the site, like ${fallback}`);
    return name;
  };
  return { bucket, url, indexDocument: documentName(raw?.indexDocument, 'index.html', 'indexDocument'), errorDocument: documentName(raw?.errorDocument, '404.html', 'errorDocument') };
}

/**
 * `"buckets": {"cdn": {…}}` names how the public bucket knows its CDN, one of: `"secret"` (sent as Referer),
 * `"sourceIps"` (CIDR blocks) or `"cloudFrontDistributionArn"` (CloudFront with Origin Access Control).
 * S3_CDN_SECRET, S3_CDN_SOURCE_IPS (comma-separated) and S3_CDN_DISTRIBUTION_ARN, when any is set, replace it.
 */
function parseCdn(raw: unknown, env: Env): CdnConfig | undefined {
  if (raw !== undefined && !isObject(raw)) throw new ConfigError('"buckets": "cdn" is {"secret": "…"}, {"sourceIps": […]} or {"cloudFrontDistributionArn": "…"}');
  const fromEnv = Boolean(env.S3_CDN_SECRET || env.S3_CDN_SOURCE_IPS || env.S3_CDN_DISTRIBUTION_ARN);
  const given = fromEnv
    ? { secret: env.S3_CDN_SECRET || undefined, sourceIps: env.S3_CDN_SOURCE_IPS ? list(env.S3_CDN_SOURCE_IPS) : undefined, cloudFrontDistributionArn: env.S3_CDN_DISTRIBUTION_ARN || undefined }
    : { secret: raw?.secret, sourceIps: raw?.sourceIps, cloudFrontDistributionArn: raw?.cloudFrontDistributionArn };
  const named = Object.keys(given).filter((key) => given[key as keyof typeof given] !== undefined);
  if (named.length === 0) return undefined;
  if (named.length > 1) throw new ConfigError(`"buckets": "cdn" names one way the bucket knows its CDN, not ${named.join(' and ')}`);
  const { secret, sourceIps, cloudFrontDistributionArn } = given;
  if (secret !== undefined) {
    // Anyone who has it reads around the CDN: it must not be guessable.
    if (typeof secret !== 'string' || !/^[\x21-\x7e]{24,}$/.test(secret)) throw new ConfigError('the CDN secret (S3_CDN_SECRET) is at least 24 printable characters without spaces, e.g. from `openssl rand -hex 24`');
    return { secret };
  }
  if (sourceIps !== undefined) {
    if (!Array.isArray(sourceIps) || sourceIps.length === 0 || !sourceIps.every((ip) => typeof ip === 'string' && /^[0-9a-f:.]+(\/\d{1,3})?$/i.test(ip))) {
      throw new ConfigError('the CDN\'s addresses (S3_CDN_SOURCE_IPS) are addresses or CIDR blocks like 203.0.113.0/24');
    }
    return { sourceIps: sourceIps as string[] };
  }
  if (typeof cloudFrontDistributionArn !== 'string' || !/^arn:aws[a-z-]*:cloudfront::\d{12}:distribution\/[A-Z0-9]+$/.test(cloudFrontDistributionArn)) {
    throw new ConfigError('the CloudFront distribution (S3_CDN_DISTRIBUTION_ARN) is an ARN like arn:aws:cloudfront::111122223333:distribution/EDFDVBD6EXAMPLE');
  }
  return { cloudFrontDistributionArn };
}

/** `"folders": [{"bucket": "public", "prefix": "page/", "access": "read-only"}]` (buckets/folders.ts). */
function parseFolders(raw: unknown): FolderRule[] {
  const example = '[{"bucket": "public", "prefix": "page/", "access": "read-only"}]';
  if (!Array.isArray(raw)) throw new ConfigError(`"buckets": "folders" is a list like ${example}`);
  const rules = raw.map((rule: unknown, index) => {
    const problem = isObject(rule) ? folderProblem(rule) : `each rule is like ${example}`;
    if (problem) throw new ConfigError(`"buckets": "folders"[${index}]: ${problem}`);
    const { bucket, prefix, access } = rule as unknown as FolderRule;
    return { bucket, prefix, access };
  });
  // A key under two rules of one bucket would be denied what both deny: say it rather than surprise.
  for (const rule of rules) {
    const overlap = rules.find((other) => other !== rule && other.bucket === rule.bucket && rule.prefix.startsWith(other.prefix));
    if (overlap) throw new ConfigError(`"buckets": "folders": "${rule.prefix}" is inside "${overlap.prefix}" of the ${rule.bucket} bucket; rules may not overlap`);
  }
  return rules;
}

function parsePrincipal(raw: unknown): string {
  if (typeof raw === 'string' && /^arn:[a-z-]+:iam::[^:]*:[^\s]+$/.test(raw)) return raw;
  throw new ConfigError(`"buckets": "apiPrincipal" is the API credential's user ARN, like "arn:aws:iam:::user/upfront-api" (got ${JSON.stringify(raw)})`);
}
