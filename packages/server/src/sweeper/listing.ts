/**
 * What the sweeper lists: only keys under the routes' prefixes (the literal start of their key templates),
 * as the API's credential may list and delete nothing else. What else shares the buckets is never the
 * sweeper's to judge: setup's and doctor's probes, and read-only folders (files an operator publishes).
 */
import { keyPrefix, narrowest } from '../buckets/policy.ts';
import { PROBE_PREFIXES } from '../buckets/probe-prefixes.ts';
import type { UpfrontConfig } from '../config.ts';
import type { Bucket, ListedObject, StorageDriver } from '../storage/types.ts';

/** The prefixes to list in `bucket`: every route's in staging, the routes' of that visibility in a final bucket. */
export function routePrefixes(config: UpfrontConfig, bucket: Bucket): string[] {
  const routes = [...config.routes.values()].filter((route) => bucket === 'staging' || route.visibility === bucket);
  return narrowest(routes.map((route) => keyPrefix(route.keyTemplate, route.name)));
}

/** Whether an object at `key` of `bucket` may be Upfront's own (see above). */
export function isSweepable(config: UpfrontConfig, bucket: Bucket, key: string): boolean {
  if (PROBE_PREFIXES.some((prefix) => key.startsWith(prefix))) return false;
  return !config.buckets.folders.some((folder) => folder.access === 'read-only' && folder.bucket === bucket && key.startsWith(folder.prefix));
}

/** The bucket's objects under the routes' prefixes that may be Upfront's own, a page at a time. */
export async function* objectPages(storage: StorageDriver, config: UpfrontConfig, bucket: Bucket): AsyncGenerator<ListedObject[]> {
  for (const prefix of routePrefixes(config, bucket)) {
    let after: string | undefined;
    do {
      const page = await storage.list(bucket, { ...(prefix !== '' && { prefix }), ...(after !== undefined && { after }) });
      const objects = page.objects.filter((object) => isSweepable(config, bucket, object.key));
      if (objects.length > 0) yield objects;
      after = page.next;
    } while (after !== undefined);
  }
}
