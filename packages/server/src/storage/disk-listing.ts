/**
 * The disk driver's listings (the sweeper's): a bucket's objects are the files under
 * `<dataDir>/objects/<bucket>/`, its multipart uploads the directories `<dataDir>/multipart/<uploadId>/`
 * whose `upload.json` names a key and was not completed (see disk-multipart.ts).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Bucket, InProgressMultipart, ListedObject, ObjectPage } from './types.ts';

const PAGE_SIZE = 1000;

/**
 * One page of keys after `after`, in key order. Each page walks the prefix's directory again: the tree
 * may change between pages, and a key is the only cursor that stays meaningful when it does.
 */
export async function listDiskObjects(root: string, bucket: Bucket, { prefix = '', after }: { prefix?: string; after?: string }): Promise<ObjectPage> {
  const bucketDir = path.join(root, 'objects', bucket);
  // Only the directory the prefix names can hold its keys.
  const start = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
  const keys: string[] = [];
  for await (const key of keysUnder(path.join(bucketDir, ...start.split('/').filter(Boolean)), start)) {
    if (key.startsWith(prefix) && (after === undefined || key > after)) keys.push(key);
  }
  keys.sort();
  const objects: ListedObject[] = [];
  for (const key of keys) {
    if (objects.length === PAGE_SIZE) break;
    const stats = await stat(path.join(bucketDir, ...key.split('/'))).catch(() => undefined);
    if (!stats) continue; // deleted meanwhile
    // When its bytes were written: a copy links the same file, so a promoted object keeps its upload's time
    // (its ctime would move with every link made or removed, a sweep's included).
    objects.push({ key, size: stats.size, lastModified: stats.mtime });
  }
  const last = objects.at(-1)?.key;
  return { objects, ...(keys.length > objects.length && last !== undefined && { next: last }) };
}

async function* keysUnder(dir: string, prefix: string): AsyncGenerator<string> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const key = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) yield* keysUnder(path.join(dir, entry.name), key);
    else if (entry.isFile()) yield key;
  }
}

export async function listDiskMultipartUploads(root: string, prefix = ''): Promise<InProgressMultipart[]> {
  const uploadsDir = path.join(root, 'multipart');
  const uploads: InProgressMultipart[] = [];
  for (const uploadId of await readdir(uploadsDir).catch(() => [] as string[])) {
    const dir = path.join(uploadsDir, uploadId);
    let manifest: { key?: unknown; created?: unknown; assembling?: unknown };
    try {
      manifest = JSON.parse(await readFile(path.join(dir, 'upload.json'), 'utf8')) as typeof manifest;
    } catch {
      continue; // gone meanwhile, or not an upload
    }
    if (typeof manifest.key !== 'string' || typeof manifest.created !== 'string' || !manifest.key.startsWith(prefix)) continue;
    // Completed: the file it was assembling has been placed (the directory is a leftover, removed by the driver).
    if (typeof manifest.assembling === 'string' && !(await stat(path.join(dir, manifest.assembling)).then(() => true, () => false))) continue;
    uploads.push({ key: manifest.key, uploadId, initiated: new Date(manifest.created) });
  }
  return uploads;
}
