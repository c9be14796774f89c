/**
 * Storage events in `upfront setup`: the staging bucket tells the API's hook (POST /v1/hooks/storage)
 * of every object created in it, so that an upload whose browser never called complete is finalized.
 * On Ceph RGW setup provisions it: a topic made with RGW's SNS API whose push endpoint is the hook's
 * URL with the secret, and the bucket's notification of s3:ObjectCreated:* to it. Elsewhere (AWS,
 * MinIO…) it says what to wire. One planned change, so a dry run shows it and doctor reports it missing.
 *
 * The topic is not persistent: RGW pushes while the upload's PUT waits (the hook finalizes first, so
 * the file is ready when the PUT answers; a hook that is down fails fast and the PUT still succeeds).
 * RGW 16.2's persistent queues stop delivering for good once the endpoint has refused connections (a
 * restart of the API is enough), which would silently end finalizing by events; what a down hook misses,
 * the sweeper finalizes.
 */
import { GetBucketNotificationConfigurationCommand, PutBucketNotificationConfigurationCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Provider } from '../storage/providers.ts';
import type { S3DriverConfig } from '../storage/s3-config.ts';
import { bucketUrl, uriEncode, type Credentials } from '../storage/sigv4.ts';
import type { Change } from './plan.ts';
import { signedFetch } from './signed-request.ts';
import { pushUrl, type EventsConfig } from '../events/config.ts';

export interface EventsSettings {
  /** The hook's URL with its secret (`?secret=`), from STORAGE_EVENTS_URL; absent when that is not set. */
  pushUrl?: string;
}

/** What setup needs of the events configuration: the URL to push to, when it is known. */
export const eventsSettings = (events: EventsConfig): EventsSettings => (events.url ? { pushUrl: pushUrl({ secret: events.secret, url: events.url }) } : {});

/** The id of Upfront's notification on the staging bucket. */
export const NOTIFICATION_ID = 'upfront-finalize';
const EVENT = 's3:ObjectCreated:*';

/** RGW's topics are shared by the whole tenant: one per staging bucket, named after it. */
export const topicName = (staging: string): string => `upfront-finalize-${staging.replace(/[^A-Za-z0-9_-]/g, '-')}`;

export interface NotificationState {
  /** The topic's push endpoint and whether it is persistent (it should not be); null when there is no such topic. */
  topic: { arn: string; endpoint: string; persistent: boolean } | null;
  /** The staging bucket's notification with Upfront's id, or null. */
  notification: { topicArn: string; events: string[] } | null;
}

/** The push URL as people may see it: the secret replaced. */
export function redactedPushUrl(pushUrl: string): string {
  const url = new URL(pushUrl);
  if (url.searchParams.has('secret')) url.searchParams.set('secret', '***');
  return url.href;
}

/** How setup reaches RGW's topic API and the bucket's notification settings. */
export interface NotificationClient {
  s3: S3Client;
  config: S3DriverConfig;
  credentials: Credentials;
}

export async function readNotifications({ s3, config, credentials }: NotificationClient): Promise<NotificationState> {
  const bucket = config.buckets.staging;
  const arn = topicArn(config);
  const [attributes, configuration] = await Promise.all([
    snsAction({ config, credentials }, { Action: 'GetTopicAttributes', TopicArn: arn }).catch((error: SnsError) => {
      if (error.code === 'NotFound' || error.status === 404) return undefined;
      throw error;
    }),
    // A bucket setup is about to create has no notification yet.
    s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket })).catch((error: { name?: string }) => {
      if (error.name === 'NoSuchBucket') return { TopicConfigurations: [] };
      throw error;
    }),
  ]);
  const endpoint = attributes && endpointOf(attributes);
  const ours = (configuration.TopicConfigurations ?? []).find((topic) => topic.Id === NOTIFICATION_ID);
  return {
    topic: endpoint ? { arn, ...endpoint } : null,
    notification: ours ? { topicArn: ours.TopicArn ?? '', events: ours.Events ?? [] } : null,
  };
}

/** The change that makes the store notify `pushUrl`, or none when it already does. */
export function planNotifications(bucket: string, pushUrl: string, state: NotificationState): Change[] {
  const { topic, notification } = state;
  const topicMatches = topic !== null && topic.endpoint === pushUrl && !topic.persistent;
  const notificationMatches = notification !== null && notification.topicArn === topic?.arn && notification.events.includes(EVENT);
  if (topicMatches && notificationMatches) return [];
  return [
    {
      bucket,
      role: 'staging',
      setting: 'notifications',
      summary: `notify ${redactedPushUrl(pushUrl)} of objects created (${EVENT}, through the topic ${topicName(bucket)}, as each is written)`,
    },
  ];
}

/**
 * Creates or updates the topic, then puts the bucket's notification again: RGW copies a topic's endpoint
 * into the notification when it is made, so a notification made before the topic changed would keep
 * pushing to the old URL.
 */
export async function applyNotifications({ s3, config, credentials }: NotificationClient, pushUrl: string): Promise<void> {
  const bucket = config.buckets.staging;
  const answer = await snsAction({ config, credentials }, {
    Action: 'CreateTopic',
    Name: topicName(bucket),
    'Attributes.entry.1.key': 'push-endpoint',
    'Attributes.entry.1.value': pushUrl,
    'Attributes.entry.2.key': 'persistent',
    'Attributes.entry.2.value': 'false',
  });
  const arn = xmlText(answer, 'TopicArn') ?? topicArn(config);
  const deleted = await signedFetch({
    method: 'DELETE',
    url: `${bucketUrl(config.endpoint, bucket, config.forcePathStyle)}?notification=${NOTIFICATION_ID}`,
    credentials,
    region: config.region,
    service: 's3',
  });
  await deleted.arrayBuffer();
  if (!deleted.ok && deleted.status !== 404) throw new SnsError(deleted.status, 'DeleteBucketNotification', `RGW answered ${deleted.status} to deleting the old notification`);
  await s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: { TopicConfigurations: [{ Id: NOTIFICATION_ID, TopicArn: arn, Events: [EVENT] }] } }));
}

/** What setup says where it does not provision events itself: how to wire the store to the hook. */
export function eventsWiring(provider: Provider, staging: string, events: EventsSettings): string {
  if (!events.pushUrl) {
    return 'STORAGE_EVENTS_SECRET is set but STORAGE_EVENTS_URL is not: set it to where the store reaches this API\'s hook (e.g. https://api.example.com/v1/hooks/storage) and run setup again, or uploads are finalized only by complete and the sweeper.';
  }
  const url = redactedPushUrl(events.pushUrl);
  if (provider === 'aws') {
    return (
      `Storage events are not provisioned on AWS: wire the ${staging} bucket's s3:ObjectCreated:* events to ${url} (the secret is STORAGE_EVENTS_SECRET), ` +
      'either through an SNS topic with an HTTPS subscription to that URL (confirm it by opening the SubscribeURL the API logs), ' +
      'or an SQS queue whose messages a Lambda POSTs there, or an EventBridge rule (source aws.s3, detail-type "Object Created") ' +
      'with an API destination that sends the secret as the x-upfront-hook-secret header. README, "Storage events".'
    );
  }
  return `Storage events are provisioned on Ceph RGW only: point ${provider}'s object-created notifications of the ${staging} bucket at ${url} (S3 event JSON), or uploads are finalized only by complete and the sweeper.`;
}

/** RGW names topics arn:aws:sns:<zonegroup>::<name>; its zonegroup is the region S3 signs in. */
const topicArn = (config: S3DriverConfig): string => `arn:aws:sns:${config.region}::${topicName(config.buckets.staging)}`;

export class SnsError extends Error {
  override name = 'SnsError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** One call of RGW's SNS-style API: a form POSTed to the endpoint's root, its XML answer as text. */
async function snsAction({ config, credentials }: Omit<NotificationClient, 's3'>, params: Record<string, string>): Promise<string> {
  const body = Object.entries(params).map(([name, value]) => `${uriEncode(name)}=${uriEncode(value)}`).join('&');
  const answer = await signedFetch({
    method: 'POST',
    url: `${config.endpoint.replace(/\/+$/, '')}/`,
    body,
    contentType: 'application/x-www-form-urlencoded',
    credentials,
    region: config.region,
    service: 'sns',
  });
  const text = await answer.text();
  if (answer.ok) return text;
  const code = xmlText(text, 'Code') ?? 'Unknown';
  throw new SnsError(answer.status, code, `${params.Action}: RGW answered ${answer.status} ${code}`);
}

/** The text of the first element of that name, entities decoded (RGW's answers are small and flat). */
function xmlText(xml: string, element: string): string | undefined {
  const match = new RegExp(`<${element}>([^<]*)</${element}>`).exec(xml);
  return match ? decodeEntities(match[1]!) : undefined;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const decodeEntities = (text: string): string => text.replace(/&(amp|lt|gt|quot|apos);/g, (_, name: string) => ENTITIES[name]!);

/** GetTopicAttributes' EndPoint attribute: JSON with the push endpoint's address and whether it is persistent. */
function endpointOf(answer: string): { endpoint: string; persistent: boolean } | undefined {
  const entry = /<entry><key>EndPoint<\/key><value>([^<]*)<\/value><\/entry>/.exec(answer);
  if (!entry) return undefined;
  try {
    const { EndpointAddress, Persistent } = JSON.parse(decodeEntities(entry[1]!)) as { EndpointAddress?: unknown; Persistent?: unknown };
    return typeof EndpointAddress === 'string' ? { endpoint: EndpointAddress, persistent: String(Persistent).toLowerCase() === 'true' } : undefined;
  } catch {
    return undefined;
  }
}
