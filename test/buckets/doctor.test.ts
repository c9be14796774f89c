/**
 * `upfront doctor` against Ceph RGW, on buckets of its own: all ok after `upfront setup`; then ten
 * broken setups, one at a time, each named by doctor as failing (and only what it breaks), and each
 * repaired by setup: seven bucket settings broken by hand, a bucket deleted, a wrong secret and an
 * endpoint nothing answers at. Also the CLI: its lines, --json and exit codes. Then a setup with a
 * website bucket and nginx as the CDN of public (only it may read there): the site's index page and a
 * read through the CDN pass, and four more broken setups are named and repaired.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { DeleteBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DEFAULT_BUCKET_SETTINGS, diagnose, publicBucketUrl, setupBuckets, type BucketSettings } from '../../packages/server/src/buckets/index.ts';
import type { S3DriverConfig } from '../../packages/server/src/storage/s3-config.ts';
import { createS3Client } from '../../packages/server/src/storage/s3-driver.ts';
import { breakages, FOLDERS, freshBuckets, ORIGIN, removeBuckets, siteAndCdnBreakages, siteUrlOf } from '../support/buckets.ts';
import { startCdn, type RunningNginx } from '../support/nginx.ts';
import { ownBucketsEnv, rgwAdminConfig } from '../support/rgw-env.ts';

const settings: BucketSettings = { origins: [ORIGIN], ...DEFAULT_BUCKET_SETTINGS, folders: FOLDERS };
const cli = fileURLToPath(new URL('../../packages/cli/src/bin.ts', import.meta.url));

describe('upfront doctor (Ceph RGW)', () => {
  let config: S3DriverConfig;
  let s3: S3Client;
  const buckets = freshBuckets('doctor');
  /** The checks that fail, sorted. */
  const failing = async (on = config) => (await diagnose(on, settings)).filter((finding) => finding.status === 'fail').map((finding) => finding.check).sort();

  before(async () => {
    config = { ...rgwAdminConfig(), buckets };
    s3 = createS3Client(config);
    await setupBuckets(config, settings);
  });
  after(async () => {
    await removeBuckets(s3, Object.values(buckets));
    s3?.destroy();
  });

  it('after setup, every check passes, and each says what it checked', async () => {
    const findings = await diagnose(config, settings);
    assert.deepEqual(
      findings.map((finding) => `${finding.status} ${finding.check}`),
      [
        ...['endpoint', 'provider', 'clock', 'credentials', 'buckets', `cors ${ORIGIN}`, 'presigned PUT', 'cors ETag', 'POST policy'],
        ...['public', 'staging', 'private'].flatMap((role) => [`anonymous ${role}`, `anonymous list ${role}`]),
      ].map((check) => `ok ${check}`),
    );
    assert.ok(findings.every((finding) => finding.detail.length > 10 && finding.fix === undefined));
  });

  for (const { what, doctor, damage } of breakages) {
    it(`names ${what}, and setup repairs it`, async () => {
      await damage(s3, buckets);
      assert.deepEqual(await failing(), [...doctor].sort());
      await setupBuckets(config, settings);
      assert.deepEqual(await failing(), []);
    });
  }

  it('names a missing bucket (and stops there), and setup makes it again', async () => {
    await s3.send(new DeleteBucketCommand({ Bucket: buckets.private }));
    const findings = await diagnose(config, settings);
    const failed = findings.filter((finding) => finding.status === 'fail');
    assert.deepEqual(failed.map((finding) => finding.check), ['private bucket', 'private versioning']);
    assert.ok(failed.every((finding) => finding.fix === 'run `upfront setup`'));
    await setupBuckets(config, settings);
    assert.deepEqual(await failing(), []);
  });

  it('names a credential storage refuses, and an endpoint nothing answers at', async () => {
    const refused = await diagnose({ ...config, secretAccessKey: 'not-the-secret' }, settings);
    assert.deepEqual(refused.at(-1), {
      check: 'credentials',
      status: 'fail',
      detail: "storage refuses the API's credential",
      fix: 'check S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, and that they may use the staging bucket',
    });
    const nowhere = await diagnose({ ...config, endpoint: 'http://127.0.0.1:1' }, settings);
    assert.deepEqual(nowhere.map((finding) => `${finding.status} ${finding.check}`), ['fail endpoint']);
    assert.match(nowhere[0]!.fix!, /check S3_ENDPOINT/);
  });

  it('checks the storage classes routes and transitions name: COLD exists, a misspelt one does not', async () => {
    const findings = await diagnose(config, { ...settings, transitions: [{ days: 30, storageClass: 'COLD' }] }, { storageClasses: ['COLD', 'CLOD'] });
    const classes = findings.filter((finding) => finding.check.startsWith('storage class'));
    assert.deepEqual(classes.map((finding) => `${finding.status} ${finding.check}`), ['ok storage class COLD', 'fail storage class CLOD']);
    assert.match(classes[1]!.fix!, /define it in the store, or fix the name/);
  });

  it('the CLI prints a line per finding and exits 1 when something fails, 0 when all pass; --json', async () => {
    // The configuration file names the folder rules these buckets were set up with.
    const file = join(await mkdtemp(join(tmpdir(), 'upfront-doctor-')), 'upfront.config.json');
    await writeFile(file, JSON.stringify({ buckets: { folders: FOLDERS } }));
    const run = (env: Record<string, string>, args: string[] = []) =>
      promisify(execFile)(process.execPath, ['--conditions=upfront-source', '--import', 'tsx', cli, 'doctor', ...args], {
        cwd: fileURLToPath(new URL('../../', import.meta.url)),
        env: { ...process.env, STORAGE_DRIVER: 's3', ...ownBucketsEnv(buckets), CORS_ORIGINS: ORIGIN, UPFRONT_CONFIG: file, ...env },
      }).then(
        ({ stdout }) => ({ code: 0, stdout }),
        (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
      );
    const good = await run({});
    assert.equal(good.code, 0);
    assert.match(good.stdout, /^ok {4}endpoint {2,}http:\/\/127\.0\.0\.1:\d+ answers$/m);
    assert.match(good.stdout, /All checks pass\.\n$/);
    const bad = await run({ CORS_ORIGINS: 'http://elsewhere.example.test' });
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /^fail {2}staging cors +\S+ needs: set CORS: .*: run `upfront setup`$/m);
    assert.match(bad.stdout, /Something fails: fix it, then run doctor again\.\n$/);
    const json = JSON.parse((await run({}, ['--json'])).stdout) as { ok: boolean; findings: { status: string }[] };
    assert.equal(json.ok, true);
    assert.ok(json.findings.length >= 10);
    await rm(dirname(file), { recursive: true });
  });
});

describe('upfront doctor with a website bucket and a CDN (Ceph RGW s3website, nginx)', () => {
  let config: S3DriverConfig;
  let s3: S3Client;
  let settings: BucketSettings;
  let cdn: RunningNginx;
  const buckets = freshBuckets('doctor-front');
  const failing = async () => (await diagnose(config, settings)).filter((finding) => finding.status === 'fail').map((finding) => finding.check).sort();

  before(async () => {
    const secret = randomBytes(24).toString('hex');
    config = { ...rgwAdminConfig(), buckets };
    cdn = await startCdn({ origin: publicBucketUrl(config), secret });
    config = { ...config, publicBaseUrl: cdn.url };
    const site = { bucket: buckets.site, url: siteUrlOf(config, buckets.site), indexDocument: 'index.html', errorDocument: '404.html' };
    settings = { origins: [ORIGIN], ...DEFAULT_BUCKET_SETTINGS, site, cdn: { secret } };
    s3 = createS3Client(config);
    await setupBuckets(config, settings);
    await s3.send(new PutObjectCommand({ Bucket: buckets.site, Key: 'index.html', Body: '<!doctype html><title>Site</title>', ContentType: 'text/html' }));
  });
  after(async () => {
    await cdn?.stop();
    await removeBuckets(s3, Object.values(buckets));
    s3?.destroy();
  });

  it('after setup, every check passes: the site serves its index page, the CDN public files, and the bucket refuses them directly', async () => {
    const findings = await diagnose(config, settings);
    assert.deepEqual(findings.filter((finding) => finding.status !== 'ok'), []);
    const detail = (check: string) => findings.find((finding) => finding.check === check)?.detail;
    assert.equal(detail('buckets'), 'the four buckets exist and match the configuration');
    assert.equal(detail('anonymous public'), 'public refuses anonymous reads: only the CDN gets through');
    assert.equal(detail('website'), `${settings.site!.url} serves index.html as text/html`);
    assert.equal(detail('cdn'), `${cdn.url} serves public files`);
  });

  for (const { what, doctor, damage } of siteAndCdnBreakages) {
    it(`names ${what}, and setup repairs it`, async () => {
      await damage(s3, buckets);
      assert.deepEqual(await failing(), [...doctor].sort());
      await setupBuckets(config, settings);
      assert.deepEqual(await failing(), []);
    });
  }
});
