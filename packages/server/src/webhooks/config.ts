/**
 * Webhook settings: a route's `"webhook": {"url": "…", "secret": "whsec_…"}` (or
 * UPFRONT_ROUTE_<NAME>_WEBHOOK_URL and _WEBHOOK_SECRET), and how deliveries are retried
 * (`"webhooks": {…}` of the config file, or WEBHOOK_* variables).
 */
import { ConfigError } from '../config.ts';

/** Where a route's events are POSTed, and the Standard Webhooks secret they are signed with. */
export interface RouteWebhook {
  url: string;
  /** `whsec_` and the key in base64. */
  secret: string;
}

export interface WebhookDeliveryConfig {
  /** Attempts before a message is dead-lettered (WEBHOOK_MAX_ATTEMPTS, default 12). */
  maxAttempts: number;
  /** Wait after the first failure, doubled after each (WEBHOOK_BACKOFF_BASE_MS, default 2,000). */
  backoffBaseMs: number;
  /** Longest wait between attempts (WEBHOOK_BACKOFF_MAX_MS, default one hour). */
  backoffMaxMs: number;
  /** How long the receiver may take to answer (WEBHOOK_TIMEOUT_MS, default 10,000). */
  timeoutMs: number;
  /** How often each instance looks for due messages (WEBHOOK_POLL_INTERVAL_MS, default 1,000). */
  pollIntervalMs: number;
}

type Env = Record<string, string | undefined>;

const SECRET_EXAMPLE = 'whsec_ and 24 to 64 random bytes in base64, e.g. from `echo "whsec_$(openssl rand -base64 32)"`';

/** `"webhook": {"url": "https://…", "secret": "whsec_…"}`; undefined when the route has none. */
export function parseRouteWebhook(where: string, raw: unknown): RouteWebhook | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`${where}: "webhook" is {"url": "https://…", "secret": "whsec_…"}`);
  }
  const { url, secret } = raw as Record<string, unknown>;
  if (typeof url !== 'string' || !/^https?:\/\//i.test(url) || !URL.canParse(url)) {
    throw new ConfigError(`${where}: "webhook": "url" is the http(s) URL events are POSTed to (got ${JSON.stringify(url ?? null)})`);
  }
  if (typeof secret !== 'string') throw new ConfigError(`${where}: "webhook": "secret" is needed to sign events: ${SECRET_EXAMPLE}`);
  if (!isWebhookSecret(secret)) {
    // The value itself is not repeated: it is a secret, even when malformed.
    throw new ConfigError(`${where}: "webhook": "secret" is not a Standard Webhooks secret: it is ${SECRET_EXAMPLE}`);
  }
  return { url, secret };
}

function isWebhookSecret(secret: string): boolean {
  const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(secret);
  if (!match) return false;
  const key = Buffer.from(match[1]!, 'base64');
  return key.length >= 24 && key.length <= 64 && key.toString('base64') === match[1];
}

/**
 * The route's webhook with UPFRONT_ROUTE_<NAME>_WEBHOOK_URL and _WEBHOOK_SECRET laid over the file's
 * (so the secret can stay out of the file); undefined when neither variable is set.
 */
export function webhookFromEnv(env: Env, prefix: string, fromFile: unknown): Record<string, unknown> | undefined {
  const url = env[`${prefix}WEBHOOK_URL`] || undefined;
  const secret = env[`${prefix}WEBHOOK_SECRET`] || undefined;
  if (url === undefined && secret === undefined) return undefined;
  const base = typeof fromFile === 'object' && fromFile !== null && !Array.isArray(fromFile) ? fromFile : {};
  return { ...base, ...(url !== undefined && { url }), ...(secret !== undefined && { secret }) };
}

/** `"webhooks": {"maxAttempts": 12, "backoffBaseMs": 2000, …}`, each overridden by its WEBHOOK_* variable. */
export function parseWebhookDelivery(raw: unknown, env: Env): WebhookDeliveryConfig {
  if (raw !== undefined && (typeof raw !== 'object' || raw === null || Array.isArray(raw))) {
    throw new ConfigError('"webhooks" is an object: {"maxAttempts": 12, "backoffBaseMs": 2000, "backoffMaxMs": 3600000, "timeoutMs": 10000}');
  }
  const file = (raw ?? {}) as Record<string, unknown>;
  const setting = (name: keyof WebhookDeliveryConfig, variable: string, fallback: number, min: number, max: number, unit: string) => {
    const value = env[variable] || (file[name] ?? fallback);
    const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max) return n;
    throw new ConfigError(`${variable} ("webhooks": "${name}") is a whole number of ${unit} from ${min} to ${max} (got ${JSON.stringify(value)})`);
  };
  const backoffBaseMs = setting('backoffBaseMs', 'WEBHOOK_BACKOFF_BASE_MS', 2000, 1, 86_400_000, 'milliseconds');
  const backoffMaxMs = setting('backoffMaxMs', 'WEBHOOK_BACKOFF_MAX_MS', Math.max(3_600_000, backoffBaseMs), 1, 7 * 86_400_000, 'milliseconds');
  if (backoffMaxMs < backoffBaseMs) throw new ConfigError(`WEBHOOK_BACKOFF_MAX_MS (${backoffMaxMs}) is below WEBHOOK_BACKOFF_BASE_MS (${backoffBaseMs})`);
  return {
    maxAttempts: setting('maxAttempts', 'WEBHOOK_MAX_ATTEMPTS', 12, 1, 100, 'attempts'),
    backoffBaseMs,
    backoffMaxMs,
    timeoutMs: setting('timeoutMs', 'WEBHOOK_TIMEOUT_MS', 10_000, 100, 300_000, 'milliseconds'),
    pollIntervalMs: setting('pollIntervalMs', 'WEBHOOK_POLL_INTERVAL_MS', 1000, 10, 60_000, 'milliseconds'),
  };
}
