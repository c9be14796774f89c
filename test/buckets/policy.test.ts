/**
 * The policies `upfront policy` prints and setup writes, as pure functions of the configuration: the
 * runtime policy narrows to the routes' key prefixes, listing included (the sweeper's); the admin policy covers setup and
 * doctor; a bucket's share names the API's principal; folder rules deny all but the admin.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { adminPolicy, bucketSpecs, DEFAULT_BUCKET_SETTINGS, runtimePolicy } from '../../packages/server/src/buckets/index.ts';
import { principalOf } from '../../packages/server/src/buckets/folders.ts';
import { bucketStatements, keyPrefix } from '../../packages/server/src/buckets/policy.ts';
import { ConfigError, defaultRoutes, loadConfig } from '../../packages/server/src/config.ts';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const buckets = { staging: 'st', public: 'pub', private: 'priv' };
const route = (name: string, keyTemplate: string, visibility: 'public' | 'private') => ({ name, keyTemplate, visibility });
const actions = (policy: ReturnType<typeof runtimePolicy>) => policy.Statement.flatMap((statement) => statement.Action);

describe('runtime policy', () => {
  it('for templates that start with the user: every object of the three buckets, the actions the API sends, the buckets listed whole', () => {
    const policy = runtimePolicy({ buckets }, defaultRoutes.values());
    assert.deepEqual(
      policy.Statement.map(({ Sid, Resource, Condition }) => ({ Sid, Resource, Condition })),
      [
        { Sid: 'UpfrontStaging', Resource: ['arn:aws:s3:::st/*'], Condition: undefined },
        { Sid: 'UpfrontStagingListing', Resource: ['arn:aws:s3:::st'], Condition: undefined },
        { Sid: 'UpfrontStagingMultipartUploads', Resource: ['arn:aws:s3:::st'], Condition: undefined },
        { Sid: 'UpfrontPublicFiles', Resource: ['arn:aws:s3:::pub/*'], Condition: undefined },
        { Sid: 'UpfrontPublicListing', Resource: ['arn:aws:s3:::pub'], Condition: undefined },
        { Sid: 'UpfrontPrivateFiles', Resource: ['arn:aws:s3:::priv/*'], Condition: undefined },
        { Sid: 'UpfrontPrivateListing', Resource: ['arn:aws:s3:::priv'], Condition: undefined },
      ],
    );
    assert.deepEqual(policy.Statement[0]!.Action, ['s3:PutObject', 's3:GetObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts']);
    assert.deepEqual(policy.Statement[1]!.Action, ['s3:ListBucket']);
    assert.deepEqual(policy.Statement[2]!.Action, ['s3:ListBucketMultipartUploads']);
    assert.deepEqual(policy.Statement[3]!.Action, ['s3:PutObject', 's3:GetObject', 's3:GetObjectVersion', 's3:DeleteObject', 's3:DeleteObjectVersion', 's3:AbortMultipartUpload']);
    assert.deepEqual(policy.Statement[4]!.Action, ['s3:ListBucket', 's3:ListBucketVersions']);
    assert.ok(policy.Statement.every((statement) => statement.Effect === 'Allow'));
  });

  it('lists, but never touches bucket settings, never removes a staged version', () => {
    const policy = runtimePolicy({ buckets }, defaultRoutes.values());
    assert.ok(!policy.Statement[0]!.Action.includes('s3:DeleteObjectVersion'));
    const granted = actions(policy);
    for (const action of ['s3:PutBucketPolicy', 's3:DeleteBucket', 's3:CreateBucket', 's3:ListAllMyBuckets', 's3:*']) assert.ok(!granted.includes(action), action);
  });

  it('narrows to the literal start of the key templates ({route} included), per bucket; doctor\'s probe prefix in staging', () => {
    const policy = runtimePolicy({ buckets }, [
      route('avatar', 'avatars/{user}/{uuid}.{ext}', 'public'),
      route('thumb', 'avatars/thumbs/{uuid}.{ext}', 'public'),
      route('invoice', '{route}/{date}/{uuid}.{ext}', 'private'),
    ]);
    const byId = Object.fromEntries(policy.Statement.map((statement) => [statement.Sid, statement]));
    assert.deepEqual(byId.UpfrontStaging!.Resource, ['arn:aws:s3:::st/avatars/*', 'arn:aws:s3:::st/invoice/*', 'arn:aws:s3:::st/upfront-doctor/*']);
    assert.deepEqual(byId.UpfrontPublicFiles!.Resource, ['arn:aws:s3:::pub/avatars/*']);
    assert.deepEqual(byId.UpfrontPublicListing!.Condition, { StringLike: { 's3:prefix': ['avatars/*'] } });
    assert.deepEqual(byId.UpfrontStagingListing!.Condition, { StringLike: { 's3:prefix': ['avatars/*', 'invoice/*', 'upfront-doctor/*'] } });
    assert.equal(byId.UpfrontStagingMultipartUploads!.Condition, undefined);
    assert.deepEqual(byId.UpfrontPrivateFiles!.Resource, ['arn:aws:s3:::priv/invoice/*']);
  });

  it('grants nothing on a final bucket no route promotes into', () => {
    const policy = runtimePolicy({ buckets }, [route('doc', '{user}/{uuid}.{ext}', 'private')]);
    assert.deepEqual(policy.Statement.map((statement) => statement.Sid), ['UpfrontStaging', 'UpfrontStagingListing', 'UpfrontStagingMultipartUploads', 'UpfrontPrivateFiles', 'UpfrontPrivateListing']);
    assert.ok(!JSON.stringify(policy).includes(':::pub'));
  });

  it('keyPrefix: up to the first placeholder other than {route}', () => {
    assert.equal(keyPrefix('{user}/{uuid}', 'a'), '');
    assert.equal(keyPrefix('u/{user}/{uuid}', 'a'), 'u/');
    assert.equal(keyPrefix('{route}/{uuid}', 'img'), 'img/');
  });
});

describe('admin policy', () => {
  it('the bucket settings setup reads and writes, its identity, and the probe objects of doctor and setup only', () => {
    const policy = adminPolicy({ buckets });
    const [settings, identity, probes] = policy.Statement;
    assert.deepEqual(settings!.Resource, ['arn:aws:s3:::st', 'arn:aws:s3:::pub', 'arn:aws:s3:::priv']);
    for (const action of ['s3:CreateBucket', 's3:ListBucket', 's3:PutBucketCORS', 's3:PutLifecycleConfiguration', 's3:PutBucketPolicy', 's3:DeleteBucketPolicy', 's3:PutBucketVersioning', 's3:PutBucketAcl']) {
      assert.ok(settings!.Action.includes(action), action);
    }
    assert.ok(!settings!.Action.includes('s3:DeleteBucket'));
    assert.deepEqual(identity!.Action, ['s3:ListAllMyBuckets']);
    assert.ok(probes!.Resource.every((resource) => /\/upfront-(doctor|probe)\/\*$/.test(resource)));
    assert.equal(policy.Statement.length, 3);
  });

  it('with a website bucket: its website settings and the files site deploy writes', () => {
    const policy = adminPolicy({ buckets }, 'site');
    assert.ok(policy.Statement[0]!.Resource.includes('arn:aws:s3:::site'));
    assert.deepEqual(policy.Statement.slice(3).map((statement) => [statement.Action, statement.Resource]), [
      [['s3:GetBucketWebsite', 's3:PutBucketWebsite'], ['arn:aws:s3:::site']],
      [['s3:PutObject', 's3:GetObject', 's3:DeleteObject'], ['arn:aws:s3:::site/*']],
    ]);
  });
});

describe('bucket policies', () => {
  const principal = 'arn:aws:iam:::user/upfront-api';
  const routes = [...defaultRoutes.values()];

  it("a bucket's share of the runtime policy names the API's principal", () => {
    const share = bucketStatements(runtimePolicy({ buckets }, routes), 'pub', principal);
    assert.deepEqual(share.map(({ Sid, Principal, Resource }) => ({ Sid, Principal, Resource })), [
      { Sid: 'UpfrontPublicFiles', Principal: { AWS: [principal] }, Resource: ['arn:aws:s3:::pub/*'] },
      { Sid: 'UpfrontPublicListing', Principal: { AWS: [principal] }, Resource: ['arn:aws:s3:::pub'] },
    ]);
  });

  it('setup writes it into each bucket with apiPrincipal, beside public reads; folder rules deny all but the admin', () => {
    const admin = principalOf('upfront');
    const specs = bucketSpecs({ buckets }, {
      origins: [],
      ...DEFAULT_BUCKET_SETTINGS,
      apiPrincipal: principal,
      routes,
      folders: [
        { bucket: 'public', prefix: 'page/', access: 'read-only' },
        { bucket: 'private', prefix: 'inbox/', access: 'write-only' },
      ],
    }, undefined, admin);
    const sids = Object.fromEntries(specs.map((spec) => [spec.role, spec.policy?.Statement.map((statement) => statement.Sid)]));
    assert.deepEqual(sids, {
      staging: ['UpfrontStaging', 'UpfrontStagingListing', 'UpfrontStagingMultipartUploads'],
      public: ['UpfrontPublicRead', 'UpfrontPublicFiles', 'UpfrontPublicListing', 'UpfrontFolder1ReadOnly'],
      private: ['UpfrontPrivateFiles', 'UpfrontPrivateListing', 'UpfrontFolder1WriteOnly'],
    });
    assert.deepEqual(specs[1]!.policy!.Statement[3], {
      Sid: 'UpfrontFolder1ReadOnly',
      Effect: 'Deny',
      NotPrincipal: { AWS: ['arn:aws:iam:::user/upfront'] },
      Action: ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'],
      Resource: ['arn:aws:s3:::pub/page/*'],
    });
    assert.deepEqual(specs[2]!.policy!.Statement[2]!.Action, ['s3:GetObject', 's3:GetObjectVersion']);
  });

  it("principalOf: RGW's user id, and a tenant's user", () => {
    assert.equal(principalOf('upfront'), 'arn:aws:iam:::user/upfront');
    assert.equal(principalOf('acme$api'), 'arn:aws:iam::acme:user/api');
  });
});

describe('configuration', () => {
  const load = async (buckets: unknown) => {
    const dir = await mkdtemp(join(tmpdir(), 'upfront-policy-'));
    try {
      await writeFile(join(dir, 'upfront.config.json'), JSON.stringify({ buckets }));
      return loadConfig({ mode: 'dev', env: {}, file: join(dir, 'upfront.config.json') }).buckets;
    } finally {
      await rm(dir, { recursive: true });
    }
  };

  it('reads folder rules and the API principal', async () => {
    const folders = [{ bucket: 'public', prefix: 'uploads/', access: 'write-only' }, { bucket: 'public', prefix: 'page/', access: 'read-only' }];
    const parsed = await load({ folders, apiPrincipal: 'arn:aws:iam:::user/upfront-api' });
    assert.deepEqual(parsed.folders, folders);
    assert.equal(parsed.apiPrincipal, 'arn:aws:iam:::user/upfront-api');
    assert.deepEqual((await load({})).folders, []);
  });

  it('refuses malformed rules, naming the rule and the fix', async () => {
    const refused = async (buckets: unknown, message: RegExp) => assert.rejects(load(buckets), (error: Error) => error instanceof ConfigError && message.test(error.message));
    await refused({ folders: {} }, /"folders" is a list/);
    await refused({ folders: [{ bucket: 'staging', prefix: 'a/', access: 'read-only' }] }, /folders"\[0\]: "bucket" is "public" or "private"/);
    await refused({ folders: [{ bucket: 'public', prefix: 'a/', access: 'hidden' }] }, /"access" is "read-only" or "write-only"/);
    await refused({ folders: [{ bucket: 'public', prefix: '', access: 'read-only' }] }, /"prefix" is a key prefix/);
    await refused({ folders: [{ bucket: 'public', prefix: 'a*/', access: 'read-only' }] }, /no "\*" or "\?"/);
    await refused({ folders: [{ bucket: 'public', prefix: 'upfront-doctor/', access: 'read-only' }] }, /may not cover "upfront-"/);
    await refused({ folders: [{ bucket: 'public', prefix: 'a/', access: 'read-only' }, { bucket: 'public', prefix: 'a/b/', access: 'write-only' }] }, /"a\/b\/" is inside "a\/"/);
    await refused({ apiPrincipal: 'upfront-api' }, /"apiPrincipal" is the API credential's user ARN/);
  });
});
