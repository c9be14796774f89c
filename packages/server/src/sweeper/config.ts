/** The sweeper's settings: `"sweeper": {…}` in the config file, SWEEP_* variables override. */
import { ConfigError } from '../config.ts';

export interface SweeperConfig {
  /**
   * Seconds between runs inside the server (SWEEP_INTERVAL_SECONDS, default 300; 0 turns them off, the
   * default under node's test runner, whose tests sweep when they mean to).
   */
  intervalSeconds: number;
  /**
   * How old an object in the public or private bucket that no record owns must be before it is deleted
   * (SWEEP_GRACE_SECONDS, default 86,400: a day).
   */
  graceSeconds: number;
  /**
   * How long bytes must have been left alone before they count as abandoned (SWEEP_SETTLE_SECONDS, default
   * 300): staged bytes whose browser never called complete, staged bytes no upload owns, a crash's temp files.
   */
  settleSeconds: number;
}

export const DEFAULT_SWEEPER: SweeperConfig = { intervalSeconds: 300, graceSeconds: 86_400, settleSeconds: 300 };

const FIELDS = { intervalSeconds: 'SWEEP_INTERVAL_SECONDS', graceSeconds: 'SWEEP_GRACE_SECONDS', settleSeconds: 'SWEEP_SETTLE_SECONDS' } as const;
const MAX_SECONDS = 30 * 86_400;

export function parseSweeperConfig(raw: unknown, env: Record<string, string | undefined>): SweeperConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError('"sweeper" must be an object like {"intervalSeconds": 300, "graceSeconds": 86400, "settleSeconds": 300}');
  }
  const given = raw as Record<string, unknown>;
  const unknown = Object.keys(given).filter((name) => !(name in FIELDS));
  if (unknown.length > 0) throw new ConfigError(`"sweeper" takes ${Object.keys(FIELDS).join(', ')}, not ${unknown.map((name) => JSON.stringify(name)).join(', ')}`);
  // Under node's test runner (as for LOG_LEVEL, whatever env a test builds its config from) servers sweep only when told to.
  const config = { ...DEFAULT_SWEEPER, ...(process.env.NODE_TEST_CONTEXT && { intervalSeconds: 0 }) };
  for (const [field, variable] of Object.entries(FIELDS) as [keyof SweeperConfig, string][]) {
    const fromEnv = env[variable];
    const value = fromEnv !== undefined && fromEnv !== '' ? fromEnv : given[field];
    if (value === undefined) continue;
    const seconds = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0 || seconds > MAX_SECONDS) {
      const what = fromEnv !== undefined && fromEnv !== '' ? variable : `"sweeper": "${field}"`;
      throw new ConfigError(`${what} must be a whole number of seconds from 0 to ${MAX_SECONDS} (got ${JSON.stringify(value)})`);
    }
    config[field] = seconds;
  }
  return config;
}
