/**
 * Who owns an object: the one predicate the sweeper deletes by. In staging, an upload that may still become
 * a file. In a final bucket, a file of that key (a replacement writes versions of its file's key, so the
 * file owns them all), an object under a file's `<key>.variants/` (image variants stored beside their file,
 * owned as long as the file is), or an upload still promoting to that key (the sweeper heals it instead).
 */
import type { Bucket } from '../storage/types.ts';
import { UNFINISHED_STATES, type MetadataStore, type UploadRecord } from '../store/types.ts';

export const isUnfinished = (upload: UploadRecord): boolean => UNFINISHED_STATES.includes(upload.state);

const VARIANTS = '.variants/';

/** The key of the file whose record owns an object at `key` of a final bucket. */
export function ownerKey(key: string): string {
  const variants = key.indexOf(VARIANTS);
  return variants > 0 ? key.slice(0, variants) : key;
}

/** Which of `keys` (objects listed in `bucket`) are owned. */
export async function ownedKeys(store: MetadataStore, bucket: Bucket, keys: string[]): Promise<Set<string>> {
  if (bucket === 'staging') {
    const uploads = await store.findUnfinishedUploadsByKey(keys);
    return new Set(uploads.filter(isUnfinished).map((upload) => upload.key));
  }
  const owners = [...new Set(keys.map(ownerKey))];
  const [files, uploads] = await Promise.all([store.findFilesByKey(bucket, owners), store.findUnfinishedUploadsByKey(owners)]);
  const owning = new Set([
    ...files.map((file) => file.key),
    ...uploads.filter((upload) => isUnfinished(upload) && upload.visibility === bucket).map((upload) => upload.key),
  ]);
  return new Set(keys.filter((key) => owning.has(ownerKey(key))));
}
