/**
 * `upfront setup` against Ceph RGW, on buckets of its own: a fresh store gets every bucket and setting
 * (dry run first, which changes nothing), a second run has nothing to change, the settings work
 * (anonymous reads, CORS preflights), and each setting broken on its own is named by the plan and
 * repaired, leaving lifecycle rules that are not Upfront's alone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  GetBucketCorsCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketPolicyCommand,
  GetBucketVersioningCommand,
  HeadBucketCommand,
  PutBucketLifecycleConfigurationCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { DEFAULT_BUCKET_SETTINGS, setupBuckets, type BucketSettings } from '../../packages/server/src/buckets/index.ts';
import type { S3DriverConfig } from '../../packages/server/src/storage/s3-config.ts';
import { createS3Client } from '../../packages/server/src/storage/s3-driver.ts';
import { breakages, FOLDERS, freshBuckets, removeBuckets } from '../support/buckets.ts';
import { rgwAdminConfig } from '../support/rgw-env.ts';

import { ORIGIN } from '../support/buckets.ts';

const settings: BucketSettings = { origins: [ORIGIN, 'http://localhost:*'], ...DEFAULT_BUCKET_SETTINGS, folders: FOLDERS };

describe('upfront setup (Ceph RGW)', () => {
  let config: S3DriverConfig;
  let s3: S3Client;
  const buckets = freshBuckets('setup');
  /** What setup would change now, as `bucket setting` pairs. */
  const planned = async () => (await setupBuckets(config, settings, { dryRun: true })).changes.map((change) => `${change.role} ${change.setting}`);

  before(() => {
    config = { ...rgwAdminConfig(), buckets };
    s3 = createS3Client(config);
  });
  after(async () => {
    await removeBuckets(s3, Object.values(buckets));
    s3?.destroy();
  });

  it('on a fresh store: a dry run plans every bucket and setting and changes nothing; setup applies them; a second run has nothing to change', async () => {
    const dry = await setupBuckets(config, settings, { dryRun: true });
    assert.equal(dry.applied, false);
    assert.deepEqual(dry.changes.map((change) => `${change.role} ${change.setting}`), [
      'staging bucket',
      'staging cors',
      'staging lifecycle',
      'public bucket',
      'public policy',
      'public cors',
      'public versioning',
      'private bucket',
      'private versioning',
    ]);
    await assert.rejects(s3.send(new HeadBucketCommand({ Bucket: buckets.staging })), 'a dry run creates nothing');

    const done = await setupBuckets(config, settings);
    assert.equal(done.applied, true);
    assert.equal(done.changes.length, dry.changes.length);

    const cors = await s3.send(new GetBucketCorsCommand({ Bucket: buckets.staging }));
    assert.deepEqual(cors.CORSRules?.map((rule) => [rule.AllowedOrigins, [...(rule.AllowedMethods ?? [])].sort(), rule.ExposeHeaders]), [
      [[ORIGIN, 'http://localhost:*'], ['DELETE', 'GET', 'HEAD', 'POST', 'PUT'], ['ETag']],
    ]);
    const lifecycle = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: buckets.staging }));
    assert.deepEqual(
      lifecycle.Rules?.map((rule) => [rule.ID, rule.Expiration?.Days, rule.AbortIncompleteMultipartUpload?.DaysAfterInitiation]).sort(),
      [['upfront-abort-incomplete', undefined, 1], ['upfront-expire-staged', 1, undefined]],
    );
    for (const bucket of [buckets.public, buckets.private]) {
      assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status, 'Enabled', bucket);
    }
    assert.match((await s3.send(new GetBucketPolicyCommand({ Bucket: buckets.public }))).Policy ?? '', /s3:GetObject/);

    const again = await setupBuckets(config, settings);
    assert.deepEqual(again.changes, []);
    assert.equal(again.applied, false);
  });

  it('the settings work: anonymous GET of public served, of staging and private refused; CORS preflights from the origins allowed, from another refused', async () => {
    for (const bucket of [buckets.staging, buckets.public, buckets.private]) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'probe.txt', Body: 'probe' }));
    const anonymous = async (bucket: string) => (await fetch(`${config.endpoint}/${bucket}/probe.txt`)).status;
    assert.equal(await anonymous(buckets.public), 200);
    assert.equal(await anonymous(buckets.staging), 403);
    assert.equal(await anonymous(buckets.private), 403);

    const preflight = (bucket: string, origin: string, method: string, headers = '') =>
      fetch(`${config.endpoint}/${bucket}/probe.txt`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': method, ...(headers && { 'access-control-request-headers': headers }) },
      });
    for (const method of ['PUT', 'POST', 'GET', 'HEAD', 'DELETE']) {
      const answer = await preflight(buckets.staging, ORIGIN, method, method === 'PUT' ? 'content-type,content-md5' : '');
      assert.equal(answer.status, 200, `staging ${method}`);
      assert.equal(answer.headers.get('access-control-allow-origin'), ORIGIN);
    }
    assert.equal((await preflight(buckets.staging, 'http://localhost:5173', 'PUT', 'content-type')).status, 200, 'a wildcard origin');
    assert.equal((await preflight(buckets.staging, 'http://evil.example.test', 'PUT', 'content-type')).status, 403, 'another origin');
    assert.equal((await preflight(buckets.public, ORIGIN, 'GET')).status, 200);
    assert.equal((await preflight(buckets.public, ORIGIN, 'PUT')).status, 403, 'public takes no uploads from browsers');
  });

  for (const { what, setting: expected, damage } of breakages) {
    it(`repairs ${what}`, async () => {
      await damage(s3, buckets);
      assert.deepEqual(await planned(), [expected]);
      const repaired = await setupBuckets(config, settings);
      assert.deepEqual(repaired.changes.map((change) => `${change.role} ${change.setting}`), [expected]);
      assert.deepEqual(await planned(), [], 'nothing left to change');
    });
  }

  it('changes its own lifecycle rules and keeps the others', async () => {
    const rules = (await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: buckets.staging }))).Rules ?? [];
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: buckets.staging,
        LifecycleConfiguration: {
          Rules: [
            ...rules.filter((rule) => rule.ID !== 'upfront-expire-staged'),
            { ID: 'upfront-expire-staged', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 30 } },
            { ID: 'team-logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 7 } },
          ],
        },
      }),
    );
    assert.deepEqual(await planned(), ['staging lifecycle']);
    await setupBuckets(config, settings);
    const after = (await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: buckets.staging }))).Rules ?? [];
    assert.deepEqual(after.map((rule) => [rule.ID, rule.Expiration?.Days]).sort(), [['team-logs', 7], ['upfront-abort-incomplete', undefined], ['upfront-expire-staged', 1]]);
  });
  it('moves final files to a colder class as configured (setup checks the store has the class: RGW would take any name), and removes the rule when no longer configured', async () => {
    const cold = { ...settings, transitions: [{ days: 30, storageClass: 'COLD' }] };
    const plan = await setupBuckets(config, cold, { dryRun: true });
    assert.deepEqual(plan.changes.map((change) => `${change.role} ${change.setting}: ${change.summary}`), [
      'public lifecycle: set lifecycle: move objects to COLD after 30 days',
      'private lifecycle: set lifecycle: move objects to COLD after 30 days',
    ]);
    await setupBuckets(config, cold);
    for (const bucket of [buckets.public, buckets.private]) {
      const rules = (await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules ?? [];
      assert.deepEqual(rules.map((rule) => [rule.ID, rule.Transitions?.map((t) => [t.Days, t.StorageClass])]), [['upfront-transitions', [[30, 'COLD']]]]);
    }
    assert.deepEqual((await setupBuckets(config, cold, { dryRun: true })).changes, []);

    await assert.rejects(setupBuckets(config, { ...settings, transitions: [{ days: 30, storageClass: 'NO_SUCH_CLASS' }] }), (error: Error) =>
      /could not set lifecycle: move objects to NO_SUCH_CLASS after 30 days: InvalidArgument: the store has no storage class NO_SUCH_CLASS/.test(error.message),
    );

    assert.deepEqual(await planned(), ['public lifecycle', 'private lifecycle']);
    await setupBuckets(config, settings);
    assert.deepEqual(await planned(), []);
    await assert.rejects(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: buckets.public })), /NoSuchLifecycleConfiguration/);
  });
});
