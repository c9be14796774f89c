/**
 * Storage events' settings: `"events": {"url": "…"}` in the config file; STORAGE_EVENTS_SECRET and
 * STORAGE_EVENTS_URL set or override them. Without a secret the hook is off (it answers 404).
 */
import { ConfigError } from '../config.ts';

export interface EventsConfig {
  /** What the store sends with each event (STORAGE_EVENTS_SECRET): in the push URL, a header or a bearer token. */
  secret: string;
  /**
   * Where the store reaches this API's hook, without the secret (STORAGE_EVENTS_URL), e.g.
   * https://api.example.com/v1/hooks/storage; `upfront setup` needs it to point the store there.
   */
  url?: string;
}

/** Goes into a URL as it is, and through RGW's endpoint arguments (split on & and =): no such characters. */
const SECRET = /^[A-Za-z0-9_-]{24,256}$/;

export function parseEventsConfig(raw: unknown, env: Record<string, string | undefined>): EventsConfig | undefined {
  if (raw !== undefined && (raw === null || typeof raw !== 'object' || Array.isArray(raw))) {
    throw new ConfigError('"events" is {"url": "https://api.example.com/v1/hooks/storage"} (the secret comes from STORAGE_EVENTS_SECRET)');
  }
  const given = (raw ?? {}) as Record<string, unknown>;
  const secret = env.STORAGE_EVENTS_SECRET || given.secret;
  const url = env.STORAGE_EVENTS_URL || given.url;
  if (secret === undefined) {
    if (url !== undefined) throw new ConfigError('STORAGE_EVENTS_URL needs STORAGE_EVENTS_SECRET too: the hook refuses events without it');
    return undefined;
  }
  if (typeof secret !== 'string' || !SECRET.test(secret)) {
    throw new ConfigError('STORAGE_EVENTS_SECRET is 24 to 256 letters, digits, "-" and "_" (it goes into a URL), e.g. from `openssl rand -hex 24`');
  }
  if (url === undefined) return { secret };
  if (typeof url !== 'string' || !/^https?:\/\//.test(url) || !URL.canParse(url) || new URL(url).search !== '') {
    throw new ConfigError(`STORAGE_EVENTS_URL is where the store reaches the API's hook, like https://api.example.com/v1/hooks/storage, without a query (got ${JSON.stringify(url)})`);
  }
  return { secret, url };
}

/** The URL the store pushes to: the hook's, with the secret as `?secret=`. */
export function pushUrl({ secret, url }: Required<EventsConfig>): string {
  const push = new URL(url);
  push.searchParams.set('secret', secret);
  return push.href;
}
