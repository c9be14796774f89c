import { ConfigError, loadConfig, type LoadConfigOptions, type UpfrontConfig } from '@upfront/server';
import { UsageError } from './usage.ts';

/** The configuration, or a UsageError that says what in it is wrong (one line, exit code 2). */
export function loadCommandConfig(options: LoadConfigOptions): UpfrontConfig {
  try {
    return loadConfig(options);
  } catch (error) {
    throw error instanceof ConfigError ? new UsageError(`configuration error: ${error.message}`) : error;
  }
}
