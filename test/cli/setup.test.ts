/**
 * `upfront setup` as a user runs it, against Ceph RGW on buckets of its own: the plan printed by
 * --dry-run (nothing made), applied, "nothing to change" the second time, --json; a refused
 * credential and the disk driver end with their exit codes and a sentence that says what to do.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '../../packages/server/src/storage/s3-driver.ts';
import { freshBuckets, removeBuckets } from '../support/buckets.ts';
import { rgwAdminConfig } from '../support/rgw-env.ts';

const cli = fileURLToPath(new URL('../../packages/cli/src/bin.ts', import.meta.url));

async function setup(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--conditions=upfront-source', '--import', 'tsx', cli, 'setup', ...args], {
      env: { ...process.env, ...env },
      cwd: fileURLToPath(new URL('../../', import.meta.url)),
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

describe('upfront setup (CLI, Ceph RGW)', () => {
  const config = rgwAdminConfig();
  const s3 = createS3Client(config);
  const buckets = freshBuckets('cli-setup');
  const env = {
    STORAGE_DRIVER: 's3',
    S3_BUCKET_STAGING: buckets.staging,
    S3_BUCKET_PUBLIC: buckets.public,
    S3_BUCKET_PRIVATE: buckets.private,
    CORS_ORIGINS: 'https://app.example.test',
  };
  after(async () => {
    await removeBuckets(s3, Object.values(buckets));
    s3.destroy();
  });

  it('prints the plan; --dry-run makes nothing; setup applies it; then there is nothing to change', async () => {
    const dry = await setup(['--dry-run'], env);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`^Plan for ${config.endpoint}:\\n  ${buckets.staging} \\(staging\\)\\n    \\+ create the bucket\\n`));
    assert.match(dry.stdout, /~ set CORS: PUT, POST, GET, HEAD, DELETE from https:\/\/app\.example\.test with content-type, content-md5, exposing ETag/);
    assert.match(dry.stdout, /~ set lifecycle: expire objects after 1 day; abort multipart uploads unfinished after 1 day/);
    assert.match(dry.stdout, /Dry run: 9 changes planned, none made\.\n$/);
    await assert.rejects(s3.send(new HeadBucketCommand({ Bucket: buckets.public })), 'nothing was made');

    const applied = await setup([], env);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /Applied 9 changes\.\n$/);
    await s3.send(new HeadBucketCommand({ Bucket: buckets.public }));

    const again = await setup([], env);
    assert.equal(again.stdout, `Nothing to change: the buckets on ${config.endpoint} match the configuration.\n`);
    const json = JSON.parse((await setup(['--json'], env)).stdout) as { changes: unknown[]; applied: boolean };
    assert.deepEqual([json.changes, json.applied], [[], false]);
  });

  it('a plan with a change after settings drift, in JSON', async () => {
    const json = JSON.parse((await setup(['--json', '--dry-run'], { ...env, CORS_ORIGINS: 'https://other.example.test' })).stdout) as {
      changes: { bucket: string; setting: string }[];
    };
    assert.deepEqual(json.changes.map((change) => `${change.bucket} ${change.setting}`), [`${buckets.staging} cors`, `${buckets.public} cors`]);
  });

  it('a refused credential: exit 1 and what to check; the disk driver: exit 2', async () => {
    // The environment names an admin credential (as npm test's does): setup uses that one.
    const refused = await setup([], { ...env, S3_ADMIN_SECRET_ACCESS_KEY: 'not-the-secret' });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /could not read its settings .*Storage refused the credential: check S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY/);
    const disk = await setup([], { STORAGE_DRIVER: 'disk' });
    assert.equal(disk.code, 2);
    assert.match(disk.stderr, /setup works on S3-compatible storage: set STORAGE_DRIVER=s3/);
  });
});
