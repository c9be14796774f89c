/**
 * The API's credential on Ceph RGW is a user with only the runtime policy `upfront policy` prints
 * (scripts/rgw/start.sh makes it, provision.ts attaches it; the whole suite runs the API with it). Here:
 * what the API does works with it (the sweeper's listings of its own buckets included), and everything
 * wider is refused: another bucket (listing it too), creating or deleting buckets, bucket policies and
 * CORS. Then the full
 * production arrangement on buckets of this test's own: setup with the admin credential, the API's user
 * granted this configuration's policy, and doctor finds nothing failing with the two.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  ListPartsCommand,
  AbortMultipartUploadCommand,
  PutBucketCorsCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { DEFAULT_BUCKET_SETTINGS, diagnose, runtimePolicy, setupBuckets, type BucketSettings } from '../../packages/server/src/buckets/index.ts';
import { defaultRoutes } from '../../packages/server/src/config.ts';
import { createS3Client, createS3Driver } from '../../packages/server/src/storage/s3-driver.ts';
import { deleteUserPolicy, putUserPolicy, type IamEndpoint } from '../../scripts/rgw/user-policy.ts';
import { freshBuckets, ORIGIN, removeBuckets } from '../support/buckets.ts';
import { rgwAdminConfig, rgwApiUser, rgwConfig } from '../support/rgw-env.ts';

/** The S3 error name of a refusal, or 'allowed'. */
const outcome = (sent: Promise<unknown>) => sent.then(() => 'allowed', (error: { name?: string }) => error.name ?? 'error');

describe('the API credential (least privilege, Ceph RGW)', () => {
  const config = rgwConfig();
  const api = createS3Client(config);
  const owner = createS3Client(rgwAdminConfig());
  const driver = createS3Driver(config);
  const run = `least-privilege/${randomUUID()}`;
  const other = `lp-other-${randomUUID().slice(0, 8)}`;

  before(async () => {
    await owner.send(new CreateBucketCommand({ Bucket: other }));
    await owner.send(new PutObjectCommand({ Bucket: other, Key: 'file.txt', Body: 'other' }));
  });
  after(async () => {
    await owner.send(new DeleteObjectCommand({ Bucket: other, Key: 'file.txt' }));
    await owner.send(new DeleteBucketCommand({ Bucket: other }));
    api.destroy();
    owner.destroy();
  });

  it('does what the API does: presigned PUT and POST, read, copy to the final buckets, signed GET, multipart, versions, listings, delete', async () => {
    const key = `${run}/photo.txt`;
    const put = await driver.presignPut({ key, contentType: 'text/plain', contentLength: 5, expiresIn: 60 });
    assert.equal((await fetch(put.url, { method: 'PUT', headers: put.headers, body: 'hello' })).status, 200);
    const post = await driver.presignPost({ key: `${run}/form.txt`, contentType: 'text/plain', maxSize: 100, expiresIn: 60 });
    const form = new FormData();
    for (const [name, value] of Object.entries(post.fields)) form.append(name, value);
    form.append('file', new Blob(['form'], { type: 'text/plain' }));
    assert.equal((await fetch(post.url, { method: 'POST', body: form })).status, 204);
    assert.equal((await driver.readStart('staging', key, 5))?.head.size, 5);
    for (const bucket of ['public', 'private'] as const) {
      await driver.copy({ bucket: 'staging', key }, { bucket, key }, { contentType: 'text/plain' });
      assert.equal((await driver.head(bucket, key))?.size, 5);
    }
    const signed = await fetch(await driver.presignGet('private', key, { expiresIn: 60 }));
    assert.equal(await signed.text(), 'hello');
    const versions = await api.send(new ListObjectVersionsCommand({ Bucket: config.buckets.public, Prefix: key }));
    assert.equal(versions.Versions?.length, 1);
    const uploadId = await driver.createMultipart(`${run}/big.bin`, 'application/octet-stream');
    assert.deepEqual(await driver.listParts(`${run}/big.bin`, uploadId), []);
    // The sweeper's listings: objects of the three buckets, staging's multipart uploads.
    assert.deepEqual((await driver.listMultipartUploads(run)).map((upload) => upload.uploadId), [uploadId]);
    await driver.abortMultipart(`${run}/big.bin`, uploadId);
    assert.deepEqual((await driver.list('staging', { prefix: `${run}/` })).objects.map((object) => object.key), [`${run}/form.txt`, key]);
    for (const bucket of ['public', 'private'] as const) assert.deepEqual((await driver.list(bucket, { prefix: `${run}/` })).objects.map((object) => object.key), [key]);
    for (const bucket of ['staging', 'public', 'private'] as const) await driver.delete(bucket, key);
    await driver.delete('staging', `${run}/form.txt`);
    assert.equal(await driver.head('staging', key), null, 'a missing key reads as missing (404, with s3:ListBucket)');
    assert.equal(await driver.readStart('private', key, 10), null);
  });

  it('is refused anything wider', async () => {
    const { staging, public: publicBucket } = config.buckets;
    const refused = {
      'read another bucket': await outcome(api.send(new GetObjectCommand({ Bucket: other, Key: 'file.txt' }))),
      'write another bucket': await outcome(api.send(new PutObjectCommand({ Bucket: other, Key: 'mine.txt', Body: 'x' }))),
      'create a bucket': await outcome(api.send(new CreateBucketCommand({ Bucket: `lp-new-${randomUUID().slice(0, 8)}` }))),
      'delete the staging bucket': await outcome(api.send(new DeleteBucketCommand({ Bucket: staging }))),
      'set a bucket policy': await outcome(api.send(new PutBucketPolicyCommand({ Bucket: publicBucket, Policy: '{"Version":"2012-10-17","Statement":[]}' }))),
      'remove a bucket policy': await outcome(api.send(new DeleteBucketPolicyCommand({ Bucket: publicBucket }))),
      'set CORS': await outcome(api.send(new PutBucketCorsCommand({ Bucket: staging, CORSConfiguration: { CORSRules: [{ AllowedMethods: ['GET'], AllowedOrigins: ['*'] }] } }))),
      'list another bucket': await outcome(api.send(new ListObjectsV2Command({ Bucket: other }))),
      "list another bucket's multipart uploads": await outcome(api.send(new ListMultipartUploadsCommand({ Bucket: other }))),
      "list another bucket's versions": await outcome(api.send(new ListObjectVersionsCommand({ Bucket: other }))),
    };
    assert.deepEqual(refused, Object.fromEntries(Object.keys(refused).map((what) => [what, 'AccessDenied'])));

    // Nor does it copy or upload in parts into another bucket (from a source that exists: with s3:ListBucket,
    // storage answers a missing source NoSuchKey before it looks at the target).
    const source = `${run}/source.txt`;
    const put = await driver.presignPut({ key: source, contentType: 'text/plain', contentLength: 1, expiresIn: 60 });
    assert.equal((await fetch(put.url, { method: 'PUT', headers: put.headers, body: 'x' })).status, 200);
    assert.equal(await outcome(api.send(new CopyObjectCommand({ Bucket: other, Key: 'copied.txt', CopySource: `${staging}/${source}` }))), 'AccessDenied');
    await driver.delete('staging', source);
    assert.equal(await outcome(api.send(new CreateMultipartUploadCommand({ Bucket: other, Key: 'big.bin' }))), 'AccessDenied');
    assert.equal(await outcome(api.send(new ListPartsCommand({ Bucket: other, Key: 'big.bin', UploadId: 'x' }))), 'AccessDenied');
    assert.equal(await outcome(api.send(new AbortMultipartUploadCommand({ Bucket: other, Key: 'big.bin', UploadId: 'x' }))), 'AccessDenied');
  });
});

describe('setup with the admin credential, the API with the least-privilege one: doctor finds nothing failing (Ceph RGW)', () => {
  const buckets = freshBuckets('lp');
  const { uid, principal } = rgwApiUser();
  const admin = rgwAdminConfig();
  const iam: IamEndpoint = { endpoint: admin.endpoint, region: admin.region, credentials: admin };
  const owner = createS3Client({ ...admin, buckets });
  const routes = [...defaultRoutes.values()];
  const settings: BucketSettings = { origins: [ORIGIN], ...DEFAULT_BUCKET_SETTINGS, apiPrincipal: principal, routes };

  before(async () => {
    await setupBuckets({ ...admin, buckets }, settings);
    // The API's user gets this configuration's policy beside the suite's (policies of one user add up).
    await putUserPolicy(iam, uid, 'least-privilege-test', runtimePolicy({ buckets }, routes));
  });
  after(async () => {
    await deleteUserPolicy(iam, uid, 'least-privilege-test');
    await removeBuckets(owner, Object.values(buckets));
    owner.destroy();
  });

  it('every check passes', async () => {
    const findings = await diagnose({ ...rgwConfig(), buckets }, settings, { admin });
    assert.deepEqual(findings.filter((finding) => finding.status !== 'ok'), []);
    assert.ok(findings.some((finding) => finding.check === 'presigned PUT'));
    assert.ok(findings.some((finding) => finding.check === 'sweeper listing'), 'the sweeper\'s listings are checked, and pass');
  });
});
