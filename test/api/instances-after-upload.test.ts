/**
 * Two API processes on one PostgreSQL database and Ceph RGW, behind a round-robin balancer, with
 * everything that happens after the upload on: storage events (RGW pushes to the balancer), webhooks
 * (both instances deliver from one outbox), the sweeper (running in both, every second) and quotas.
 * Uploads are created on one instance and completed on the other, finalized by an event with no
 * browser, rejected, swept, deleted; every event arrives signed, once per id; and the two instances'
 * metrics together show every family of counters at work.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DEFAULT_BUCKET_SETTINGS, setupBuckets } from '../../packages/server/src/buckets/index.ts';
import { pushUrl } from '../../packages/server/src/events/config.ts';
import type { S3DriverConfig } from '../../packages/server/src/storage/s3-config.ts';
import { createS3Client } from '../../packages/server/src/storage/s3-driver.ts';
import { freePort, startApiProcess, type ApiProcess } from '../support/api-process.ts';
import { freshBuckets, removeBuckets } from '../support/buckets.ts';
import { makePng } from '../support/png.ts';
import { postgresSchema } from '../support/postgres.ts';
import { ownBucketsEnv, rgwAdminConfig } from '../support/rgw-env.ts';
import { roundRobin, type RoundRobin } from '../support/round-robin.ts';
import { removeStorageEvents } from '../support/storage-events.ts';
import { sendToStorage, type CreatedUpload } from '../support/transfer.ts';
import { webhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

const png = makePng({ width: 32, height: 32, minBytes: 20_000 });
const MiB = 1024 * 1024;
const TERMINAL = ['ready', 'rejected', 'expired', 'aborted'];

interface UploadJson {
  id: string;
  state: string;
  fileId: string | null;
  errorCode: string | null;
}

describe('two instances on one PostgreSQL and RGW behind a balancer: events, webhooks, the sweeper', () => {
  const buckets = freshBuckets('twoapi');
  const eventsSecret = randomBytes(24).toString('hex');
  let pg: Awaited<ReturnType<typeof postgresSchema>>;
  let dir: string;
  let receiver: WebhookReceiver;
  let balancer: RoundRobin;
  let a: ApiProcess;
  let b: ApiProcess;
  let config: S3DriverConfig;
  let s3: S3Client;
  let token: string;

  before(async () => {
    pg = await postgresSchema();
    dir = await mkdtemp(join(tmpdir(), 'upfront-two-instances-'));
    receiver = webhookReceiver(await freePort());
    // The first delivery of the first message fails: the retry comes from either instance.
    receiver.respond = (previous) => (previous === 0 && receiver.requests.length === 1 ? 503 : 200);
    await receiver.start();
    balancer = await roundRobin(() => [a.directUrl, b.directUrl]);
    const webhook = { url: receiver.url, secret: receiver.secret };
    const routes = {
      image: { types: ['image/png'], maxSize: '1MB', visibility: 'public', strategy: 'put', webhook, quota: { files: 50 } },
      short: { types: ['image/png'], maxSize: '1MB', visibility: 'public', strategy: 'put', expiresIn: 1, webhook },
      big: { types: ['image/png'], maxSize: '64MB', visibility: 'private', strategy: 'multipart', partSize: '5MB', webhook },
    };
    const file = join(dir, 'upfront.config.json');
    await writeFile(file, JSON.stringify({ routes }));
    const env = {
      ...ownBucketsEnv(buckets),
      STORAGE_DRIVER: 's3',
      DATABASE_URL: pg.url,
      UPFRONT_CONFIG: file,
      // Shared: the dev issuer's key, so a token of one instance is good on the other.
      UPFRONT_DATA_DIR: dir,
      PUBLIC_URL: balancer.url,
      STORAGE_EVENTS_SECRET: eventsSecret,
      SWEEP_INTERVAL_SECONDS: '1',
      // Longer than an event takes: what an event can finalize, it does before the sweeper would.
      SWEEP_SETTLE_SECONDS: '4',
      SWEEP_GRACE_SECONDS: '4',
      WEBHOOK_POLL_INTERVAL_MS: '200',
      WEBHOOK_BACKOFF_BASE_MS: '300',
      LOG_LEVEL: 'warn',
    };
    [a, b] = await Promise.all([startApiProcess(env), startApiProcess(env)]);
    config = { ...rgwAdminConfig(), buckets };
    s3 = createS3Client(config);
    // The buckets, and RGW's notifications pointed at the balancer (as at any load balancer in front).
    const events = { pushUrl: pushUrl({ secret: eventsSecret, url: `${balancer.url}/v1/hooks/storage` }) };
    await setupBuckets(config, { origins: ['http://localhost:*'], ...DEFAULT_BUCKET_SETTINGS, events });
    const res = await fetch(`${balancer.url}/v1/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user":"two-instances"}' });
    assert.equal(res.status, 200, `dev token through the balancer: ${res.status} ${await res.clone().text()}`);
    token = ((await res.json()) as { token: string }).token;
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await balancer?.close();
    await receiver?.stop();
    if (config) await removeStorageEvents(config);
    if (s3) await removeBuckets(s3, Object.values(buckets));
    s3?.destroy();
    await pg?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const api = (base: string, path: string, init: { method?: string; json?: unknown } = {}) =>
    fetch(base + path, {
      method: init.method ?? (init.json === undefined ? 'GET' : 'POST'),
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(init.json !== undefined && { body: JSON.stringify(init.json) }),
    });
  const create = async (base: string, route: string, size = png.length): Promise<CreatedUpload> => {
    const res = await api(base, '/v1/uploads', { json: { route, filename: 'two.png', contentType: 'image/png', size } });
    assert.equal(res.status, 201, await res.clone().text());
    return (await res.json()) as CreatedUpload;
  };
  /** Polls the upload through the balancer until it has ended one way or another. */
  const ended = async (id: string): Promise<UploadJson> => {
    for (let attempt = 0; attempt < 600; attempt++) {
      const upload = (await (await api(balancer.url, `/v1/uploads/${id}`)).json()) as UploadJson;
      if (TERMINAL.includes(upload.state)) return upload;
      await sleep(50);
    }
    throw new Error(`upload ${id} never ended`);
  };
  const stagedExists = async (key: string): Promise<boolean> =>
    s3.send(new HeadObjectCommand({ Bucket: buckets.staging, Key: key })).then(
      () => true,
      (error: { $metadata?: { httpStatusCode?: number } }) => {
        if (error.$metadata?.httpStatusCode === 404) return false;
        throw error;
      },
    );
  const eventsFor = (uploadId: string) => receiver.accepted().filter((delivery) => delivery.event.data.uploadId === uploadId || (delivery.event.data.upload as { id?: string } | undefined)?.id === uploadId);

  it('created on one instance and completed on the other: one file, one signed upload.completed (after a failed first delivery)', async () => {
    const upload = await create(a.directUrl, 'image');
    assert.ok((await sendToStorage(upload, png, 'image/png')).ok);
    const res = await api(b.directUrl, `/v1/uploads/${upload.id}/complete`, { method: 'POST' });
    assert.equal(res.status, 200, await res.clone().text());
    const file = (await res.json()) as { id: string };
    const [delivery] = await receiver.until('upload.completed of the completed upload', () => eventsFor(upload.id).length === 1);
    assert.equal(eventsFor(upload.id)[0]!.event.type, 'upload.completed');
    assert.equal((eventsFor(upload.id)[0]!.event.data.file as { id: string }).id, file.id);
    void delivery;
  });

  it('the browser never comes back: RGW\'s event, through the balancer, finalizes the upload; a wrong file ends rejected', async () => {
    const good = await create(balancer.url, 'image');
    assert.ok((await sendToStorage(good, png, 'image/png')).ok);
    const bad = await create(balancer.url, 'image');
    assert.ok((await sendToStorage(bad, Buffer.alloc(png.length, 'x'), 'image/png')).ok);
    assert.equal((await ended(good.id)).state, 'ready');
    const rejected = await ended(bad.id);
    assert.deepEqual([rejected.state, rejected.errorCode], ['rejected', 'content_type_mismatch']);
    await receiver.until('upload.completed and upload.rejected', () => eventsFor(good.id).length === 1 && eventsFor(bad.id).length === 1);
    assert.equal(eventsFor(bad.id)[0]!.event.type, 'upload.rejected');
    assert.equal(await stagedExists(bad.key), false, 'the rejected bytes are gone from staging');
  });

  it('the sweepers of both instances finish a multipart upload left with all its parts, expire one never sent, and remove bytes sent after an abort', async () => {
    // Multipart: parts are not objects, so no event comes; the sweeper assembles and promotes it.
    const size = 6 * MiB;
    const bytes = Buffer.concat([png, Buffer.alloc(size - png.length)]);
    const multipart = await create(a.directUrl, 'big', size);
    const signed = await api(b.directUrl, `/v1/uploads/${multipart.id}/parts`, { json: { parts: [{ partNumber: 1 }, { partNumber: 2 }] } });
    assert.equal(signed.status, 200, await signed.clone().text());
    const { parts } = (await signed.json()) as { parts: { partNumber: number; url: string; headers: Record<string, string> }[] };
    for (const part of parts) {
      const start = (part.partNumber - 1) * 5 * MiB;
      const res = await fetch(part.url, { method: 'PUT', headers: part.headers, body: bytes.subarray(start, Math.min(size, start + 5 * MiB)) });
      assert.ok(res.ok, `part ${part.partNumber}: ${res.status}`);
    }
    // Never sent: expires (its URL lives a second).
    const never = await create(b.directUrl, 'short');
    // Aborted, then sent anyway through its still-valid URL.
    const late = await create(a.directUrl, 'image');
    assert.equal((await api(b.directUrl, `/v1/uploads/${late.id}`, { method: 'DELETE' })).status, 204);
    assert.ok((await sendToStorage(late, png, 'image/png')).ok, 'storage takes bytes through a URL that is still valid');

    assert.equal((await ended(multipart.id)).state, 'ready');
    assert.equal((await ended(never.id)).state, 'expired');
    await receiver.until('upload.completed of the multipart upload', () => eventsFor(multipart.id).length === 1);
    for (let attempt = 0; attempt < 300 && (await stagedExists(late.key)); attempt++) await sleep(100);
    assert.equal(await stagedExists(late.key), false, 'the bytes sent after the abort were swept from staging');
  });

  it('a file deleted on either instance: file.deleted, once', async () => {
    const upload = await create(b.directUrl, 'image');
    assert.ok((await sendToStorage(upload, png, 'image/png')).ok);
    const file = (await (await api(a.directUrl, `/v1/uploads/${upload.id}/complete`, { method: 'POST' })).json()) as { id: string };
    assert.equal((await api(b.directUrl, `/v1/files/${file.id}`, { method: 'DELETE' })).status, 204);
    const deleted = await receiver.until('file.deleted', (accepted) => accepted.some((d) => d.event.type === 'file.deleted' && (d.event.data.file as { id: string }).id === file.id));
    assert.equal(deleted.filter((d) => d.event.type === 'file.deleted').length, 1);
  });

  it('every event arrived signed, each id accepted once, and the two instances\' metrics show every family at work', async () => {
    assert.deepEqual(receiver.forged, []);
    const accepted = receiver.accepted();
    const ids = accepted.map((delivery) => delivery.id);
    assert.equal(new Set(ids).size, ids.length);
    const acceptedRequests = receiver.requests.filter((delivery) => delivery.status === 200);
    assert.equal(acceptedRequests.length, accepted.length, 'no message was delivered twice');

    const metrics = (await Promise.all([a, b].map(async (instance) => (await fetch(`${instance.url}/metrics`)).text()))).join('\n');
    const families = [
      'upfront_http_requests_total',
      'upfront_http_request_duration_seconds_count',
      'upfront_uploads_created_total',
      'upfront_uploads_completed_total',
      'upfront_uploads_rejected_total',
      'upfront_bytes_promoted_total',
      'upfront_webhook_deliveries_total',
      'upfront_sweeper_actions_total',
      'upfront_storage_request_duration_seconds_count',
      'upfront_storage_events_total',
    ];
    for (const family of families) assert.ok(total(metrics, family) > 0, `${family} is above zero on the two instances together`);
    assert.ok(total(metrics, 'upfront_webhook_deliveries_total', 'outcome="failed"') > 0, 'the failed first delivery was counted');
    // Both instances did work: the balancer sent each of them requests.
    assert.ok([...balancer.sent.values()].every((count) => count > 0) && balancer.sent.size === 2);
  });
});

/** The sum of a family's samples (optionally those with a label pair). */
function total(metrics: string, name: string, label?: string): number {
  let sum = 0;
  for (const line of metrics.split('\n')) {
    const match = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (match?.[1] === name && (!label || (match[2] ?? '').includes(label))) sum += Number(match[3]);
  }
  return sum;
}
