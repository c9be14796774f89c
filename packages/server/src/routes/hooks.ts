/**
 * POST /v1/hooks/storage: the store's object-created events finalize uploads whose browser never
 * called complete (events/finalize.ts). Not a user's request: it is authenticated by the shared secret
 * (events/hook-secret.ts), so it is registered before the API's bearer-token middleware. Answers 200
 * with what was done per record, 400 to a body that is no storage event, 401 to a wrong secret, 404
 * while events are off, and 503 when storage or the database failed, so that the store sends again.
 */
import type { Hono } from 'hono';
import { UpfrontError } from '../errors.ts';
import type { StorageHookJson } from '../http/schemas.ts';
import type { Env } from '../http/context.ts';
import type { Logger } from '../http/logging.ts';
import type { Services } from '../services.ts';
import { handleStorageEvents } from '../events/finalize.ts';
import { offeredSecrets, secretMatches } from '../events/hook-secret.ts';
import { NotAStorageEvent, storageEventRecords } from '../events/storage-event.ts';

export const STORAGE_HOOK_PATH = '/v1/hooks/storage';
/** An SQS batch of ten S3 events is a few dozen KiB; far more is no event. */
const MAX_EVENT_BODY = 1024 * 1024;

export function hookRoutes(app: Hono<Env>, services: Services, log: Logger): void {
  const counted = services.metrics.storageEvents;
  app.post(STORAGE_HOOK_PATH, async (c) => {
    const events = services.config.events;
    if (!events) throw new UpfrontError('not_found', 'Storage events are off on this API: set STORAGE_EVENTS_SECRET to take them (README, "Storage events").');
    if (!secretMatches(offeredSecrets(c.req.raw), events.secret)) {
      counted.inc({ outcome: 'unauthorized' });
      throw new UpfrontError('unauthorized', 'The storage hook takes events with its secret only: put STORAGE_EVENTS_SECRET in the push URL (?secret=), the x-upfront-hook-secret header or a bearer token.');
    }
    let records;
    try {
      // SNS sends text/plain, RGW application/json: the body is read as JSON whatever its type says.
      records = storageEventRecords(JSON.parse(await limitedText(c.req.raw)));
    } catch (error) {
      if (!(error instanceof SyntaxError || error instanceof NotAStorageEvent)) throw error;
      counted.inc({ outcome: 'malformed' });
      const what = error instanceof SyntaxError ? 'the body is not JSON' : error.message;
      throw new UpfrontError('invalid_request', `The storage hook takes S3 event notifications (S3, SNS, SQS or EventBridge JSON); ${what}.`);
    }
    const summaries = await handleStorageEvents(services, log, records, { reqId: c.get('requestId') });
    if (summaries.some((summary) => summary.outcome === 'failed')) {
      throw new UpfrontError('storage_unavailable', 'Storage or the database did not answer while an upload was finalized; send the event again.');
    }
    return c.json({ records: summaries } satisfies StorageHookJson);
  });
}

async function limitedText(request: Request): Promise<string> {
  if (Number(request.headers.get('content-length') ?? 0) > MAX_EVENT_BODY) throw tooLarge();
  const text = await request.text();
  if (text.length > MAX_EVENT_BODY) throw tooLarge();
  return text;
}

const tooLarge = () => new UpfrontError('payload_too_large', `A storage event is at most ${MAX_EVENT_BODY / 1024} KiB; send fewer records at once.`);
