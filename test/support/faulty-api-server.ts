/**
 * test/support/api-server.ts with a fault: with UPFRONT_FAULT set, the process SIGKILLs itself at one step
 * of complete, the real code having run up to there (the process really dies: no shutdown, no finally):
 * - `copy:before`: verified, about to copy staging → final bucket;
 * - `copy:after`: copied, not yet recorded;
 * - `staged-delete:before`: recorded, about to delete the staged copy.
 * Without it, the plain server (a restart after the fault).
 */
import { loadConfig } from '@upfront/server';
import { serve } from '@upfront/server/node';

const config = loadConfig({ mode: 'dev', env: { CORS_ORIGINS: 'http://localhost:*,http://127.0.0.1:*', ...process.env } });
const server = await serve(config, { port: Number(process.env.PORT) });
const { storage } = server.upfront.services;
const die = (): never => {
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable: SIGKILL was sent');
};
const fault = process.env.UPFRONT_FAULT;
if (fault === 'copy:before' || fault === 'copy:after') {
  const copy = storage.copy.bind(storage);
  storage.copy = async (from, to, options) => {
    if (from.bucket !== 'staging') return copy(from, to, options);
    if (fault === 'copy:before') die();
    const copied = await copy(from, to, options);
    return die() ?? copied;
  };
} else if (fault === 'staged-delete:before') {
  const remove = storage.delete.bind(storage);
  storage.delete = async (bucket, key, versionId) => (bucket === 'staging' ? die() : remove(bucket, key, versionId));
} else if (fault !== undefined) {
  throw new Error(`UPFRONT_FAULT ${fault} is none of copy:before, copy:after, staged-delete:before`);
}
process.stdout.write(`${server.url}\n`);
