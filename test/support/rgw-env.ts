/**
 * The S3 driver configuration of the dev Ceph RGW that scripts/rgw/start.sh boots (npm test starts it and
 * exports its S3_* variables). Without them suites fail rather than skip: storage is never optional.
 */
import { s3ConfigFromEnv, type S3DriverConfig } from '../../packages/server/src/storage/s3-config.ts';

export function rgwConfig(): S3DriverConfig {
  try {
    return s3ConfigFromEnv(process.env);
  } catch (error) {
    throw new Error(
      `RGW is not running: start it with scripts/rgw/start.sh (npm test does this) (${(error as Error).message})`,
    );
  }
}
