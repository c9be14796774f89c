/**
 * Folder rules on Ceph RGW, on buckets of this test's own: `uploads/` of the public bucket write-only
 * and `page/` read-only, written by `upfront setup` as bucket policy. Storage itself enforces them: the
 * API's least-privilege credential writes uploads but cannot read them back, nor can anyone else but the
 * admin; anyone reads pages, and only the admin writes or deletes them. Doctor names rules that were
 * removed, and setup puts them back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DeleteObjectCommand, GetObjectCommand, PutBucketPolicyCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DEFAULT_BUCKET_SETTINGS, diagnose, runtimePolicy, setupBuckets, type BucketSettings } from '../../packages/server/src/buckets/index.ts';
import { defaultRoutes } from '../../packages/server/src/config.ts';
import { objectUrl } from '../../packages/server/src/storage/sigv4.ts';
import { createS3Client } from '../../packages/server/src/storage/s3-driver.ts';
import { deleteUserPolicy, putUserPolicy, type IamEndpoint } from '../../scripts/rgw/user-policy.ts';
import { freshBuckets, ORIGIN, removeBuckets } from '../support/buckets.ts';
import { rgwAdminConfig, rgwApiUser, rgwConfig } from '../support/rgw-env.ts';

const outcome = (sent: Promise<unknown>) => sent.then(() => 'allowed', (error: { name?: string }) => error.name ?? 'error');

describe('folder rules (Ceph RGW)', () => {
  const buckets = freshBuckets('folders');
  const { uid, principal } = rgwApiUser();
  const admin = rgwAdminConfig();
  const iam: IamEndpoint = { endpoint: admin.endpoint, region: admin.region, credentials: admin };
  const owner = createS3Client({ ...admin, buckets });
  const api = createS3Client({ ...rgwConfig(), buckets });
  const routes = [...defaultRoutes.values()];
  const settings: BucketSettings = {
    origins: [ORIGIN],
    ...DEFAULT_BUCKET_SETTINGS,
    apiPrincipal: principal,
    routes,
    folders: [
      { bucket: 'public', prefix: 'uploads/', access: 'write-only' },
      { bucket: 'public', prefix: 'page/', access: 'read-only' },
    ],
  };
  const anonymous = async (key: string) => {
    const answer = await fetch(objectUrl(admin.endpoint, buckets.public, key, admin.forcePathStyle));
    await answer.arrayBuffer();
    return answer.status;
  };
  const failing = async () => (await diagnose({ ...rgwConfig(), buckets }, settings, { admin })).filter((finding) => finding.status === 'fail').map((finding) => finding.check);

  before(async () => {
    const { changes } = await setupBuckets({ ...admin, buckets }, settings);
    assert.match(changes.find((change) => change.role === 'public' && change.setting === 'policy')!.summary, /deny anyone but arn:aws:iam:::user\/\S+ s3:GetObject, s3:GetObjectVersion on arn:aws:s3:::\S+\/uploads\/\*/);
    await putUserPolicy(iam, uid, 'folders-test', runtimePolicy({ buckets }, routes));
  });
  after(async () => {
    await deleteUserPolicy(iam, uid, 'folders-test');
    await removeBuckets(owner, Object.values(buckets));
    owner.destroy();
    api.destroy();
  });

  it('write-only: the API writes uploads, and only the admin reads them', async () => {
    assert.equal(await outcome(api.send(new PutObjectCommand({ Bucket: buckets.public, Key: 'uploads/a.txt', Body: 'a' }))), 'allowed');
    assert.equal(await outcome(api.send(new GetObjectCommand({ Bucket: buckets.public, Key: 'uploads/a.txt' }))), 'AccessDenied');
    assert.equal(await anonymous('uploads/a.txt'), 403);
    assert.equal(await outcome(owner.send(new GetObjectCommand({ Bucket: buckets.public, Key: 'uploads/a.txt' }))), 'allowed');
    // Elsewhere in the bucket nothing changed: the API reads, anyone reads.
    await api.send(new PutObjectCommand({ Bucket: buckets.public, Key: 'user/b.txt', Body: 'b' }));
    assert.equal(await outcome(api.send(new GetObjectCommand({ Bucket: buckets.public, Key: 'user/b.txt' }))), 'allowed');
    assert.equal(await anonymous('user/b.txt'), 200);
  });

  it('read-only: anyone reads pages, and only the admin writes or deletes them', async () => {
    assert.equal(await outcome(owner.send(new PutObjectCommand({ Bucket: buckets.public, Key: 'page/index.html', Body: '<h1>hi</h1>', ContentType: 'text/html' }))), 'allowed');
    assert.equal(await anonymous('page/index.html'), 200);
    assert.equal(await outcome(api.send(new GetObjectCommand({ Bucket: buckets.public, Key: 'page/index.html' }))), 'allowed');
    assert.equal(await outcome(api.send(new PutObjectCommand({ Bucket: buckets.public, Key: 'page/index.html', Body: 'defaced' }))), 'AccessDenied');
    assert.equal(await outcome(api.send(new PutObjectCommand({ Bucket: buckets.public, Key: 'page/new.html', Body: 'new' }))), 'AccessDenied');
    assert.equal(await outcome(api.send(new DeleteObjectCommand({ Bucket: buckets.public, Key: 'page/index.html' }))), 'AccessDenied');
    assert.equal(await outcome(owner.send(new PutObjectCommand({ Bucket: buckets.public, Key: 'page/index.html', Body: '<h1>v2</h1>' }))), 'allowed');
  });

  it('doctor passes; rules removed by hand are named, and setup puts them back', async () => {
    assert.deepEqual(await failing(), []);
    await owner.send(
      new PutBucketPolicyCommand({
        Bucket: buckets.public,
        Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'UpfrontPublicRead', Effect: 'Allow', Principal: '*', Action: ['s3:GetObject'], Resource: [`arn:aws:s3:::${buckets.public}/*`] }] }),
      }),
    );
    assert.equal(await anonymous('uploads/a.txt'), 200, 'without its rules, uploads are public');
    assert.deepEqual(await failing(), ['public policy']);
    await setupBuckets({ ...admin, buckets }, settings);
    assert.deepEqual(await failing(), []);
    assert.equal(await anonymous('uploads/a.txt'), 403);
  });
});
