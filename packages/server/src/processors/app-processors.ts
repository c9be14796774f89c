import type { RouteConfig } from '../config.ts';
import { ConfigError } from '../config.ts';
import { IMAGE_PROCESSOR } from './config.ts';
import type { UploadProcessor } from './types.ts';

/**
 * The app's processors, checked against the routes at start-up: every name a route lists is the built-in
 * `image` or one the app passed, so no upload ever meets a processor that is not there.
 */
export function appProcessors(routes: ReadonlyMap<string, RouteConfig>, given: Record<string, UploadProcessor> = {}): ReadonlyMap<string, UploadProcessor> {
  const processors = new Map(Object.entries(given));
  for (const [name, processor] of processors) {
    if (name === IMAGE_PROCESSOR) throw new ConfigError(`processors: "${IMAGE_PROCESSOR}" is the built-in image processor's name; give yours another`);
    if (typeof processor?.run !== 'function') throw new ConfigError(`processors: "${name}" must be an object with a run({ upload, head, read, signal }) function`);
    const { timeoutMs } = processor;
    if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs > 0 && timeoutMs <= 3_600_000)) {
      throw new ConfigError(`processors: "${name}": timeoutMs is a whole number of milliseconds from 1 to 3600000`);
    }
  }
  for (const route of routes.values()) {
    const missing = route.processors?.find((name) => name !== IMAGE_PROCESSOR && !processors.has(name));
    if (missing) {
      const known = [IMAGE_PROCESSOR, ...processors.keys()].map((name) => `"${name}"`).join(', ');
      throw new ConfigError(`route "${route.name}" names the processor "${missing}", which is neither built in nor passed to createUpfront({ processors }) (known: ${known})`);
    }
  }
  return processors;
}
