/**
 * The storage hook's pieces on their own: the event parser on fixtures of every delivery shape (Ceph
 * RGW's push as captured from RGW 16.2, S3's own, SNS, SQS through Lambda, EventBridge, s3:TestEvent),
 * the secret check, the events configuration, and what setup plans or says for each store.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventsWiring, planNotifications, redactedPushUrl, topicName, type NotificationState } from '../../packages/server/src/buckets/notifications.ts';
import { ConfigError, loadConfig } from '../../packages/server/src/config.ts';
import { configSecrets, scrub } from '../../packages/server/src/http/logging.ts';
import { parseEventsConfig, pushUrl } from '../../packages/server/src/events/config.ts';
import { offeredSecrets, secretMatches } from '../../packages/server/src/events/hook-secret.ts';
import { NotAStorageEvent, storageEventRecords } from '../../packages/server/src/events/storage-event.ts';

/** As RGW 16.2's HTTP push sent it (keys are not URL-encoded). */
const rgwPush = {
  Records: [
    {
      eventVersion: '2.2',
      eventSource: 'ceph:s3',
      awsRegion: '',
      eventTime: '2026-12-07T04:39:41.303067Z',
      eventName: 'ObjectCreated:Put',
      userIdentity: { principalId: 'upfront-api' },
      requestParameters: { sourceIPAddress: '' },
      responseElements: { 'x-amz-request-id': '90789428.4140.9487683044673145013', 'x-amz-id-2': '102c-default-default' },
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: 'upfront-finalize',
        bucket: { name: 'upfront-staging', ownerIdentity: { principalId: 'upfront' }, arn: 'arn:aws:s3:::upfront-staging', id: '90789428.4142.1' },
        object: { key: 'alice/a b+c%.txt', size: 5, eTag: '5d41402abc4b2a76b9719d911017c592', versionId: '', sequencer: '8D38166BD42E2312', metadata: [], tags: [] },
      },
      eventId: '1796618381.304295.5d41402abc4b2a76b9719d911017c592',
      opaqueData: '',
    },
  ],
};

/** S3's own: the key URL-encoded, '+' for a space. */
const s3Event = {
  Records: [
    {
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'eu-west-1',
      eventName: 'ObjectCreated:Post',
      s3: { bucket: { name: 'upfront-staging' }, object: { key: 'alice/my+photo%C3%A9.png', size: 1024, eTag: '"0123abcd"' } },
    },
    { eventSource: 'aws:s3', eventName: 'ObjectRemoved:Delete', s3: { bucket: { name: 'upfront-staging' }, object: { key: 'alice/gone.png' } } },
  ],
};

const sns = (message: unknown) => ({ Type: 'Notification', MessageId: 'm-1', TopicArn: 'arn:aws:sns:eu-west-1:111122223333:uploads', Message: JSON.stringify(message) });

const eventBridge = {
  version: '0',
  id: '17793124-05d4-b198-2fde-7ededc63b103',
  'detail-type': 'Object Created',
  source: 'aws.s3',
  account: '111122223333',
  region: 'eu-west-1',
  resources: ['arn:aws:s3:::upfront-staging'],
  detail: { version: '0', bucket: { name: 'upfront-staging' }, object: { key: 'alice/x.png', size: 7, etag: 'abc' }, reason: 'PutObject' },
};

const testEvent = { Service: 'Amazon S3', Event: 's3:TestEvent', Time: '2026-12-07T04:00:00.000Z', Bucket: 'upfront-staging', RequestId: 'R', HostId: 'H' };

describe('storage event parser', () => {
  it('reads RGW\'s push: the key as it is', () => {
    assert.deepEqual(storageEventRecords(rgwPush), [
      { kind: 'object-created', name: 'ObjectCreated:Put', bucket: 'upfront-staging', keys: ['alice/a b+c%.txt'], size: 5, etag: '5d41402abc4b2a76b9719d911017c592' },
    ]);
  });

  it('reads S3\'s event: the key decoded (and as given), quotes off the ETag; other events are "other"', () => {
    assert.deepEqual(storageEventRecords(s3Event), [
      { kind: 'object-created', name: 'ObjectCreated:Post', bucket: 'upfront-staging', keys: ['alice/my photoé.png', 'alice/my+photo%C3%A9.png'], size: 1024, etag: '0123abcd' },
      { kind: 'other', name: 'ObjectRemoved:Delete', bucket: 'upfront-staging', key: 'alice/gone.png' },
    ]);
  });

  it('unwraps an SNS notification, and reports a subscription confirmation without acting on it', () => {
    assert.deepEqual(storageEventRecords(sns(s3Event)), storageEventRecords(s3Event));
    assert.deepEqual(storageEventRecords(sns(testEvent)), [{ kind: 'test', bucket: 'upfront-staging' }]);
    assert.deepEqual(
      storageEventRecords({ Type: 'SubscriptionConfirmation', TopicArn: 'arn:aws:sns:eu-west-1:111122223333:uploads', SubscribeURL: 'https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=t', Token: 't' }),
      [{ kind: 'subscription-confirmation', topicArn: 'arn:aws:sns:eu-west-1:111122223333:uploads', subscribeUrl: 'https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=t' }],
    );
  });

  it('unwraps SQS messages as Lambda gets them: an S3 event or an SNS envelope in each body', () => {
    const sqs = {
      Records: [
        { messageId: '1', eventSource: 'aws:sqs', body: JSON.stringify(rgwPush) },
        { messageId: '2', eventSource: 'aws:sqs', body: JSON.stringify(sns(eventBridge)) },
        { messageId: '3', eventSource: 'aws:sqs', body: 'not json' },
      ],
    };
    const records = storageEventRecords(sqs);
    assert.deepEqual(records.slice(0, 2), [...storageEventRecords(rgwPush), ...storageEventRecords(eventBridge)]);
    assert.equal(records[2]!.kind, 'unreadable');
  });

  it('reads EventBridge\'s Object Created', () => {
    assert.deepEqual(storageEventRecords(eventBridge), [{ kind: 'object-created', name: 'ObjectCreated:PutObject', bucket: 'upfront-staging', keys: ['alice/x.png'], size: 7, etag: 'abc' }]);
    assert.equal(storageEventRecords({ ...eventBridge, 'detail-type': 'Object Deleted' })[0]!.kind, 'other');
  });

  it('reads s3:TestEvent', () => {
    assert.deepEqual(storageEventRecords(testEvent), [{ kind: 'test', bucket: 'upfront-staging' }]);
  });

  it('reports a record without bucket or key as unreadable, and refuses what is no event', () => {
    assert.deepEqual(storageEventRecords({ Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' } } }, 42] }), [
      { kind: 'unreadable', reason: 'an ObjectCreated:Put record without an object key' },
      { kind: 'unreadable', reason: 'a record that is not an object' },
    ]);
    for (const body of [null, [], 'text', { hello: 'world' }, { Type: 'Notification', Message: '{' }, { Type: 'Notification' }, { Type: 'Other' }]) {
      assert.throws(() => storageEventRecords(body), NotAStorageEvent, JSON.stringify(body));
    }
  });
});

describe('storage hook secret', () => {
  const secret = 'a'.repeat(32);
  const request = (url: string, headers: Record<string, string> = {}) => new Request(url, { method: 'POST', headers });
  it('is taken from ?secret=, x-upfront-hook-secret or a bearer token, and compared exactly', () => {
    assert.ok(secretMatches(offeredSecrets(request(`http://api/v1/hooks/storage?secret=${secret}`)), secret));
    assert.ok(secretMatches(offeredSecrets(request('http://api/h', { 'x-upfront-hook-secret': secret })), secret));
    assert.ok(secretMatches(offeredSecrets(request('http://api/h', { authorization: `Bearer ${secret}` })), secret));
    assert.ok(secretMatches(offeredSecrets(request('http://api/h?secret=wrong', { authorization: `Bearer ${secret}` })), secret), 'any offered secret may match');
    for (const wrong of ['', 'a', secret.slice(1), `${secret}a`, secret.toUpperCase()]) {
      assert.equal(secretMatches(offeredSecrets(request(`http://api/h?secret=${wrong}`)), secret), false, wrong);
    }
    assert.equal(secretMatches([], secret), false);
  });
});

describe('events configuration', () => {
  const secret = '0123456789abcdef0123456789abcdef';
  it('is off without a secret; takes the URL without a query; refuses secrets that do not fit in a URL', () => {
    assert.equal(parseEventsConfig(undefined, {}), undefined);
    assert.deepEqual(parseEventsConfig(undefined, { STORAGE_EVENTS_SECRET: secret }), { secret });
    assert.deepEqual(parseEventsConfig({ url: 'https://api.example.com/v1/hooks/storage' }, { STORAGE_EVENTS_SECRET: secret }), { secret, url: 'https://api.example.com/v1/hooks/storage' });
    assert.throws(() => parseEventsConfig(undefined, { STORAGE_EVENTS_URL: 'https://api.example.com/v1/hooks/storage' }), ConfigError);
    for (const bad of ['short', 'a+b/c='.repeat(8)]) assert.throws(() => parseEventsConfig(undefined, { STORAGE_EVENTS_SECRET: bad }), ConfigError);
    assert.throws(() => parseEventsConfig(undefined, { STORAGE_EVENTS_SECRET: secret, STORAGE_EVENTS_URL: 'https://api.example.com/h?x=1' }), ConfigError);
    assert.equal(pushUrl({ secret, url: 'https://api.example.com/v1/hooks/storage' }), `https://api.example.com/v1/hooks/storage?secret=${secret}`);
  });

  it('keeps the secret out of the logs', () => {
    const config = loadConfig({ env: { AUTH_DEV_ISSUER: 'true', STORAGE_EVENTS_SECRET: secret, UPFRONT_DATA_DIR: '/tmp/unused' }, mode: 'dev', file: 'upfront.config.json' });
    assert.deepEqual(config.events, { secret });
    const line = scrub(`{"url":"http://api/v1/hooks/storage?secret=${secret}","header":"${secret}"}`, configSecrets(config));
    assert.ok(!line.includes(secret), line);
  });
});

describe('storage events in setup', () => {
  const push = 'https://api.example.com/v1/hooks/storage?secret=0123456789abcdef0123456789abcdef';
  const arn = 'arn:aws:sns:default::upfront-finalize-upfront-staging';
  const provisioned: NotificationState = { topic: { arn, endpoint: push, persistent: false }, notification: { topicArn: arn, events: ['s3:ObjectCreated:*'] } };

  it('plans one change until the topic pushes to the URL (not queued: RGW 16.2\'s queues stall) and the bucket notifies it', () => {
    assert.deepEqual(planNotifications('upfront-staging', push, provisioned), []);
    for (const state of [
      { topic: null, notification: null },
      { ...provisioned, topic: { ...provisioned.topic!, endpoint: 'https://old.example.com/v1/hooks/storage?secret=x' } },
      { ...provisioned, topic: { ...provisioned.topic!, persistent: true } },
      { ...provisioned, notification: null },
      { ...provisioned, notification: { topicArn: arn, events: ['s3:ObjectRemoved:*'] } },
    ]) {
      const changes = planNotifications('upfront-staging', push, state);
      assert.deepEqual(changes.map((change) => `${change.role} ${change.setting}`), ['staging notifications'], JSON.stringify(state));
      assert.ok(!changes[0]!.summary.includes('0123456789abcdef'), 'the secret is never shown');
    }
    assert.equal(redactedPushUrl(push), 'https://api.example.com/v1/hooks/storage?secret=***');
    assert.equal(topicName('my.staging'), 'upfront-finalize-my-staging');
  });

  it('says what to wire on AWS and other stores, without the secret', () => {
    const aws = eventsWiring('aws', 'upfront-staging', { pushUrl: push });
    for (const words of ['SNS', 'SQS', 'EventBridge', 'x-upfront-hook-secret', 'secret=***']) assert.ok(aws.includes(words), words);
    assert.match(eventsWiring('minio', 'upfront-staging', { pushUrl: push }), /Ceph RGW only/);
    assert.match(eventsWiring('aws', 'upfront-staging', {}), /STORAGE_EVENTS_URL is not/);
    for (const text of [aws, eventsWiring('minio', 'upfront-staging', { pushUrl: push })]) assert.ok(!text.includes('0123456789abcdef'));
  });
});
