/**
 * Provider profiles on a real store (Ceph RGW): doctor detects RGW as ceph from its answers and says so;
 * the AWS profile's Block Public Access is planned, applied and then stable (RGW implements it), with
 * public files still readable by anyone and the others not; the MinIO profile plans no abort rule and
 * says how to set MinIO's own; and with S3_PROVIDER=r2 a route that asks for POST answers a presigned
 * PUT, which stores the file.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetPublicAccessBlockCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DEFAULT_BUCKET_SETTINGS, diagnose, setupBuckets, type BucketSettings } from '../../packages/server/src/buckets/index.ts';
import type { S3DriverConfig } from '../../packages/server/src/storage/s3-config.ts';
import { createS3Client } from '../../packages/server/src/storage/s3-driver.ts';
import { freshBuckets, ORIGIN, removeBuckets } from '../support/buckets.ts';
import { rgwAdminConfig } from '../support/rgw-env.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const settings: BucketSettings = { origins: [ORIGIN], ...DEFAULT_BUCKET_SETTINGS };

describe('provider profiles (Ceph RGW)', () => {
  let config: S3DriverConfig;
  let s3: S3Client;
  /** Buckets of its own (no site bucket), so made and checked with the admin credential, their owner's. */
  const three = ({ staging, public: pub, private: priv }: ReturnType<typeof freshBuckets>) => ({ staging, public: pub, private: priv });
  const buckets = three(freshBuckets('provider'));
  const aws = three(freshBuckets('provider-aws'));

  before(() => {
    config = { ...rgwAdminConfig(), buckets };
    s3 = createS3Client(config);
  });
  after(async () => {
    await removeBuckets(s3, [...Object.values(buckets), ...Object.values(aws)]);
    s3?.destroy();
  });

  it('doctor detects RGW as ceph from its answers, reports it, and every check passes', async () => {
    const setup = await setupBuckets(config, settings);
    assert.deepEqual([setup.provider.provider, setup.provider.source], ['ceph', 'answer']);
    const findings = await diagnose(config, settings);
    assert.deepEqual(findings.find((finding) => finding.check === 'provider'), { check: 'provider', status: 'ok', detail: "ceph (detected from the store's answers)" });
    assert.deepEqual(findings.filter((finding) => finding.status !== 'ok'), []);
    const configured = await diagnose({ ...config, provider: 'ceph' }, settings);
    assert.equal(configured.find((finding) => finding.check === 'provider')?.detail, 'ceph (configured)');
    const wrong = await diagnose({ ...config, provider: 'r2' }, settings);
    assert.deepEqual(wrong.find((finding) => finding.check === 'provider'), {
      check: 'provider',
      status: 'warn',
      detail: "r2 (configured), but the store looks like ceph (its answers)",
      fix: 'set S3_PROVIDER=ceph, or leave it unset to detect it',
    });
  });

  it('the AWS profile: setup adds Block Public Access (all but the public read policy on public) and nothing else, then has nothing to change; reads stay as they were', async () => {
    // Buckets set up (and probes written) first under RGW's own profile: RGW 16 refuses every PutObject
    // while BlockPublicAcls is on, which AWS does not (so the AWS profile is for AWS only).
    const onRgw: S3DriverConfig = { ...config, buckets: aws };
    await setupBuckets(onRgw, settings);
    for (const bucket of Object.values(aws)) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'probe.txt', Body: 'probe' }));

    const onAws: S3DriverConfig = { ...onRgw, provider: 'aws' };
    const first = await setupBuckets(onAws, settings);
    assert.equal(first.provider.provider, 'aws');
    assert.deepEqual(first.changes.map((change) => `${change.role} ${change.setting}`), ['staging public-access', 'public public-access', 'private public-access']);
    const block = async (bucket: string) => (await s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket }))).PublicAccessBlockConfiguration;
    const all = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };
    assert.deepEqual(await block(aws.staging), all);
    assert.deepEqual(await block(aws.private), all);
    assert.deepEqual(await block(aws.public), { ...all, BlockPublicPolicy: false, RestrictPublicBuckets: false });
    assert.deepEqual((await setupBuckets(onAws, settings)).changes, [], 'a second run has nothing to change');

    const anonymous = async (bucket: string) => (await fetch(`${config.endpoint}/${bucket}/probe.txt`)).status;
    assert.deepEqual([await anonymous(aws.public), await anonymous(aws.staging), await anonymous(aws.private)], [200, 403, 403]);
  });

  it('the MinIO profile: no abort rule planned on staging, and setup says how to set MinIO\'s stale-upload expiry instead', async () => {
    const plan = await setupBuckets({ ...config, provider: 'minio', buckets: three(freshBuckets('provider-minio')) }, { ...settings, abortIncompleteDays: 2 }, { dryRun: true });
    const lifecycle = plan.changes.find((change) => change.role === 'staging' && change.setting === 'lifecycle');
    assert.equal(lifecycle?.summary, 'set lifecycle: expire objects after 1 day');
    assert.ok(plan.warnings.some((warning) => warning.includes('`mc admin config set ALIAS api stale_uploads_expiry=48h`')), plan.warnings.join('\n'));
  });

  describe('S3_PROVIDER=r2', () => {
    let server: TestServer;
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n');
    before(async () => {
      server = await startTestServer({ driver: 's3', env: { S3_PROVIDER: 'r2' } });
    });
    after(() => server?.close());

    it('a route with strategy "post" is listed and answered as a presigned PUT, and the file arrives through it', async () => {
      const listed = (await (await server.api('/v1/routes')).json()) as { routes: { name: string; strategy: string }[] };
      assert.equal(listed.routes.find((route) => route.name === 'document')?.strategy, 'put');
      const token = await server.token('alice');
      const created = await server.api('/v1/uploads', { token, json: { route: 'document', filename: 'a.pdf', contentType: 'application/pdf', size: pdf.length } });
      assert.equal(created.status, 201, await created.clone().text());
      const upload = (await created.json()) as { id: string; strategy: string; put?: { method: string; url: string; headers: Record<string, string> }; post?: unknown };
      assert.equal(upload.strategy, 'put');
      assert.equal(upload.put?.method, 'PUT');
      assert.equal(upload.post, undefined);
      const sent = await fetch(upload.put!.url, { method: 'PUT', headers: upload.put!.headers, body: pdf });
      assert.equal(sent.status, 200, await sent.text());
      const completed = await server.api(`/v1/uploads/${upload.id}/complete`, { token, method: 'POST' });
      assert.equal(completed.status, 200, await completed.clone().text());
    });
  });
});
