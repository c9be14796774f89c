/**
 * JSON logs (pino), one line per request plus errors. Only chosen fields are logged (never headers,
 * query strings or bodies), and every line is scrubbed on its way out as a second guard: bearer
 * tokens, SigV4 signatures and credentials, POST policies, and the configured secrets themselves.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel, UpfrontConfig } from '../config.ts';

export type { Logger, DestinationStream };

const REDACTED = '[redacted]';

/** Text that must not reach a log, in any shape it may take (URL query, form field, header, JSON). */
const PATTERNS: [RegExp, string][] = [
  [/(bearer\s+)[^\s"',]+/gi, `$1${REDACTED}`],
  [/((?:x-amz-(?:signature|credential|security-token)|signature|policy|awsaccesskeyid)(?:"\s*:\s*"|=))[^"&\s,}]+/gi, `$1${REDACTED}`],
  // A JWT anywhere (e.g. a token pasted into a field).
  [/\beyJ[\w-]+\.[\w-]+\.[\w-]+/g, REDACTED],
];

/** Literal secrets of the configuration: storage keys, the disk and CDN secrets, a database password. */
export function configSecrets(config: UpfrontConfig, extra: (string | undefined)[] = []): string[] {
  const found = [...extra];
  const storage = config.storage;
  if (storage.driver === 's3') found.push(storage.secretAccessKey, storage.sessionToken);
  else found.push(storage.secret);
  const cdn = config.buckets.cdn;
  if (cdn && 'secret' in cdn) found.push(cdn.secret);
  found.push(config.events?.secret);
  if (config.auth.devKey !== undefined) found.push(config.auth.devKey, privateKeyPart(config.auth.devKey));
  for (const { webhook } of config.routes.values()) if (webhook) found.push(webhook.secret, webhook.secret.slice('whsec_'.length));
  try {
    found.push(decodeURIComponent(new URL(config.databaseUrl).password) || undefined);
  } catch {
    // sqlite:<path> is no URL with a password.
  }
  return found.filter((secret): secret is string => typeof secret === 'string' && secret.length >= 8);
}

/** The private part (`d`) of the dev issuer's JWK, which could appear on its own. */
function privateKeyPart(jwk: string): string | undefined {
  try {
    const { d } = JSON.parse(jwk) as { d?: unknown };
    return typeof d === 'string' ? d : undefined;
  } catch {
    return undefined; // not JSON: start-up refuses it anyway
  }
}

export function scrub(line: string, secrets: readonly string[]): string {
  let out = line;
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}

function serializeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const { code } = error as Error & { code?: unknown };
  return { type: error.name, message: error.message, stack: error.stack, ...(typeof code === 'string' && { code }) };
}

export function createLogger(level: LogLevel, secrets: readonly string[], destination?: DestinationStream): Logger {
  const options = {
    level,
    base: null,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    // Errors keep type, code, message and stack; a driver's error objects may carry requests.
    serializers: { err: serializeError },
    hooks: { streamWrite: (line: string) => scrub(line, secrets) },
  };
  return destination ? pino(options, destination) : pino(options);
}
