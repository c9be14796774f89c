/**
 * The client SDK in Node against a real API over HTTP, on both storage drivers (disk, Ceph RGW): a
 * 16 MiB file goes in 5 MiB parts from a path and from a stream and lands byte-identical with its
 * SHA-256; pause/resume, cancel, resume after a crash (only the missing parts are sent), retries through
 * injected faults (network errors, 5xx, 429, a cut body, a stall, a lost complete), part URLs that expire
 * mid-upload signed again, storage refusals explained, an API restart mid-upload, several files at once.
 * Faults come from a fetch wrapper the client is given; every request it makes is recorded.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, openAsBlob } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient, type UpfrontClientOptions, type UploadedFile, type UploadProgress } from '@upfront/client';
import { makePng } from '../support/png.ts';
import { startTestServer, type Driver, type TestServer } from '../support/server.ts';

const MiB = 1024 * 1024;
const PART = 5 * MiB;
// 5 + 5 + 5 + 1 MiB and a little: four parts.
const png = makePng({ width: 16, height: 16, minBytes: 16 * MiB + 4321 });
const PARTS = Math.ceil(png.length / PART);
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('base64');

const routes = {
  big: { types: ['image/png'], maxSize: '64MB', visibility: 'public', multipartThreshold: '6MB', partSize: '5MB' },
  short: { types: ['image/png'], maxSize: '64MB', visibility: 'public', strategy: 'multipart', partSize: '5MB', expiresIn: 1 },
  single: { types: ['image/png'], maxSize: '64MB', visibility: 'public', strategy: 'put', expiresIn: 1 },
};

type Kind = 'create' | 'sign' | 'state' | 'complete' | 'abort' | 'part' | 'put' | 'other';

/** One request the client made, as the fetch wrapper saw it. */
interface Call {
  kind: Kind;
  partNumber: number | undefined;
  url: string;
  init: RequestInit;
  /** The HTTP status storage or the API answered, or 0 when the request failed before an answer. */
  status?: number;
}

/** Decides what a request gets: `send()` sends it for real; a hook may fail it, delay it, or lose its answer. */
type Hook = (call: Call, send: () => Promise<Response>, attempt: number) => Promise<Response>;

function kindOf(url: URL, method: string): Kind {
  if (url.searchParams.has('partNumber')) return 'part';
  if (!url.pathname.startsWith('/v1/uploads')) return method === 'PUT' ? 'put' : 'other';
  if (url.pathname.endsWith('/parts')) return 'sign';
  if (url.pathname.endsWith('/complete')) return 'complete';
  if (url.pathname === '/v1/uploads') return 'create';
  return method === 'DELETE' ? 'abort' : 'state';
}

/**
 * A fetch that records every call (kind, part number, status) and the most storage requests in flight
 * at once; `hook` may change what a call gets. `api` maps the client's endpoint to the server's URL
 * (it can change when the API restarts).
 */
function traffic(hook?: Hook, api?: { from: string; to: () => string | undefined }) {
  const calls: Call[] = [];
  const attempts = new Map<string, number>();
  let inFlight = 0;
  let most = 0;
  let idle: (() => void)[] = [];
  const fetchImpl: typeof fetch = async (input, init = {}) => {
    let url = String(input);
    const parsed = new URL(url);
    const call: Call = { kind: kindOf(parsed, init.method ?? 'GET'), partNumber: Number(parsed.searchParams.get('partNumber')) || undefined, url, init };
    calls.push(call);
    const key = `${call.kind}:${call.partNumber ?? ''}`;
    const attempt = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, attempt);
    const storage = call.kind === 'part' || call.kind === 'put';
    if (storage) most = Math.max(most, ++inFlight);
    try {
      if (api && url.startsWith(api.from)) {
        const target = api.to();
        if (!target) throw new TypeError('fetch failed: connection refused (the API is restarting)');
        url = target + url.slice(api.from.length);
      }
      const response = await (hook ? hook(call, () => fetch(url, init), attempt) : fetch(url, init));
      call.status = response.status;
      return response;
    } catch (error) {
      call.status = 0;
      throw error;
    } finally {
      if (storage && --inFlight === 0) for (const resolve of idle.splice(0)) resolve();
    }
  };
  return {
    fetch: fetchImpl,
    calls,
    of: (kind: Kind) => calls.filter((call) => call.kind === kind),
    get mostInFlight() {
      return most;
    },
    get inFlight() {
      return inFlight;
    },
    /** Resolves once no storage request is in flight. */
    idle: () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => idle.push(resolve))),
  };
}

/** A network error after the body was partly sent: reads `bytes` of the request body, then fails. */
async function cutAfter(init: RequestInit, bytes: number): Promise<never> {
  const reader = (init.body as ReadableStream<Uint8Array>).getReader();
  for (let read = 0; read < bytes; ) {
    const { done, value } = await reader.read();
    if (done) break;
    read += value.byteLength;
  }
  await reader.cancel();
  throw new TypeError('fetch failed: other side closed');
}

/** Waits until `condition()` holds; a broken upload then fails the test instead of hanging it. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Gave up waiting for ${what}`);
    await sleep(10);
  }
}

/** Resolves when `signal` aborts; fails after 30 s, so a request nobody cuts fails the test instead of hanging it. */
function whenAborted(signal: AbortSignal, what: string): Promise<void> {
  return Promise.race([
    new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve())),
    sleep(30_000, undefined, { ref: false }).then(() => {
      throw new Error(`${what} was never cut`);
    }),
  ]);
}

function assertMonotonic(progress: UploadProgress[], total: number): void {
  const values = progress.map((p) => p.loaded);
  for (let i = 1; i < values.length; i++) assert.ok(values[i]! >= values[i - 1]!, `progress went back: ${values.join(', ')}`);
  assert.ok(progress.every((p) => p.total === total && p.loaded <= total));
  assert.equal(values.at(-1), total, 'progress ends at the total');
}

for (const driver of ['disk', 's3'] as Driver[]) {
  describe(`the client uploads in parts (${driver} storage)`, () => {
    let server: TestServer;
    let dir: string;
    let path: string;
    let token: string;
    let user: string;

    before(async () => {
      server = await startTestServer({ driver, routes });
      dir = await mkdtemp(join(tmpdir(), 'upfront-client-'));
      path = join(dir, 'big.png');
      await writeFile(path, png);
      user = `alice-${randomUUID().slice(0, 8)}`;
      token = await server.token(user);
    });
    after(async () => {
      await server?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    /** A client of this server that retries quickly, so tests of failures run fast. */
    const client = (options: Partial<UpfrontClientOptions> = {}) => createClient({ endpoint: server.url, token, retryDelay: 5, ...options });

    async function assertLanded(file: UploadedFile, bytes: Uint8Array = png): Promise<void> {
      assert.equal(file.size, bytes.length);
      assert.equal(file.sha256, sha256(bytes), 'the SHA-256 the client computed is kept with the file');
      const served = await fetch(file.url);
      assert.equal(served.status, 200);
      assert.equal(sha256(new Uint8Array(await served.arrayBuffer())), sha256(bytes), 'byte-identical');
    }

    const uploadState = async (id: string) =>
      (await (await server.api(`/v1/uploads/${id}`, { token })).json()) as { state: string; parts?: { partNumber: number }[] };

    it('a 16 MiB file from a path: four parts in parallel with their MD5s, lands byte-identical with its SHA-256', async () => {
      const net = traffic();
      const progress: UploadProgress[] = [];
      const task = client({ fetch: net.fetch }).upload(await openAsBlob(path, { type: 'image/png' }), {
        route: 'big',
        filename: 'big.png',
        onProgress: (p) => progress.push(p),
      });
      const file = await task;
      await assertLanded(file);
      const parts = net.of('part');
      assert.deepEqual(parts.map((call) => call.partNumber).sort(), [1, 2, 3, 4]);
      for (const call of parts) {
        const number = call.partNumber!;
        const headers = new Headers(call.init.headers);
        assert.equal(headers.get('content-md5'), md5(png.subarray((number - 1) * PART, number * PART)), `part ${number} carries its MD5`);
        assert.equal(call.status, 200);
      }
      assert.ok(net.of('sign').length <= PARTS, `${net.of('sign').length} sign calls for ${PARTS} parts`);
      assert.ok(net.mostInFlight <= 4 && net.mostInFlight >= 2, `parts in flight at once: ${net.mostInFlight}`);
      assert.equal(net.of('create').length, 1);
      assert.equal(net.of('complete').length, 1);
      assert.ok(progress.length > 2, 'progress while parts are sent');
      assertMonotonic(progress, png.length);
      assert.match(task.id ?? '', /^[0-9a-f-]{36}$/);
    });

    it('parts are signed in batches a window ahead of sending (4 per sender), not all at once', async () => {
      // 12 parts; without checksums every part is ready to sign at once, so only the window limits a batch.
      const bytes = makePng({ width: 8, height: 8, minBytes: 11 * PART + 1000 });
      const net = traffic();
      const file = await client({ fetch: net.fetch, partConcurrency: 1 }).upload(new File([new Uint8Array(bytes)], 'batched.png', { type: 'image/png' }), {
        route: 'big',
        checksums: false,
      });
      assert.equal(file.size, bytes.length);
      assert.equal(file.sha256, null, 'no checksums');
      const batches = net.of('sign').map((call) => (JSON.parse(String(call.init.body)) as { parts: { partNumber: number }[] }).parts.map((part) => part.partNumber));
      assert.deepEqual(batches, [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]);
      // Each batch is asked for only when its first part is due: after the parts before it were sent.
      const order = net.calls.filter((call) => call.kind === 'sign' || call.kind === 'part').map((call) => (call.kind === 'sign' ? 'sign' : call.partNumber));
      assert.deepEqual(order, ['sign', 1, 2, 3, 4, 'sign', 5, 6, 7, 8, 'sign', 9, 10, 11, 12]);
    });

    it('a 16 MiB stream: read part by part, never more than the parts in flight ahead of storage', async () => {
      let read = 0;
      let acknowledged = 0;
      let mostAhead = 0;
      const net = traffic(async (call, send) => {
        const response = await send();
        if (call.kind === 'part' && response.ok) acknowledged += PART;
        return response;
      });
      const stream = (async function* () {
        for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 })) {
          read += (chunk as Buffer).length;
          mostAhead = Math.max(mostAhead, read - acknowledged);
          yield chunk as Buffer;
        }
      })();
      const file = await client({ fetch: net.fetch, partConcurrency: 2 }).upload(
        { stream, size: png.length, name: 'streamed.png', type: 'image/png' },
        { route: 'big' },
      );
      await assertLanded(file);
      assert.equal(net.of('part').length, PARTS);
      // Two parts in flight and the one being gathered; never the whole file.
      assert.ok(mostAhead <= 3 * PART, `read ${mostAhead} bytes ahead of what storage acknowledged`);
    });

    it('a file below the threshold goes in one PUT that carries its MD5 (storage refuses other bytes)', async () => {
      const small = makePng({ width: 8, height: 8, minBytes: 300_000 });
      const net = traffic();
      const file = await client({ fetch: net.fetch }).upload(new File([new Uint8Array(small)], 'small.png', { type: 'image/png' }), { route: 'big' });
      await assertLanded(file, small);
      const [put] = net.of('put');
      assert.equal(new Headers(put!.init.headers).get('content-md5'), md5(small));
      assert.equal(net.of('part').length, 0);
      const streamed = await client().upload({ stream: new Blob([new Uint8Array(small)]).stream(), size: small.length, name: 's.png', type: 'image/png' }, { route: 'big' });
      await assertLanded(streamed, small);
    });

    it('pause cuts the parts in flight and sends nothing until resume; then it completes, progress never going back', async () => {
      let task: ReturnType<ReturnType<typeof client>['upload']> | undefined;
      let pausedAt = -1;
      const net = traffic(async (call, send) => {
        const response = await send();
        // Paused when a part lands while another is still in flight (the one the pause must cut).
        if (call.kind === 'part' && response.ok && pausedAt < 0 && net.inFlight > 1) {
          task!.pause();
          pausedAt = net.calls.length;
        }
        return response;
      });
      const progress: UploadProgress[] = [];
      task = client({ fetch: net.fetch }).upload(await openAsBlob(path, { type: 'image/png' }), { route: 'big', filename: 'paused.png', onProgress: (p) => progress.push(p) });
      await until(() => pausedAt >= 0, 'the pause');
      await net.idle();
      const sentBeforePause = net.of('part').length;
      await sleep(300);
      assert.equal(net.of('part').length, sentBeforePause, 'no part was sent while paused');
      assert.ok(net.of('part').some((call) => call.status === 0), 'parts in flight were cut by the pause');
      task.resume();
      await assertLanded(await task);
      assert.deepEqual([...new Set(net.of('part').filter((call) => call.status === 200).map((call) => call.partNumber))].sort(), [1, 2, 3, 4]);
      assertMonotonic(progress, png.length);
    });

    it('cancel aborts the upload on the server, and the task fails with `aborted`', async () => {
      let cancelled: Promise<void> | undefined;
      let task: ReturnType<ReturnType<typeof client>['upload']> | undefined;
      const net = traffic(async (call, send) => {
        const response = await send();
        if (call.kind === 'part' && response.ok) cancelled ??= task!.cancel();
        return response;
      });
      task = client({ fetch: net.fetch }).upload(await openAsBlob(path, { type: 'image/png' }), { route: 'big', filename: 'cancelled.png' });
      await assert.rejects(task, { code: 'aborted' });
      await cancelled;
      assert.equal(net.of('abort').length, 1);
      assert.equal((await uploadState(task.id!)).state, 'aborted');
      const partsAfter = net.calls.slice(net.calls.findIndex((call) => call.kind === 'abort')).filter((call) => call.kind === 'part');
      assert.equal(partsAfter.length, 0, 'nothing sent after the cancel');
    });

    it('after a crash, the same file resumes: the same upload, only the parts storage lacks are sent', async () => {
      // First run: stopped by its signal after two parts landed, as if the process had died there.
      const crash = new AbortController();
      let landed = 0;
      const first = traffic(async (call, send) => {
        // Parts 3 and 4 are still on their way when the process dies.
        if (call.kind === 'part' && call.partNumber! > 2) {
          await whenAborted(crash.signal, `part ${call.partNumber}`);
          throw new DOMException('This operation was aborted', 'AbortError');
        }
        const response = await send();
        if (call.kind === 'part' && response.ok && ++landed === 2) crash.abort();
        return response;
      });
      const interrupted = client({ fetch: first.fetch }).upload(await openAsBlob(path, { type: 'image/png' }), { route: 'big', filename: 'resumed.png', signal: crash.signal });
      await assert.rejects(interrupted, { code: 'aborted' });
      assert.equal(first.of('abort').length, 0, 'the signal does not abort the upload on the server');
      const stored = (await uploadState(interrupted.id!)).parts!.map((part) => part.partNumber);
      assert.deepEqual(stored, [1, 2], 'storage holds the parts that landed');

      // Second run, a new client (a new process): the same file again.
      const second = traffic();
      const resumed = client({ fetch: second.fetch }).upload(await openAsBlob(path, { type: 'image/png' }), { route: 'big', filename: 'resumed.png' });
      await assertLanded(await resumed);
      assert.equal(resumed.id, interrupted.id, 'the same upload');
      const sent = second.of('part').map((call) => call.partNumber!).sort();
      assert.deepEqual(sent, [3, 4], 'only the missing parts were sent');
    });

    it('network errors, a 500, a 429, a body cut mid-way, a stall, a failed create, sign and complete, a lost answer: still byte-identical', async () => {
      let stalled = '';
      const net = traffic(async (call, send, attempt) => {
        if (attempt === 1) {
          switch (call.kind) {
            case 'create':
              return new Response(JSON.stringify({ code: 'internal_error', detail: 'Try again.' }), { status: 502, headers: { 'content-type': 'application/problem+json' } });
            case 'sign':
              throw new TypeError('fetch failed: connection reset');
            case 'complete':
              throw new TypeError('fetch failed: the API cannot be reached');
          }
          switch (call.partNumber) {
            case 1:
              throw new TypeError('fetch failed: network down');
            case 2:
              return new Response('<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>', { status: 500 });
            case 3:
              return new Response('<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>', { status: 429, headers: { 'retry-after': '0' } });
            case 4:
              return cutAfter(call.init, 256 * 1024);
          }
        }
        if (call.kind === 'part' && call.partNumber === 4 && attempt === 2) {
          // Takes a first chunk, then stalls until the client gives up on it.
          const reader = (call.init.body as ReadableStream<Uint8Array>).getReader();
          await reader.read();
          stalled = await whenAborted(call.init.signal!, 'the stalled part').then(() => 'cut', () => 'never cut');
          throw new DOMException('This operation was aborted', 'AbortError');
        }
        if (call.kind === 'complete' && attempt === 2) {
          // The API completes the upload, but its answer is lost on the way back.
          await send();
          throw new TypeError('fetch failed: socket hang up');
        }
        return send();
      });
      const progress: UploadProgress[] = [];
      const file = await client({ fetch: net.fetch, stallTimeout: 500 }).upload(await openAsBlob(path, { type: 'image/png' }), {
        route: 'big',
        filename: 'faulty.png',
        onProgress: (p) => progress.push(p),
      });
      await assertLanded(file);
      for (let n = 1; n <= PARTS; n++) {
        const statuses = net.of('part').filter((call) => call.partNumber === n).map((call) => call.status);
        assert.equal(statuses.at(-1), 200, `part ${n}: ${statuses}`);
        assert.ok(statuses.length >= 2, `part ${n} was retried: ${statuses}`);
      }
      assert.equal(net.of('part').filter((call) => call.partNumber === 4).length, 3, 'part 4: cut, stalled, sent');
      assert.equal(stalled, 'cut', 'the client cut the stalled request');
      assert.deepEqual(net.of('complete').map((call) => call.status), [0, 0, 200], 'complete retried, idempotent');
      assertMonotonic(progress, png.length);
    });

    it('part URLs that expire before they are used are signed again, without the caller noticing', async () => {
      const net = traffic(async (call, send, attempt) => {
        // The first attempt of parts 1 and 3 waits past the URL's 1 s lifetime.
        if (call.kind === 'part' && attempt === 1 && (call.partNumber === 1 || call.partNumber === 3)) await sleep(2100);
        return send();
      });
      const file = await client({ fetch: net.fetch }).upload(await openAsBlob(path, { type: 'image/png' }), { route: 'short', filename: 'late.png' });
      await assertLanded(file);
      for (const n of [1, 3]) {
        assert.deepEqual(net.of('part').filter((call) => call.partNumber === n).map((call) => call.status), [403, 200], `part ${n}`);
      }
      const signedParts = net.of('sign').flatMap((call) => (JSON.parse(String(call.init.body)) as { parts: { partNumber: number }[] }).parts.map((part) => part.partNumber));
      assert.deepEqual(signedParts.sort(), [1, 1, 2, 3, 3, 4], 'the expired parts were signed twice, the others once');
    });

    it('storage refusing parts of an upload aborted elsewhere is explained as upload_aborted', async () => {
      let aborted = false;
      let task: ReturnType<ReturnType<typeof client>['upload']> | undefined;
      const net = traffic(async (call, send) => {
        const response = await send();
        if (call.kind === 'part' && response.ok && !aborted) {
          aborted = true;
          // Another tab cancels it.
          const res = await server.api(`/v1/uploads/${task!.id}`, { method: 'DELETE', token });
          assert.equal(res.status, 204);
        }
        return response;
      });
      // One part at a time, all signed at first (no checksums to wait for): part 2 goes to storage with a URL signed before the abort.
      task = client({ fetch: net.fetch, partConcurrency: 1 }).upload(await openAsBlob(path, { type: 'image/png' }), { route: 'big', filename: 'elsewhere.png', checksums: false });
      await assert.rejects(task, (error: { code: string; detail: string; status: number }) => {
        assert.equal(error.code, 'upload_aborted', JSON.stringify(error));
        assert.match(error.detail, /cancelled elsewhere/);
        assert.equal(error.status, 404, 'storage said NoSuchUpload');
        return true;
      });
      assert.equal(net.of('state').length, 1, 'the client asked the API what state the upload is in');
      assert.equal(net.of('sign').length, 1);
    });

    it('a single PUT whose URL expired before it was sent is explained as upload_expired', async () => {
      const small = makePng({ width: 8, height: 8, minBytes: 50_000 });
      const net = traffic(async (call, send) => {
        if (call.kind === 'put') await sleep(2100);
        return send();
      });
      await assert.rejects(client({ fetch: net.fetch }).upload(new File([new Uint8Array(small)], 'slow.png', { type: 'image/png' }), { route: 'single' }), (error: { code: string; status: number }) => {
        assert.equal(error.code, 'upload_expired', JSON.stringify(error));
        assert.equal(error.status, 403);
        return true;
      });
      assert.equal(net.of('state').length, 1, 'the client asked the API what state the upload is in');
    });

    it('the API restarting before complete: the client retries, the new process completes from the database and storage', async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'upfront-restart-'));
      const start = () => startTestServer({ driver, routes, env: { UPFRONT_DATA_DIR: dataDir } });
      let current: TestServer | undefined = await start();
      let restarted: Promise<void> | undefined;
      // The dev issuer signs with a key of its own per process: a token from the server that runs now.
      const tokens = new Map<TestServer, Promise<string>>();
      const token = () => {
        if (!current) return 'the API is down: this request fails before it is sent';
        if (!tokens.has(current)) tokens.set(current, current.token(user));
        return tokens.get(current)!;
      };
      try {
        let landed = 0;
        const net = traffic(
          async (call, send) => {
            const response = await send();
            // Down once every part is in storage: the complete meets a stopped API.
            if (call.kind === 'part' && response.ok && ++landed === PARTS) {
              const stopping = current!;
              current = undefined;
              restarted = stopping.close().then(async () => {
                current = await start();
              });
            }
            return response;
          },
          { from: 'http://upfront.invalid', to: () => current?.url },
        );
        const file = await createClient({ endpoint: 'http://upfront.invalid', token, fetch: net.fetch, retryDelay: 50, retries: 8 }).upload(
          await openAsBlob(path, { type: 'image/png' }),
          { route: 'big', filename: 'restart.png' },
        );
        await restarted;
        await assertLanded(file);
        const completes = net.of('complete').map((call) => call.status);
        assert.equal(completes[0], 0, 'the first complete met the stopped API');
        assert.equal(completes.at(-1), 200, `completes: ${completes}`);
      } finally {
        await restarted?.catch(() => undefined);
        await current?.close();
        await rm(dataDir, { recursive: true, force: true });
      }
    });

    it('several files at once share the client\'s storage connections', async () => {
      const files = [0, 1, 2].map(() => makePng({ width: 8, height: 8, minBytes: 11 * MiB }));
      const net = traffic();
      const upfront = client({ fetch: net.fetch, connections: 3 });
      const uploaded = await Promise.all(files.map((bytes, i) => upfront.upload(new File([new Uint8Array(bytes)], `many-${i}.png`, { type: 'image/png' }), { route: 'big' })));
      for (const [i, file] of uploaded.entries()) await assertLanded(file, files[i]);
      assert.equal(net.of('part').length, 9);
      assert.ok(net.mostInFlight <= 3, `${net.mostInFlight} storage requests at once`);
    });
  });
}
