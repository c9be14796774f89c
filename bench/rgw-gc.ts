/**
 * Garbage collection on the throwaway RGW of scripts/rgw/start.sh. RGW frees the data of deleted
 * objects only when it collects garbage, and its memstore OSD holds everything in memory: benchmarks
 * that upload hundreds of MB per run collect between runs so the store does not fill.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

let warned = false;

/** Collects now, if `endpoint` is the RGW in $RGW_DIR (or start.sh's default): never another cluster than the one measured. */
export function collectGarbage(endpoint: string): void {
  const dir = process.env.RGW_DIR ?? '/tmp/upfront-rgw';
  const env = join(dir, 'env');
  if (existsSync(env) && readFileSync(env, 'utf8').includes(`S3_ENDPOINT=${endpoint} `)) {
    execFileSync('radosgw-admin', ['-c', join(dir, 'ceph.conf'), 'gc', 'process', '--include-all'], { stdio: 'ignore' });
  } else if (!warned) {
    warned = true;
    console.warn(`${env} is not the env of ${endpoint}: RGW garbage is not collected (set RGW_DIR)`);
  }
}
