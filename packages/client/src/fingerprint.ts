/**
 * Identifies a file across page reloads without reading all of it: its size, date, and a SHA-256 of
 * its name and first and last MiB. The server answers an unfinished multipart upload with the same
 * fingerprint (same user, route, size and type) instead of a new one, so the upload resumes.
 */
const MiB = 1024 * 1024;

/** `sha256` hashes the pieces one after the other, as one run of bytes (a File read by path, node-file.ts, cannot go into a Blob). */
export async function fingerprintOf(file: Blob, name: string, sha256: (pieces: Blob[]) => Promise<string>): Promise<string> {
  const modified = (file as Partial<File>).lastModified ?? 0;
  const pieces = [new Blob([name, '\n']), file.slice(0, MiB), file.slice(Math.max(MiB, file.size - MiB))];
  return `v1-${file.size}-${modified}-${(await sha256(pieces)).slice(0, 32)}`;
}
