/** Files that file-type recognises as application/zip (routes sniff the bytes), of any size. */
import { randomFillSync } from 'node:crypto';
import { open } from 'node:fs/promises';

/**
 * A zip local file header, then `size` bytes in all: zeros (sparse: instant, no disk), or one random
 * MiB over and over (`random`: nothing on the way could shrink it).
 */
export async function writeZipLike(path: string, size: number, { random = false } = {}): Promise<void> {
  const header = Buffer.alloc(35);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(20, 4); // version needed to extract
  header.writeUInt16LE(5, 26); // file name length
  header.write('a.txt', 30);
  const handle = await open(path, 'w');
  try {
    await handle.write(header, 0, header.length, 0);
    if (!random) return await handle.truncate(size);
    const chunk = randomFillSync(Buffer.alloc(1024 * 1024));
    for (let at = header.length; at < size; at += chunk.length) await handle.write(chunk, 0, Math.min(chunk.length, size - at), at);
  } finally {
    await handle.close();
  }
}
