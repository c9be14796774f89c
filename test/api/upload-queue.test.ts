/**
 * The upload queue (@upfront/client/queue) with the real client against a real API on disk storage:
 * files go a few at a time, each through queued → starting → uploading → finishing → done, with totals;
 * a refused file ends in its error code and sentence; pause/resume and cancel of running and queued
 * items; retry, remove, clear. Storage requests pass a gate the test opens and closes (the client is
 * given a fetch that holds them), so "in flight" is a state, not a race.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createClient, type UpfrontClient } from '@upfront/client';
import { createUploadQueue, describeQueue, type QueueSnapshot, type UploadQueue, type UploadState } from '@upfront/client/queue';
import { makePng } from '../support/png.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

/** Holds storage requests (anything outside /v1/) while closed; an aborted request leaves it. */
function gatedFetch() {
  let open = true;
  const waiting = new Set<() => void>();
  let holding: (() => void) | undefined;
  const fetchThroughGate: typeof fetch = async (input, init) => {
    if (!new URL(String(input)).pathname.startsWith('/v1/') && !open) {
      await new Promise<void>((resolve, reject) => {
        const pass = () => resolve();
        waiting.add(pass);
        holding?.();
        init?.signal?.addEventListener('abort', () => {
          waiting.delete(pass);
          reject(init.signal!.reason);
        });
      });
    }
    return fetch(input, init);
  };
  return {
    fetch: fetchThroughGate,
    close: () => (open = false),
    open() {
      open = true;
      for (const pass of waiting) pass();
      waiting.clear();
    },
    waiting: () => waiting.size,
    /** Resolves once a storage request is held. */
    holding: () => (waiting.size > 0 ? Promise.resolve() : new Promise<void>((resolve) => (holding = resolve))),
  };
}

const png = (name: string, bytes = 50_000) => new File([new Uint8Array(makePng({ minBytes: bytes }))], name, { type: 'image/png' });

/** Resolves with the snapshot once `ready` holds for it (checked at every change). */
function until(queue: UploadQueue, ready: (snapshot: QueueSnapshot) => boolean): Promise<QueueSnapshot> {
  return new Promise((resolve) => {
    const check = () => {
      if (!ready(queue.getSnapshot())) return;
      stop();
      resolve(queue.getSnapshot());
    };
    const stop = queue.subscribe(check);
    check();
  });
}

const stateOf = (queue: UploadQueue, key: string) => queue.getSnapshot().items.find((item) => item.key === key);
const settled = (snapshot: QueueSnapshot) => snapshot.total.active === 0;

describe('upload queue against a real API (disk storage)', () => {
  let server: TestServer;
  let token: string;
  let gate: ReturnType<typeof gatedFetch>;
  let client: UpfrontClient;

  before(async () => {
    server = await startTestServer({ driver: 'disk' });
    token = await server.token(`queue-${randomUUID().slice(0, 8)}`);
  });

  after(async () => {
    await server?.close();
  });

  beforeEach(() => {
    gate = gatedFetch();
    client = createClient({ endpoint: server.url, token, fetch: gate.fetch });
  });

  it('uploads files a few at a time, each through the stages in order, with totals', async () => {
    const queue = createUploadQueue(client, { concurrency: 2 });
    const seen = new Map<string, UploadState[]>();
    let mostRunning = 0;
    queue.subscribe(() => {
      const { items } = queue.getSnapshot();
      mostRunning = Math.max(mostRunning, items.filter((item) => ['starting', 'uploading', 'finishing'].includes(item.state)).length);
      for (const item of items) {
        const states = seen.get(item.key) ?? [];
        if (states.at(-1) !== item.state) seen.set(item.key, [...states, item.state]);
      }
    });
    const files = [png('a.png'), png('b.png', 80_000), png('c.png'), png('d.png', 20_000)];
    const keys = queue.add(files, { route: 'image' });
    assert.equal(keys.length, 4);
    assert.equal(new Set(keys).size, 4);

    const end = await until(queue, settled);
    const size = files.reduce((sum, file) => sum + file.size, 0);
    assert.deepEqual(end.total, { loaded: size, total: size, done: 4, failed: 0, active: 0 });
    assert.equal(mostRunning, 2, 'two files at once, never more');
    for (const key of keys) assert.deepEqual(seen.get(key), ['queued', 'starting', 'uploading', 'finishing', 'done'], key);
    for (const [index, item] of end.items.entries()) {
      assert.equal(item.name, files[index]!.name);
      assert.equal(item.file?.filename, files[index]!.name);
      assert.equal(item.file?.size, files[index]!.size);
      assert.ok(item.uploadId);
      assert.equal((await client.getFile(item.file!.id)).size, files[index]!.size);
    }
    assert.equal(describeQueue(end), 'Uploaded 4 files.');
  });

  it('a refused file ends as error with its code and a sentence; the others go on', async () => {
    const queue = createUploadQueue(client);
    const text = new File(['This is plain text pretending to be a picture.\n'.repeat(40)], 'notes.png', { type: 'image/png' });
    const [bad, good] = queue.add([text, png('fine.png')], { route: 'image' });
    const end = await until(queue, settled);
    const failed = stateOf(queue, bad!)!;
    assert.equal(failed.state, 'error');
    assert.equal(failed.error?.code, 'content_type_mismatch');
    assert.ok(failed.error!.detail.length > 20, failed.error!.detail);
    assert.equal(stateOf(queue, good!)!.state, 'done');
    assert.deepEqual({ done: end.total.done, failed: end.total.failed, total: end.total.total }, { done: 1, failed: 1, total: png('x.png').size });
    assert.equal(describeQueue(end), `Uploaded 1 file, 1 failed. notes.png failed: ${failed.error!.detail}`);
  });

  it('pauses an upload in flight and resumes it', async () => {
    const queue = createUploadQueue(client);
    gate.close();
    const [key] = queue.add([png('paused.png')], { route: 'image' });
    await gate.holding();
    assert.equal(stateOf(queue, key!)!.state, 'uploading');
    queue.pause(key!);
    assert.equal(stateOf(queue, key!)!.paused, true);
    assert.equal(gate.waiting(), 0, 'the request in flight was cut');
    assert.equal(describeQueue(queue.getSnapshot()), 'Uploading 1 file, 1 paused.');
    gate.open();
    const snapshot = queue.getSnapshot();
    assert.equal(stateOf(queue, key!)!.state, 'uploading');
    queue.resume(key!);
    assert.notEqual(queue.getSnapshot(), snapshot, 'a change makes a new snapshot');
    assert.equal(queue.getSnapshot(), queue.getSnapshot(), 'no change, same snapshot');
    const end = await until(queue, settled);
    assert.equal(end.items[0]!.state, 'done');
    assert.equal(end.items[0]!.paused, false);
  });

  it('a paused queued file waits until it is resumed', async () => {
    const queue = createUploadQueue(client, { concurrency: 1 });
    const [first, second] = queue.add([png('first.png'), png('second.png')], { route: 'image' });
    queue.pause(second!);
    await until(queue, () => stateOf(queue, first!)!.state === 'done');
    assert.equal(stateOf(queue, second!)!.state, 'queued');
    assert.equal(stateOf(queue, second!)!.paused, true);
    queue.resume(second!);
    await until(queue, settled);
    assert.equal(stateOf(queue, second!)!.state, 'done');
  });

  it('cancels a running upload (aborted on the server) and a queued one; retry uploads it after all', async () => {
    const queue = createUploadQueue(client, { concurrency: 1 });
    gate.close();
    const [running, waiting] = queue.add([png('running.png'), png('waiting.png')], { route: 'image' });
    await until(queue, () => stateOf(queue, running!)!.state === 'uploading');
    await queue.cancel(waiting!);
    assert.equal(stateOf(queue, waiting!)!.error?.code, 'aborted');
    assert.equal(stateOf(queue, waiting!)!.uploadId, undefined, 'never created');
    await queue.cancel(running!);
    const end = await until(queue, settled);
    const cancelled = stateOf(queue, running!)!;
    assert.equal(cancelled.state, 'error');
    assert.deepEqual(cancelled.error, { code: 'aborted', detail: 'The upload was cancelled.' });
    const onServer = await server.api(`/v1/uploads/${cancelled.uploadId}`, { token });
    assert.equal(((await onServer.json()) as { state: string }).state, 'aborted');
    assert.equal(end.total.failed, 2);
    assert.equal(describeQueue(end), 'Uploaded 0 files, 2 failed. waiting.png was cancelled.');

    gate.open();
    queue.retry(running!);
    assert.equal(stateOf(queue, running!)!.error, undefined);
    await until(queue, settled);
    assert.equal(stateOf(queue, running!)!.state, 'done');

    queue.clearFinished();
    assert.deepEqual(queue.getSnapshot().items, []);
    assert.deepEqual(queue.getSnapshot().total, { loaded: 0, total: 0, done: 0, failed: 0, active: 0 });
  });

  it('remove drops a running item and cancels its upload', async () => {
    const queue = createUploadQueue(client);
    gate.close();
    const [key] = queue.add([png('dropped.png')], { route: 'image' });
    const { items } = await until(queue, () => stateOf(queue, key!)!.state === 'uploading');
    const uploadId = items[0]!.uploadId!;
    queue.remove(key!);
    assert.deepEqual(queue.getSnapshot().items, []);
    assert.equal(describeQueue(queue.getSnapshot()), '');
    // The server learns of it from the cancel's DELETE, which runs on after remove returns.
    for (;;) {
      const answer = (await (await server.api(`/v1/uploads/${uploadId}`, { token })).json()) as { state: string };
      if (answer.state === 'aborted') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
});
