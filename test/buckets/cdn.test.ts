/**
 * CDN-ready reads. The public bucket's policy for each way a bucket can know its CDN (CloudFront's
 * Origin Access Control as a document only: it needs AWS), and how the configuration names them. Then
 * Debian's nginx with `upfront cdn nginx`'s configuration in front of Ceph RGW, on buckets setup locked
 * to the CDN's secret Referer, with an API whose public URLs point at nginx: a direct anonymous GET of a
 * public file is refused while the same GET through nginx is served, and the second GET is a cache hit;
 * nginx answers Range requests, compresses text, allows only GET and HEAD, adds nosniff, sends every
 * active type as an attachment, and tells browsers the same bounded lifetime it caches for.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { GetBucketPolicyCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { CreatedUpload } from '@upfront/client';
import { DEFAULT_BUCKET_SETTINGS, diagnose, publicBucketUrl, setupBuckets, type BucketSettings } from '../../packages/server/src/buckets/index.ts';
import { publicReadStatement } from '../../packages/server/src/buckets/cdn.ts';
import { ConfigError, loadConfig } from '../../packages/server/src/config.ts';
import type { S3DriverConfig } from '../../packages/server/src/storage/s3-config.ts';
import { createS3Client } from '../../packages/server/src/storage/s3-driver.ts';
import { objectUrl } from '../../packages/server/src/storage/sigv4.ts';
import { freshBuckets, ORIGIN, removeBuckets } from '../support/buckets.ts';
import { startCdn, type RunningNginx } from '../support/nginx.ts';
import { makePng } from '../support/png.ts';
import { ownBucketsEnv, rgwAdminConfig } from '../support/rgw-env.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { sendToStorage } from '../support/transfer.ts';

const ARN = 'arn:aws:cloudfront::111122223333:distribution/EDFDVBD6EXAMPLE';
const read = { Effect: 'Allow', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::files/*'] };

describe('the public bucket policy with and without a CDN', () => {
  it('anyone may read without a CDN; with one, only it: CloudFront (OAC) by its distribution, others by a secret Referer or their addresses', () => {
    assert.deepEqual(publicReadStatement('files', undefined), { Sid: 'UpfrontPublicRead', Principal: '*', ...read });
    assert.deepEqual(publicReadStatement('files', { cloudFrontDistributionArn: ARN }), {
      Sid: 'UpfrontCloudFrontRead',
      Principal: { Service: 'cloudfront.amazonaws.com' },
      ...read,
      Condition: { StringEquals: { 'AWS:SourceArn': ARN } },
    });
    assert.deepEqual(publicReadStatement('files', { secret: 'x'.repeat(32) }), { Sid: 'UpfrontCdnRead', Principal: '*', ...read, Condition: { StringEquals: { 'aws:Referer': 'x'.repeat(32) } } });
    assert.deepEqual(publicReadStatement('files', { sourceIps: ['203.0.113.0/24'] }), { Sid: 'UpfrontCdnRead', Principal: '*', ...read, Condition: { IpAddress: { 'aws:SourceIp': ['203.0.113.0/24'] } } });
  });

  it('the configuration names one way (S3_CDN_SECRET, S3_CDN_SOURCE_IPS, S3_CDN_DISTRIBUTION_ARN), and refuses two, a short secret or a malformed ARN', () => {
    const cdn = (env: Record<string, string>) => loadConfig({ mode: 'dev', env }).buckets.cdn;
    const secret = randomBytes(24).toString('hex');
    assert.equal(cdn({}), undefined);
    assert.deepEqual(cdn({ S3_CDN_SECRET: secret }), { secret });
    assert.deepEqual(cdn({ S3_CDN_SOURCE_IPS: '203.0.113.0/24, 2001:db8::/32' }), { sourceIps: ['203.0.113.0/24', '2001:db8::/32'] });
    assert.deepEqual(cdn({ S3_CDN_DISTRIBUTION_ARN: ARN }), { cloudFrontDistributionArn: ARN });
    assert.throws(() => cdn({ S3_CDN_SECRET: secret, S3_CDN_SOURCE_IPS: '203.0.113.7' }), (error: Error) => error instanceof ConfigError && /not secret and sourceIps/.test(error.message));
    assert.throws(() => cdn({ S3_CDN_SECRET: 'short' }), /at least 24 printable characters/);
    assert.throws(() => cdn({ S3_CDN_DISTRIBUTION_ARN: 'EDFDVBD6EXAMPLE' }), /an ARN like arn:aws:cloudfront::/);
  });
});

describe('nginx as the CDN of the public bucket (Ceph RGW)', () => {
  const buckets = freshBuckets('cdn');
  const secret = randomBytes(24).toString('hex');
  let config: S3DriverConfig;
  let s3: S3Client;
  let settings: BucketSettings;
  let cdn: RunningNginx;
  let server: TestServer;

  before(async () => {
    config = { ...rgwAdminConfig(), buckets };
    s3 = createS3Client(config);
    settings = { origins: [ORIGIN], ...DEFAULT_BUCKET_SETTINGS, cdn: { secret } };
    const { changes } = await setupBuckets(config, settings);
    assert.ok(changes.some((change) => change.summary === `set the bucket policy: allow anyone s3:GetObject on arn:aws:s3:::${buckets.public}/* if aws:Referer is the CDN's secret`), 'the plan never prints the secret');
    cdn = await startCdn({ origin: publicBucketUrl(config), secret });
    config = { ...config, publicBaseUrl: cdn.url };
    server = await startTestServer({
      driver: 's3',
      env: { ...ownBucketsEnv(buckets), S3_PUBLIC_BASE_URL: cdn.url, S3_CDN_SECRET: secret },
    });
  });
  after(async () => {
    await server?.close();
    await cdn?.stop();
    await removeBuckets(s3, Object.values(buckets));
    s3?.destroy();
  });

  /** A file in the public bucket, as the API promotes them. */
  const put = (key: string, body: string | Buffer, contentType: string, contentDisposition = 'inline') =>
    s3.send(new PutObjectCommand({ Bucket: buckets.public, Key: key, Body: body, ContentType: contentType, ContentDisposition: contentDisposition, CacheControl: 'public, max-age=31536000, immutable' }));
  const viaCdn = (key: string, init: RequestInit = {}) => fetch(`${cdn.url}/${key}`, init);

  it('an uploaded public file: its URL is the CDN\'s, which serves it (the second GET from its cache), while the bucket refuses it directly', async () => {
    const png = makePng({ width: 16, height: 16 });
    const token = await server.token('cdn-user');
    const created = (await (await server.api('/v1/uploads', { token, json: { route: 'image', filename: 'dot.png', contentType: 'image/png', size: png.length } })).json()) as CreatedUpload;
    assert.ok((await sendToStorage(created, png, 'image/png')).ok);
    const completed = await server.api(`/v1/uploads/${created.id}/complete`, { method: 'POST', token });
    assert.equal(completed.status, 200, await completed.clone().text());
    const file = (await completed.json()) as { url: string };
    assert.ok(file.url.startsWith(`${cdn.url}/`), file.url);

    const direct = await fetch(objectUrl(config.endpoint, buckets.public, created.key, config.forcePathStyle));
    assert.equal(direct.status, 403, 'a direct anonymous GET is refused');
    const first = await fetch(file.url);
    assert.equal(first.status, 200);
    assert.deepEqual(Buffer.from(await first.arrayBuffer()), png);
    assert.equal(first.headers.get('x-cache-status'), 'MISS');
    const second = await fetch(file.url);
    assert.equal(second.headers.get('x-cache-status'), 'HIT');
    assert.deepEqual(Buffer.from(await second.arrayBuffer()), png);
    assert.equal(second.headers.get('content-type'), 'image/png');
    assert.equal(second.headers.get('content-disposition'), `inline; filename="dot.png"; filename*=UTF-8''dot.png`);
    assert.equal(second.headers.get('cache-control'), 'public, max-age=3600', 'browsers get the CDN\'s bounded lifetime');
    assert.equal(second.headers.get('x-content-type-options'), 'nosniff');
    const withReferer = await fetch(objectUrl(config.endpoint, buckets.public, created.key, config.forcePathStyle), { headers: { referer: 'https://guess.example.test/' } });
    assert.equal(withReferer.status, 403, 'another Referer is refused too');
  });

  it('answers Range requests with 206 and exactly the bytes asked for, from the cache', async () => {
    const bytes = randomBytes(10_000);
    await put('range.bin', bytes, 'application/octet-stream');
    for (const [range, from, to] of [['bytes=0-99', 0, 100], ['bytes=5000-5009', 5000, 5010], ['bytes=-10', 9990, 10_000]] as const) {
      const answer = await viaCdn('range.bin', { headers: { range } });
      assert.equal(answer.status, 206, range);
      assert.equal(answer.headers.get('content-range'), `bytes ${from}-${to - 1}/10000`);
      assert.deepEqual(Buffer.from(await answer.arrayBuffer()), bytes.subarray(from, to));
    }
  });

  it('compresses text, not images', async () => {
    await put('notes.txt', 'compress me '.repeat(500), 'text/plain; charset=utf-8');
    await put('photo.png', makePng({ width: 64, height: 64, minBytes: 4000 }), 'image/png');
    const text = await viaCdn('notes.txt', { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(text.headers.get('content-encoding'), 'gzip');
    assert.equal(await text.text(), 'compress me '.repeat(500), 'fetch undoes the gzip');
    const image = await viaCdn('photo.png', { headers: { 'accept-encoding': 'gzip' } });
    await image.arrayBuffer();
    assert.equal(image.headers.get('content-encoding'), null);
  });

  it('allows only GET and HEAD: 405 for anything else', async () => {
    await put('only-read.txt', 'read me', 'text/plain');
    assert.equal((await viaCdn('only-read.txt', { method: 'HEAD' })).status, 200);
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const answer = await viaCdn('only-read.txt', { method, ...(method !== 'OPTIONS' && method !== 'DELETE' && { body: 'x' }) });
      assert.equal(answer.status, 405, method);
      assert.equal(answer.headers.get('allow'), 'GET, HEAD');
    }
  });

  it('sends every active type as an attachment (keeping a filename the bucket gave), adds nosniff, and leaves passive types as they are', async () => {
    const cases: [key: string, type: string, disposition: string, expected: string][] = [
      ['page.html', 'text/html; charset=utf-8', 'inline', 'attachment'],
      ['drawing.svg', 'image/svg+xml', 'attachment; filename="drawing.svg"', 'attachment; filename="drawing.svg"'],
      ['page.xhtml', 'application/xhtml+xml', 'inline', 'attachment'],
      ['feed.xml', 'application/xml', 'inline', 'attachment'],
      ['data.xml', 'text/xml', 'inline', 'attachment'],
      ['atom.xml', 'application/atom+xml', 'inline', 'attachment'],
      ['script.js', 'application/javascript', 'inline', 'attachment'],
      ['module.mjs', 'text/javascript; charset=utf-8', 'inline', 'attachment'],
      ['notes.md', 'text/plain', 'inline; filename="notes.md"', 'inline; filename="notes.md"'],
      ['photo.jpg', 'image/jpeg', 'inline', 'inline'],
    ];
    for (const [key, type, disposition] of cases) await put(`active/${key}`, '<x/>', type, disposition);
    for (const [key, , , expected] of cases) {
      for (const pass of ['MISS', 'HIT']) {
        const answer = await viaCdn(`active/${key}`);
        await answer.arrayBuffer();
        assert.equal(answer.headers.get('x-cache-status'), pass, key);
        assert.equal(answer.headers.get('content-disposition'), expected, `${key} (${pass})`);
        assert.equal(answer.headers.get('x-content-type-options'), 'nosniff', key);
      }
    }
  });

  it('doctor: the CDN serves public files, and the bucket refuses them directly', async () => {
    const findings = await diagnose(config, settings);
    const checks = Object.fromEntries(findings.map((finding) => [finding.check, `${finding.status}: ${finding.detail}`]));
    assert.equal(checks.cdn, `ok: ${cdn.url} serves public files`);
    assert.equal(checks['anonymous public'], 'ok: public refuses anonymous reads: only the CDN gets through');
    assert.deepEqual(findings.filter((finding) => finding.status === 'fail'), []);
    const policy = JSON.parse((await s3.send(new GetBucketPolicyCommand({ Bucket: buckets.public }))).Policy ?? '{}') as { Statement: { Condition?: unknown }[] };
    assert.deepEqual(policy.Statement.map((statement) => statement.Condition), [{ StringEquals: { 'aws:Referer': secret } }]);
  });
});
