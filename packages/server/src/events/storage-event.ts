/**
 * Storage event notifications, in every shape a store delivers them, read into one list of records:
 * S3's event JSON ({Records: [...]}, also what Ceph RGW's HTTP push sends), an SNS envelope around it
 * (Type Notification, the event as the Message string), SQS messages as a Lambda receives them
 * (Records[].body: an S3 event or an SNS envelope), SNS records as a Lambda receives them (Records[].Sns),
 * EventBridge's "Object Created" events, and S3's s3:TestEvent. Pure: no I/O, no trust (the hook checked the secret before).
 */

export type StorageEventRecord =
  | {
      kind: 'object-created';
      /** e.g. ObjectCreated:Put, ObjectCreated:Post, ObjectCreated:CompleteMultipartUpload (EventBridge: its reason). */
      name: string;
      bucket: string;
      /**
       * The object's key as the event gave it, and what it may stand for: S3 sends keys URL-encoded
       * ('+' for a space), Ceph RGW 16 sends them as they are, EventBridge's are not documented either
       * way. Every reading is a candidate; only a key an upload owns is acted on.
       */
      keys: string[];
      size?: number;
      etag?: string;
    }
  /** An event of another kind (a delete, a restore…): nothing to do. */
  | { kind: 'other'; name: string; bucket?: string; key?: string }
  /** S3's s3:TestEvent, sent when a notification configuration is saved. */
  | { kind: 'test'; bucket?: string }
  /** SNS asks the endpoint to confirm a subscription (opening SubscribeURL confirms it). */
  | { kind: 'subscription-confirmation'; topicArn: string; subscribeUrl: string }
  /** A record the parser does not understand (missing bucket or key): reported, not acted on. */
  | { kind: 'unreadable'; reason: string };

/** The body is JSON, but no storage event of a known shape. */
export class NotAStorageEvent extends Error {
  override name = 'NotAStorageEvent';
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** The records of a parsed JSON body; throws NotAStorageEvent for anything else. */
export function storageEventRecords(body: unknown): StorageEventRecord[] {
  if (!isObject(body)) throw new NotAStorageEvent('the body is not a JSON object');
  if (body.Event === 's3:TestEvent') return [{ kind: 'test', ...(text(body.Bucket) && { bucket: text(body.Bucket) }) }];
  if (typeof body.Type === 'string') return snsRecords(body);
  if (body.source === 'aws.s3' && typeof body['detail-type'] === 'string') return [eventBridgeRecord(body)];
  if (Array.isArray(body.Records)) return body.Records.flatMap(recordOf);
  throw new NotAStorageEvent('the body is neither an S3 event ({"Records": [...]}), an SNS message, nor an EventBridge event from aws.s3');
}

/** One entry of Records[]: an S3 event record, or an SQS message whose body is an event. */
function recordOf(record: unknown): StorageEventRecord[] {
  if (!isObject(record)) return [{ kind: 'unreadable', reason: 'a record that is not an object' }];
  // SNS invoking a Lambda: {"EventSource": "aws:sns", "Sns": {"Type": "Notification", "Message": …}}.
  if (record.EventSource === 'aws:sns' && isObject(record.Sns)) return lambdaSnsRecords(record.Sns);
  if (record.eventSource === 'aws:sqs' || (typeof record.body === 'string' && record.s3 === undefined)) return sqsRecords(record);
  return [s3Record(record)];
}

function s3Record(record: Json): StorageEventRecord {
  const name = text(record.eventName) ?? '';
  const s3 = isObject(record.s3) ? record.s3 : {};
  const bucket = isObject(s3.bucket) ? text(s3.bucket.name) : undefined;
  const object = isObject(s3.object) ? s3.object : {};
  const key = text(object.key);
  // RGW names its own records ceph:s3 and sends keys unencoded; AWS's are URL-encoded.
  const encoded = record.eventSource !== 'ceph:s3';
  return created(name.replace(/^s3:/, ''), bucket, key, encoded, object.size, text(object.eTag) ?? text(object.etag));
}

function eventBridgeRecord(event: Json): StorageEventRecord {
  const detail = isObject(event.detail) ? event.detail : {};
  const bucket = isObject(detail.bucket) ? text(detail.bucket.name) : undefined;
  const object = isObject(detail.object) ? detail.object : {};
  const name = event['detail-type'] === 'Object Created' ? `ObjectCreated:${text(detail.reason) ?? ''}` : String(event['detail-type']);
  return created(name, bucket, text(object.key), true, object.size, text(object.etag));
}

function created(name: string, bucket: string | undefined, key: string | undefined, encoded: boolean, size: unknown, etag: string | undefined): StorageEventRecord {
  if (!name.startsWith('ObjectCreated:')) return { kind: 'other', name, ...(bucket && { bucket }), ...(key !== undefined && { key }) };
  if (!bucket || !key) return { kind: 'unreadable', reason: `an ${name} record without ${bucket ? 'an object key' : 'a bucket name'}` };
  return {
    kind: 'object-created',
    name,
    bucket,
    keys: encoded ? keyReadings(key) : [key],
    ...(typeof size === 'number' && Number.isSafeInteger(size) && size >= 0 && { size }),
    ...(etag && { etag: etag.replace(/"/g, '') }),
  };
}

/** The key as given and, when it decodes, as S3's URL encoding ('+' for a space, %XX) stands for. */
function keyReadings(key: string): string[] {
  let decoded: string | undefined;
  try {
    decoded = decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    // A '%' not followed by two hex digits: the key was not encoded.
  }
  return decoded === undefined || decoded === key ? [key] : [decoded, key];
}

/** An SNS message: a notification carries the event as its Message; a subscription asks for confirmation. */
function snsRecords(envelope: Json): StorageEventRecord[] {
  switch (envelope.Type) {
    case 'Notification': {
      const message = text(envelope.Message);
      if (message === undefined) throw new NotAStorageEvent('an SNS notification without a Message');
      return storageEventRecords(parseEmbedded(message, 'the SNS Message'));
    }
    case 'SubscriptionConfirmation': {
      const [topicArn, subscribeUrl] = [text(envelope.TopicArn), text(envelope.SubscribeURL)];
      if (!topicArn || !subscribeUrl) throw new NotAStorageEvent('an SNS subscription confirmation without TopicArn or SubscribeURL');
      return [{ kind: 'subscription-confirmation', topicArn, subscribeUrl }];
    }
    case 'UnsubscribeConfirmation':
      return [{ kind: 'other', name: 'UnsubscribeConfirmation' }];
    default:
      throw new NotAStorageEvent(`an SNS message of type ${JSON.stringify(envelope.Type)}`);
  }
}

/** An SQS message (as Lambda receives it): its body is an S3 event or an SNS envelope. */
function sqsRecords(message: Json): StorageEventRecord[] {
  const body = text(message.body);
  if (body === undefined) return [{ kind: 'unreadable', reason: 'an SQS message without a body' }];
  try {
    return storageEventRecords(parseEmbedded(body, 'the SQS message body'));
  } catch (error) {
    if (error instanceof NotAStorageEvent) return [{ kind: 'unreadable', reason: `an SQS message: ${error.message}` }];
    throw error;
  }
}

function lambdaSnsRecords(envelope: Json): StorageEventRecord[] {
  try {
    return snsRecords(envelope);
  } catch (error) {
    if (error instanceof NotAStorageEvent) return [{ kind: 'unreadable', reason: `an SNS record: ${error.message}` }];
    throw error;
  }
}

function parseEmbedded(json: string, what: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    throw new NotAStorageEvent(`${what} is not JSON`);
  }
}
