/**
 * Secrets the server makes once and keeps in its data dir (the disk driver's signing secret, the dev
 * issuer's key), so that restarts and every instance sharing the directory use the same one.
 */
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The content of `dataDir/name`, made by `make` if the file does not exist. Several processes may
 * start together on one directory: each writes its candidate to a file of its own and links it into
 * place, which only one link can do (EEXIST for the others, who read the winner's). Unlike writing
 * the final name with 'wx', no process can read a file that is created but not yet written.
 */
export function keptInDataDir(dataDir: string, name: string, make: () => string): string {
  const path = join(dataDir, name);
  const existing = readIfExists(path);
  if (existing !== undefined) return existing;
  mkdirSync(dataDir, { recursive: true });
  const candidate = `${path}.${process.pid}.${Date.now()}.tmp`;
  const made = make();
  writeFileSync(candidate, made, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(candidate, path);
    return made;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return readFileSync(path, 'utf8');
  } finally {
    unlinkSync(candidate);
  }
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
