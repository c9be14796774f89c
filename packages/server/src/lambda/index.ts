/**
 * @upfront/server/lambda — Upfront as one AWS Lambda function:
 *
 *   export { handler } from '@upfront/server/lambda';   // or createLambdaHandler({ processors })
 *
 * It takes API Gateway REST (v1) and HTTP API (v2) requests and function-URL requests (the same fetch
 * handler as `upfront serve`), the staging bucket's object-created events (S3 notifications straight to
 * the function, through SQS or SNS, or EventBridge "Object Created": they finalize uploads as the storage
 * hook does) and scheduled events (EventBridge/CloudWatch "Scheduled Event": one sweep, and the webhooks
 * still due). Upfront is built once per container, on its first event, from the environment and
 * upfront.config.json, as `upfront serve` does. Nothing runs between events (a frozen container runs no
 * timers): each event's background work and the webhooks it wrote are finished before it returns.
 */
import { ConfigError, createUpfront, loadConfig, sweep, type Upfront, type UpfrontOptions } from '../index.ts';
import { UpfrontError } from '../errors.ts';
import { handleStorageEvents } from '../events/finalize.ts';
import { NotAStorageEvent, storageEventRecords, type StorageEventRecord } from '../events/storage-event.ts';
import { problemResponse } from '../http/problem.ts';
import type { StorageHookJson } from '../http/schemas.ts';
import type { SweepReport } from '../sweeper/report.ts';
import { isHttpEvent, toRequest, toResult, type HttpApiResult, type HttpEvent, type RestApiResult } from './http-event.ts';
import { lambdaEnv } from './lambda-env.ts';

export type { HttpApiEvent, HttpApiResult, RestApiEvent, RestApiResult } from './http-event.ts';
export { lambdaEnv } from './lambda-env.ts';

export interface LambdaOptions {
  /** The app's processors (createUpfront's `processors`). */
  processors?: UpfrontOptions['processors'];
}

/** What the handler returns: an HTTP result, what came of a storage event's records, or a sweep's report. */
export type LambdaResult = RestApiResult | HttpApiResult | StorageHookJson | { sweep: SweepReport };

export type LambdaHandler = (event: unknown) => Promise<LambdaResult>;

/** Events the handler takes, for the error that names an event it does not. */
const TAKES =
  'API Gateway REST (v1) and HTTP API (v2) requests, function-URL requests, S3 object-created notifications ' +
  '(straight, through SQS or SNS, or EventBridge "Object Created") and EventBridge/CloudWatch scheduled events';

export function createLambdaHandler(options: LambdaOptions = {}): LambdaHandler {
  let building: Promise<Upfront> | undefined;
  // A failed build (e.g. the database was down) is tried again on the next event.
  const upfront = () => (building ??= build(options).catch((error: unknown) => {
    building = undefined;
    throw error;
  }));

  return async (event) => {
    if (isHttpEvent(event)) return answer(event, upfront);
    if (isScheduledEvent(event)) return sweepNow(await upfront());
    let records: StorageEventRecord[];
    try {
      records = storageEventRecords(event);
    } catch (error) {
      if (!(error instanceof NotAStorageEvent)) throw error;
      throw new Error(`Upfront's Lambda handler does not take this event (${error.message}); it takes ${TAKES}.`);
    }
    return finalize(await upfront(), records);
  };
}

async function answer(event: HttpEvent, upfront: () => Promise<Upfront>): Promise<RestApiResult | HttpApiResult> {
  let instance: Upfront;
  try {
    instance = await upfront();
  } catch (error) {
    console.error('upfront: the API could not start', error);
    return toResult(event, problemResponse(new UpfrontError('not_ready', 'The API could not start (the function\'s log says why: its database, storage or configuration); try again shortly.')));
  }
  const result = await toResult(event, await instance.fetch(toRequest(event)));
  await instance.settle();
  return result;
}

/** One sweep, then the webhooks due (those written now, and earlier failures whose retry time came). */
async function sweepNow(instance: Upfront): Promise<{ sweep: SweepReport }> {
  const report = await sweep(instance.services);
  const did = Object.values(report.counts).some((count) => count > 0);
  instance.log[did ? 'info' : 'debug']({ sweep: report }, 'sweep done');
  await instance.settle({ webhooks: 'due' });
  return { sweep: report };
}

/** As the storage hook (routes/hooks.ts) does with a POSTed event, minus the secret: only what may invoke the function sends events. */
async function finalize(instance: Upfront, records: StorageEventRecord[]): Promise<StorageHookJson> {
  const { services, log } = instance;
  const summaries = await handleStorageEvents(services, log, records);
  await instance.settle();
  // Thrown, so that Lambda delivers the event again (S3 retries, SQS returns the messages); finalizing is idempotent.
  if (summaries.some((summary) => summary.outcome === 'failed')) throw new Error('Storage or the database did not answer while an upload was finalized; the event is to be delivered again.');
  return { records: summaries };
}

/** EventBridge's (or CloudWatch Events') scheduled event, as a rule's schedule sends it. */
function isScheduledEvent(event: unknown): boolean {
  const { source, 'detail-type': type } = (event ?? {}) as Record<string, unknown>;
  return source === 'aws.events' && type === 'Scheduled Event';
}

async function build(options: LambdaOptions): Promise<Upfront> {
  const config = loadConfig({ env: lambdaEnv(process.env) });
  if (config.storage.driver !== 's3') throw new ConfigError('On Lambda, files go to S3: set STORAGE_DRIVER=s3 (the disk driver needs a disk that lasts)');
  if (!/^postgres(ql)?:/i.test(config.databaseUrl)) throw new ConfigError('On Lambda, the metadata store is PostgreSQL: set DATABASE_URL=postgres://… (SQLite needs a disk that lasts)');
  return createUpfront(config, {
    // Only the disk driver's URLs point at the API itself; S3's point at S3.
    publicUrl: process.env.UPFRONT_PUBLIC_URL ?? 'https://lambda.invalid',
    timers: false,
    ...(options.processors && { processors: options.processors }),
  });
}

/** The handler of `upfront lambda build`'s bundle: built-in processors only. */
export const handler: LambdaHandler = createLambdaHandler();
