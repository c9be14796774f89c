/** Removes what `upfront setup` provisions for storage events on RGW: the staging bucket's notification and its topic. */
import { NOTIFICATION_ID, topicName } from '../../packages/server/src/buckets/notifications.ts';
import { signedFetch } from '../../packages/server/src/buckets/signed-request.ts';
import type { S3DriverConfig } from '../../packages/server/src/storage/s3-config.ts';

export async function removeStorageEvents(config: S3DriverConfig): Promise<void> {
  const { endpoint, region, buckets } = config;
  const credentials = { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey };
  const notification = await signedFetch({ method: 'DELETE', url: `${endpoint}/${buckets.staging}?notification=${NOTIFICATION_ID}`, credentials, region, service: 's3' });
  await notification.arrayBuffer();
  const arn = encodeURIComponent(`arn:aws:sns:${region}::${topicName(buckets.staging)}`);
  const topic = await signedFetch({ method: 'POST', url: `${endpoint}/`, body: `Action=DeleteTopic&TopicArn=${arn}`, contentType: 'application/x-www-form-urlencoded', credentials, region, service: 'sns' });
  await topic.arrayBuffer();
}
