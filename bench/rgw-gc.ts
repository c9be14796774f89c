/**
 * Garbage collection on the throwaway RGW of scripts/rgw/start.sh. RGW frees the data of deleted
 * objects only when it collects garbage, and its memstore OSD holds everything in memory: benchmarks
 * that upload hundreds of MB per run collect between runs so the store does not fill.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Collects now, if `endpoint` is the RGW in $RGW_DIR (one we started); any other store is left alone. */
export function collectGarbage(endpoint: string): void {
  const dir = process.env.RGW_DIR;
  if (dir && existsSync(join(dir, 'env')) && readFileSync(join(dir, 'env'), 'utf8').includes(`S3_ENDPOINT=${endpoint} `)) {
    execFileSync('radosgw-admin', ['-c', join(dir, 'ceph.conf'), 'gc', 'process', '--include-all'], { stdio: 'ignore' });
  }
}
