/**
 * GET /readyz: can this instance serve uploads? One trivial query of the database and one cheap call
 * to storage (the head of a key that does not exist), each bounded in time, so a load balancer can
 * take an instance out when either is unreachable. GET /healthz stays a constant answer.
 */
import type { Services } from '../services.ts';
import type { Logger } from './logging.ts';

export type CheckName = 'database' | 'storage';
export type Checks = Record<CheckName, 'ok' | 'failed'>;

/** Longer than a healthy call ever takes; shorter than a load balancer's probe timeout. */
const CHECK_TIMEOUT_MS = 3000;
/** No upload has this id and no object this key: the answers are "none", which is fine. */
const NO_UPLOAD = '00000000-0000-0000-0000-000000000000';
const NO_KEY = '.upfront-readiness-probe';

/** The checks' results; why one failed goes to the log. */
export async function readiness({ store, storage }: Services, log: Logger): Promise<Checks> {
  const [database, storageCheck] = await Promise.all([
    check('database', log, () => store.getUpload(NO_UPLOAD)),
    // With a least-privilege credential a missing key may answer 403; the s3 driver reads that as missing.
    check('storage', log, () => storage.head('staging', NO_KEY)),
  ]);
  return { database, storage: storageCheck };
}

async function check(name: CheckName, log: Logger, call: () => Promise<unknown>): Promise<'ok' | 'failed'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'failed'>((resolve) => {
    timer = setTimeout(() => {
      log.warn({ check: name }, `readiness: no answer within ${CHECK_TIMEOUT_MS} ms`);
      resolve('failed');
    }, CHECK_TIMEOUT_MS);
  });
  const answered = call().then(
    () => 'ok' as const,
    (error: unknown) => {
      log.warn({ check: name, err: error }, 'readiness: check failed');
      return 'failed' as const;
    },
  );
  try {
    return await Promise.race([answered, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
