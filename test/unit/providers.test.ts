/**
 * Provider profiles (storage/providers.ts): detection from endpoints and answers, which one applies, and
 * each profile's differences where they take effect: the upload method (R2 and B2 take no POST), equal
 * parts, path style, the SDK's checksums, and what setup plans (Block Public Access on AWS, no abort rule
 * on MinIO) and doctor says. No store is needed here: test/buckets/provider.test.ts runs them on RGW.
 */
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { providerFindings } from '../../packages/server/src/buckets/provider-check.ts';
import { planBucket } from '../../packages/server/src/buckets/plan.ts';
import { bucketSpecs, DEFAULT_BUCKET_SETTINGS, type BucketSettings, type BucketSpec } from '../../packages/server/src/buckets/spec.ts';
import type { BucketState } from '../../packages/server/src/buckets/state.ts';
import { loadConfig, ConfigError } from '../../packages/server/src/config.ts';
import {
  applyProvider,
  describeProvider,
  PROFILES,
  PROVIDERS,
  providerFromAnswer,
  providerFromEndpoint,
  type Provider,
} from '../../packages/server/src/storage/providers.ts';
import { s3ConfigFromEnv, type S3DriverConfig } from '../../packages/server/src/storage/s3-config.ts';
import { createS3Client, createS3Driver } from '../../packages/server/src/storage/s3-driver.ts';
import { chooseStrategy, choosePartSize } from '../../packages/server/src/uploads/create-upload.ts';
import { partLength } from '../../packages/server/src/uploads/sign-parts.ts';

const env = {
  S3_ENDPOINT: 'https://storage.example.test',
  S3_REGION: 'us-east-1',
  S3_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  S3_SECRET_ACCESS_KEY: 'secret',
  S3_BUCKET_STAGING: 'app-staging',
  S3_BUCKET_PUBLIC: 'app-public',
  S3_BUCKET_PRIVATE: 'app-private',
};
const configOf = (provider?: Provider, extra: Record<string, string> = {}): S3DriverConfig => s3ConfigFromEnv({ ...env, ...(provider && { S3_PROVIDER: provider }), ...extra });
/** An RGW answer's headers, as RGW 16 sends them (no Server header). */
const rgwAnswer = new Headers({ 'x-amz-request-id': 'tx00000b4b3170ce093174c-006b161078-1022-default', 'content-type': 'application/xml' });
const minioAnswer = new Headers({ server: 'MinIO', 'x-amz-request-id': '17F2A3B4C5D6E7F8' });

describe('detection', () => {
  it('names AWS, R2 and B2 by their endpoints, and nothing else', () => {
    const cases: [string, Provider | undefined][] = [
      ['https://s3.amazonaws.com', 'aws'],
      ['https://s3.eu-west-1.amazonaws.com', 'aws'],
      ['https://s3.dualstack.us-east-2.amazonaws.com', 'aws'],
      ['https://s3.cn-north-1.amazonaws.com.cn', 'aws'],
      ['https://0123456789abcdef.r2.cloudflarestorage.com', 'r2'],
      ['https://0123456789abcdef.eu.r2.cloudflarestorage.com', 'r2'],
      ['https://s3.us-west-004.backblazeb2.com', 'b2'],
      ['http://127.0.0.1:7480', undefined],
      ['https://minio.example.test:9000', undefined],
      ['https://notamazonaws.com', undefined],
    ];
    for (const [endpoint, provider] of cases) assert.equal(providerFromEndpoint(endpoint), provider, endpoint);
  });

  it('names MinIO by its Server header, Ceph RGW by its request ids, AWS by its Server header', () => {
    assert.equal(providerFromAnswer(minioAnswer), 'minio');
    assert.equal(providerFromAnswer(rgwAnswer), 'ceph');
    assert.equal(providerFromAnswer(new Headers({ 'x-amz-request-id': 'tx000000000000000000001-0065a1b2c3-5e1f-eu-zone' })), 'ceph');
    assert.equal(providerFromAnswer(new Headers({ server: 'AmazonS3', 'x-amz-request-id': 'A1B2C3D4E5F6G7H8' })), 'aws');
    assert.equal(providerFromAnswer(new Headers({ server: 'nginx', 'x-amz-request-id': 'tx-not-rgw' })), undefined);
    assert.equal(providerFromAnswer(new Headers()), undefined);
  });

  it('applies the configured provider, else the endpoint\'s, else the answer\'s, else other; and says which', () => {
    const local = { endpoint: 'http://127.0.0.1:7480' };
    const applied = (config: { endpoint: string; provider?: Provider }, answer?: Headers) => describeProvider(applyProvider(config, answer));
    assert.equal(applied({ ...local, provider: 'minio' }, rgwAnswer), 'minio (configured)');
    assert.equal(applied({ endpoint: 'https://abc.r2.cloudflarestorage.com' }, minioAnswer), 'r2 (detected from the endpoint)');
    assert.equal(applied(local, rgwAnswer), "ceph (detected from the store's answers)");
    assert.equal(applied(local), 'other (none configured or detected)');
    assert.equal(applyProvider(local, minioAnswer).profile, PROFILES.minio);
  });
});

describe('configuration', () => {
  it('S3_PROVIDER names one of the profiles, or is refused with the list', () => {
    assert.equal(configOf('r2').provider, 'r2');
    assert.equal(configOf(undefined, { S3_PROVIDER: ' MinIO ' }).provider, 'minio');
    assert.equal(configOf().provider, undefined);
    assert.throws(() => configOf(undefined, { S3_PROVIDER: 'wasabi' }), /S3_PROVIDER \("provider" in the config file\) is one of aws, ceph, minio, r2, b2, other \(got "wasabi"\)/);
  });

  it('the config file\'s "provider" stands in for S3_PROVIDER, which overrides it', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'upfront-provider-')), 'upfront.config.json');
    await writeFile(file, JSON.stringify({ storage: 's3', provider: 'minio' }));
    const storage = (extra: Record<string, string> = {}) => loadConfig({ env: { ...env, UPFRONT_DATA_DIR: '/tmp/upfront-provider-test', ...extra }, mode: 'dev', file }).storage;
    const provider = (extra: Record<string, string> = {}) => {
      const loaded = storage(extra);
      return loaded.driver === 's3' ? loaded.provider : loaded.driver;
    };
    assert.equal(provider(), 'minio');
    assert.equal(provider({ S3_PROVIDER: 'ceph' }), 'ceph');
    await writeFile(file, JSON.stringify({ storage: 's3', provider: 7 }));
    assert.throws(() => storage(), (error: Error) => error instanceof ConfigError && /"provider" is a store's name/.test(error.message));
    await writeFile(file, JSON.stringify({ storage: 's3', provider: 'wasabi' }));
    assert.throws(() => storage(), (error: Error) => error instanceof ConfigError && /one of aws, ceph/.test(error.message));
  });
});

describe('what each profile signs', () => {
  it('R2 and B2: a route asking for POST gets a presigned PUT; every other store keeps POST', () => {
    for (const provider of PROVIDERS) {
      const { postPolicy } = PROFILES[provider];
      assert.equal(chooseStrategy({ strategy: 'post', multipartThreshold: 64 }, 10, postPolicy), provider === 'r2' || provider === 'b2' ? 'put' : 'post', provider);
      // Nothing else changes: auto still chooses by size, and multipart stays multipart.
      assert.equal(chooseStrategy({ strategy: 'auto', multipartThreshold: 64 }, 100, postPolicy), 'multipart');
      assert.equal(chooseStrategy({ strategy: 'auto', multipartThreshold: 64 }, 10, postPolicy), 'put');
    }
  });

  it('equal parts (R2 refuses others): every part but the last is the part size, the last no larger, on every profile', () => {
    const MiB = 1024 * 1024;
    for (const size of [5 * MiB + 1, 64 * MiB, 100 * MiB + 7, 80_000 * MiB + 3, 5 * 1024 ** 4]) {
      const partSize = choosePartSize(size, 8 * MiB);
      const partCount = Math.ceil(size / partSize);
      const lengths = Array.from({ length: partCount }, (_, i) => partLength(size, { uploadId: 'u', partSize, partCount }, i + 1));
      assert.ok(partCount <= 10_000, `${size}: ${partCount} parts`);
      assert.ok(lengths.slice(0, -1).every((length) => length === partSize), `${size}: equal parts`);
      assert.ok(lengths.at(-1)! > 0 && lengths.at(-1)! <= partSize, `${size}: last part`);
      assert.equal(lengths.reduce((a, b) => a + b, 0), size);
    }
  });

  it('MinIO: path-style addressing unless S3_FORCE_PATH_STYLE says otherwise; the others virtual-hosted', () => {
    assert.equal(configOf('minio').forcePathStyle, true);
    assert.equal(configOf('minio', { S3_FORCE_PATH_STYLE: 'false' }).forcePathStyle, false);
    for (const provider of ['aws', 'ceph', 'r2', 'b2', 'other'] as const) assert.equal(configOf(provider).forcePathStyle, false, provider);
    assert.equal(configOf('ceph', { S3_FORCE_PATH_STYLE: 'true' }).forcePathStyle, true);
    const put = (provider: Provider) => createS3Driver(configOf(provider)).presignPut({ key: 'a/b.png', contentType: 'image/png', contentLength: 3, expiresIn: 60 });
    assert.match((put('minio') as { url: string }).url, /^https:\/\/storage\.example\.test\/app-staging\/a\/b\.png\?/);
    assert.match((put('ceph') as { url: string }).url, /^https:\/\/app-staging\.storage\.example\.test\/a\/b\.png\?/);
  });

  it('checksums: AWS whenever supported, every other store only when required', async () => {
    for (const provider of PROVIDERS) {
      const client = createS3Client(configOf(provider));
      const expected = provider === 'aws' ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED';
      assert.equal(await client.config.requestChecksumCalculation(), expected, provider);
      assert.equal(await client.config.responseChecksumValidation(), expected, provider);
      client.destroy();
    }
    // Unconfigured, an AWS endpoint is AWS.
    const detected = createS3Client(s3ConfigFromEnv({ ...env, S3_ENDPOINT: 'https://s3.eu-west-1.amazonaws.com' }));
    assert.equal(await detected.config.requestChecksumCalculation(), 'WHEN_SUPPORTED');
    detected.destroy();
  });
});

describe('what each profile provisions', () => {
  const settings = { origins: ['https://app.example.test'], ...DEFAULT_BUCKET_SETTINGS };
  const specsOf = (provider: Provider) => bucketSpecs(configOf(provider), settings, PROFILES[provider]);
  const fresh: BucketState = { exists: false, cors: [], lifecycle: [], lifecycleRules: [], policy: null, versioning: 'Off', publicAcl: false, publicAccessBlock: null, website: null };
  const plan = (spec: BucketSpec) => planBucket(spec, { ...fresh, publicAccessBlock: spec.publicAccessBlock && { blockPublicAcls: false, ignorePublicAcls: false, blockPublicPolicy: false, restrictPublicBuckets: false } });

  it('AWS: Block Public Access, all four on staging and private, on public all but what lets its policy grant public reads; planned before the policy', () => {
    const [staging, pub, priv] = specsOf('aws');
    const all = { blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: true, restrictPublicBuckets: true };
    assert.deepEqual(staging!.publicAccessBlock, all);
    assert.deepEqual(priv!.publicAccessBlock, all);
    assert.deepEqual(pub!.publicAccessBlock, { ...all, blockPublicPolicy: false, restrictPublicBuckets: false });
    assert.deepEqual(plan(pub!).map((change) => `${change.setting}: ${change.summary}`).slice(0, 3), [
      'bucket: create the bucket',
      "public-access: set Block Public Access: BlockPublicAcls, IgnorePublicAcls on; BlockPublicPolicy, RestrictPublicBuckets off (the bucket policy's public read)",
      'policy: set the bucket policy: allow anyone s3:GetObject on arn:aws:s3:::app-public/*',
    ]);
    assert.deepEqual(plan(staging!).find((change) => change.setting === 'public-access')?.summary, 'set Block Public Access: BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets on');
    // Once in place, nothing more to change.
    assert.deepEqual(planBucket(pub!, { ...fresh, exists: true, policy: pub!.policy, cors: pub!.cors!, versioning: 'Enabled', publicAccessBlock: pub!.publicAccessBlock }), []);
  });

  it('every other store: Block Public Access left as it is', () => {
    for (const provider of ['ceph', 'minio', 'r2', 'b2', 'other'] as const) {
      assert.ok(specsOf(provider).every((spec) => spec.publicAccessBlock === null), provider);
      assert.ok(specsOf(provider).every((spec) => plan(spec).every((change) => change.setting !== 'public-access')), provider);
    }
  });

  it('MinIO: no abort rule on staging (MinIO drops it); every other store gets it', () => {
    const rules = (provider: Provider) => specsOf(provider)[0]!.lifecycle.map((rule) => rule.id);
    assert.deepEqual(rules('minio'), ['upfront-expire-staged']);
    for (const provider of ['aws', 'ceph', 'r2', 'b2', 'other'] as const) assert.deepEqual(rules(provider), ['upfront-expire-staged', 'upfront-abort-incomplete'], provider);
    assert.match(plan(specsOf('minio')[0]!).find((change) => change.setting === 'lifecycle')!.summary, /^set lifecycle: expire objects after 1 day$/);
  });

  it('origin access for a CDN: CloudFront OAC on AWS, the bucket policy elsewhere; behind OAC, AWS blocks all public access on public too', () => {
    for (const provider of PROVIDERS) assert.equal(PROFILES[provider].originAccess, provider === 'aws' ? 'oac' : 'policy', provider);
    const publicBlock = (provider: Provider, cdn: NonNullable<BucketSettings['cdn']>) => bucketSpecs(configOf(provider), { ...settings, cdn }, PROFILES[provider])[1]!.publicAccessBlock;
    const oac = { cloudFrontDistributionArn: 'arn:aws:cloudfront::111122223333:distribution/EDFDVBD6EXAMPLE' };
    assert.deepEqual(publicBlock('aws', oac), { blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: true, restrictPublicBuckets: true });
    // A Referer-conditioned grant to anyone is still a public policy to AWS.
    assert.deepEqual(publicBlock('aws', { secret: 'cdn-secret' }), { blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: false, restrictPublicBuckets: false });
    assert.equal(publicBlock('ceph', oac), null);
  });
});

describe('what doctor says about the profile', () => {
  const local = configOf(undefined, { S3_ENDPOINT: 'http://127.0.0.1:7480' });
  const findings = (config: S3DriverConfig, answer: Headers) => providerFindings(config, answer, { abortIncompleteDays: 2 }).map(({ check, status, detail, fix }) => `${status} ${check}: ${detail}${fix ? ` → ${fix}` : ''}`);

  it('ok with the profile it applied, detected or configured', () => {
    assert.deepEqual(findings(local, rgwAnswer), ["ok provider: ceph (detected from the store's answers)"]);
    assert.deepEqual(findings({ ...local, provider: 'ceph' }, rgwAnswer), ['ok provider: ceph (configured)']);
    assert.deepEqual(findings({ ...local, provider: 'other' }, rgwAnswer), ['ok provider: other (configured)'], 'the same profile: nothing to warn about');
  });

  it('warns when the configured provider is not what the store looks like', () => {
    assert.deepEqual(findings({ ...local, provider: 'r2' }, rgwAnswer), [
      'warn provider: r2 (configured), but the store looks like ceph (its answers) → set S3_PROVIDER=ceph, or leave it unset to detect it',
    ]);
    assert.deepEqual(findings({ ...configOf(undefined, { S3_ENDPOINT: 'https://s3.eu-west-1.amazonaws.com' }), provider: 'minio' }, new Headers()).slice(0, 1), [
      'warn provider: minio (configured), but the store looks like aws (its endpoint) → set S3_PROVIDER=aws, or leave it unset to detect it',
    ]);
  });

  it('MinIO detected from its answers: the API (which does not ask) needs S3_PROVIDER; and the stale-upload setting replaces the abort rule', () => {
    assert.deepEqual(findings(local, minioAnswer), [
      "warn provider: minio (detected from the store's answers), but the API does not ask the store and applies other → set S3_PROVIDER=minio",
      'warn stale uploads: minio takes no lifecycle rule that aborts unfinished multipart uploads; its own api stale_uploads_expiry does (24h unless set), which doctor cannot read → run `mc admin config set ALIAS api stale_uploads_expiry=48h` (ALIAS: your mc alias of the store)',
    ]);
    assert.equal(findings({ ...local, provider: 'minio' }, minioAnswer)[0], 'ok provider: minio (configured)');
  });
});
