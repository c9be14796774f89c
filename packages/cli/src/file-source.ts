/**
 * A file on disk as an upload source. Usually a Blob from `fs.openAsBlob`, which the client reads slice
 * by slice. Node 20 reports the size of a file of 4 GiB or more modulo 4 GiB in such a Blob
 * (nodejs/node#52585), which would upload only the first bytes; such a file goes as a stream, with a
 * fingerprint made here (the client fingerprints only Blobs), so a rerun still resumes it.
 */
import { createReadStream, openAsBlob } from 'node:fs';
import { open } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { UploadSource } from '@upfront/client';

const MiB = 1024 * 1024;

export async function openFileSource(path: string, size: number, type: string): Promise<{ source: UploadSource; fingerprint?: string }> {
  const blob = await openAsBlob(path, { type });
  if (blob.size === size) return { source: blob };
  return { source: { stream: createReadStream(path), size, type }, fingerprint: await fingerprintOf(path) };
}

/** Like the client's: size, modification time, and a SHA-256 of the name and the first and last MiB. */
async function fingerprintOf(path: string): Promise<string> {
  const file = await open(path);
  try {
    const { size, mtimeMs } = await file.stat();
    const hash = createHash('sha256').update(`${basename(path)}\n`);
    for (const position of [0, Math.max(MiB, size - MiB)]) {
      const { buffer, bytesRead } = await file.read(Buffer.alloc(MiB), 0, MiB, position);
      hash.update(buffer.subarray(0, bytesRead));
    }
    return `cli-v1-${size}-${Math.trunc(mtimeMs)}-${hash.digest('hex').slice(0, 32)}`;
  } finally {
    await file.close();
  }
}
