/**
 * Faults, for real, in the middle of a large upload through @upfront/client in Node, each ending with
 * a byte-identical file (SHA-256): the API process killed (SIGKILL) and started again; radosgw killed
 * and started again; a TCP proxy between the client and storage cutting connections mid-part. On
 * both drivers where they apply (the disk driver's storage lives in the API process). Most go through
 * a fetch the client is given (it sees every request); the last ones go through the client's own Node
 * transport (node:http, a file read by path), which apps that give no fetch use: connections cut and
 * stalled by the proxy, part URLs expired during a pause, a POST form.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createClient, type UpfrontClientOptions, type UploadTask } from '@upfront/client';
import { fileFromPath } from '@upfront/client/node';
import { freePort, startApiProcess, type ApiProcess } from '../support/api-process.ts';
import { startIdp, type Idp } from '../support/idp.ts';
import { makePng } from '../support/png.ts';
import { rgwConfig } from '../support/rgw-env.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';

const run = promisify(execFile);
const MiB = 1024 * 1024;
// Nine 5 MiB parts.
const png = makePng({ width: 16, height: 16, minBytes: 42 * MiB });
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const gateway = fileURLToPath(new URL('../../scripts/rgw/gateway.sh', import.meta.url));
const routes = {
  big: { types: ['image/png'], maxSize: '64MB', visibility: 'public', multipartThreshold: '6MB', partSize: '5MB' },
  // Part URLs that live 2 s (X-Amz-Expires counts whole seconds).
  short: { types: ['image/png'], maxSize: '64MB', visibility: 'public', strategy: 'multipart', partSize: '5MB', expiresIn: 2 },
  form: { types: ['image/png'], maxSize: '64MB', visibility: 'public', strategy: 'post' },
};

interface Setup {
  api: ApiProcess;
  token: string;
  close(): Promise<void>;
}

let idp: Idp;
let dir: string;

before(async () => {
  // Tokens of an identity provider outside the API, as in production: they survive its restart.
  idp = await startIdp();
  dir = await mkdtemp(join(tmpdir(), 'upfront-faults-'));
  await writeFile(join(dir, 'upfront.config.json'), JSON.stringify({ routes }));
  await writeFile(join(dir, 'faulty.png'), png);
});
after(async () => {
  await idp?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function startApi(driver: 'disk' | 's3', env: Record<string, string> = {}, port?: number): Promise<Setup> {
  const dataDir = await mkdtemp(join(dir, `${driver}-`));
  const s3 = driver === 's3' ? Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('S3_'))) : {};
  if (driver === 's3') rgwConfig(); // fails, naming what is missing, when no RGW runs
  const api = await startApiProcess({
    ...idp.env,
    ...(s3 as Record<string, string>),
    STORAGE_DRIVER: driver,
    UPFRONT_DATA_DIR: dataDir,
    UPFRONT_CONFIG: join(dir, 'upfront.config.json'),
    ...env,
  }, port);
  return { api, token: await idp.sign({ sub: `faulty-${driver}` }, { expiresIn: 3600 }), close: () => api.close() };
}

/** When the fault strikes: once this many part PUTs landed (the rest in flight), or just before complete. */
type When = { afterParts: number } | 'before complete';

/**
 * Uploads `png` with a client that retries quickly; `fault` runs once, at `when`. Returns the stored
 * file, and how many requests failed (no answer, or a 5xx) after the fault struck.
 */
async function uploadThrough(endpoint: string, token: string, when: When, fault: () => Promise<void>) {
  let landed = 0;
  let failed = 0;
  let faulted: Promise<void> | undefined;
  const client = createClient({
    endpoint,
    token,
    retries: 12,
    retryDelay: 100,
    stallTimeout: 5000,
    fetch: async (input, init) => {
      const url = new URL(String(input));
      if (when === 'before complete' && url.pathname.endsWith('/complete') && !faulted) {
        faulted = fault();
        await sleep(50); // the fault is under way (a kill is instant) when this request goes out
      }
      try {
        const response = await fetch(input, init);
        if (faulted && response.status >= 500) failed++;
        if (when !== 'before complete' && url.searchParams.has('partNumber') && response.ok && ++landed === when.afterParts) faulted = fault();
        return response;
      } catch (error) {
        if (faulted) failed++;
        throw error;
      }
    },
  });
  const file = await client.upload(new Blob([new Uint8Array(png)], { type: 'image/png' }), { route: 'big', filename: 'faulty.png' });
  await faulted;
  assert.ok(faulted, 'the fault happened during the upload');
  return { file, failed };
}

async function assertIdentical(file: { url: string; sha256: string | null; size: number }): Promise<void> {
  assert.equal(file.size, png.length);
  assert.equal(file.sha256, sha256(png));
  const served = await fetch(file.url);
  assert.equal(served.status, 200);
  assert.equal(sha256(new Uint8Array(await served.arrayBuffer())), sha256(png), 'byte-identical');
}

for (const driver of ['disk', 's3'] as const) {
  describe(`faults mid-upload (${driver})`, () => {
    it('the API process killed and started again: the client retries, the new process completes', async () => {
      const { api, token, close } = await startApi(driver);
      try {
        // On disk the parts in flight die with it (storage is the API's own endpoint); on RGW, complete meets it dead.
        const when: When = driver === 'disk' ? { afterParts: 3 } : 'before complete';
        const { file, failed } = await uploadThrough(api.url, token, when, async () => {
          await api.kill();
          await sleep(800);
          await api.start();
        });
        assert.ok(failed > 0, 'requests failed while the API was down');
        await assertIdentical(file);
      } finally {
        await close();
      }
    });

    it('connections to storage cut mid-part by a proxy: the parts are sent again', async () => {
      let proxy: TcpProxy;
      let setup: Setup;
      if (driver === 's3') {
        proxy = await startTcpProxy(Number(new URL(rgwConfig().endpoint).port));
        // Part URLs are signed for the proxy, so they reach RGW through it.
        setup = await startApi('s3', { S3_ENDPOINT: proxy.url });
      } else {
        // The disk driver's storage is the API's own endpoint: the proxy sits before both.
        const port = await freePort();
        proxy = await startTcpProxy(port);
        setup = await startApi('disk', { PUBLIC_URL: proxy.url }, port);
      }
      try {
        const endpoint = driver === 's3' ? setup.api.url : proxy.url;
        const { file, failed } = await uploadThrough(endpoint, setup.token, { afterParts: 1 }, async () => {
          // The next connections carrying more than 1 MiB (part PUTs) are cut there.
          proxy.cutAfter = MiB;
          proxy.cutsLeft = 3;
        });
        assert.ok(proxy.cuts >= 1 && failed >= 1, `connections were cut (${proxy.cuts}) and the client saw it (${failed})`);
        await assertIdentical(file);
      } finally {
        await setup.close();
        await proxy.close();
      }
    });
  });
}

describe('faults mid-upload (RGW only)', () => {
  it('radosgw killed and started again: the client retries, storage kept the parts', async () => {
    const rgwDir = process.env.RGW_DIR;
    assert.ok(rgwDir, 'RGW_DIR names the running cluster (scripts/rgw/start.sh; npm test sets it)');
    const { api, token, close } = await startApi('s3');
    try {
      const { file, failed } = await uploadThrough(api.url, token, { afterParts: 3 }, async () => {
        await run('bash', [gateway, 'stop'], { env: { ...process.env, RGW_DIR: rgwDir } });
        await sleep(1000);
        await run('bash', [gateway, 'start'], { env: { ...process.env, RGW_DIR: rgwDir } });
      });
      assert.ok(failed > 0, 'part PUTs failed while radosgw was down');
      await assertIdentical(file);
    } finally {
      await close();
    }
  });
});

for (const driver of ['disk', 's3'] as const) {
  describe(`faults through the Node transport, a file read by path (${driver})`, () => {
    /** The API, with storage (and on disk the API too) behind a TCP proxy the client goes through. */
    async function behindProxy(): Promise<Setup & { proxy: TcpProxy; endpoint: string }> {
      if (driver === 's3') {
        const proxy = await startTcpProxy(Number(new URL(rgwConfig().endpoint).port));
        const setup = await startApi('s3', { S3_ENDPOINT: proxy.url });
        return { ...setup, proxy, endpoint: setup.api.url, close: async () => (await setup.close(), await proxy.close()) };
      }
      const port = await freePort();
      const proxy = await startTcpProxy(port);
      const setup = await startApi('disk', { PUBLIC_URL: proxy.url }, port);
      return { ...setup, proxy, endpoint: proxy.url, close: async () => (await setup.close(), await proxy.close()) };
    }
    const clientOf = (endpoint: string, token: string, options: Partial<UpfrontClientOptions> = {}) =>
      createClient({ endpoint, token, retries: 12, retryDelay: 100, stallTimeout: 1000, ...options });

    it('connections cut mid-part, then connections that stall: the parts are sent again', async () => {
      const { proxy, endpoint, token, close } = await behindProxy();
      try {
        // The first connections to carry more than 1 MiB (part PUTs) are cut; the next ones stall.
        Object.assign(proxy, { cutAfter: MiB, cutsLeft: 2, stallAfter: MiB, stallsLeft: 2 });
        const file = await clientOf(endpoint, token).upload(await fileFromPath(join(dir, 'faulty.png'), { type: 'image/png' }), { route: 'big' });
        assert.equal(proxy.cuts, 2, 'connections were cut');
        assert.equal(proxy.stalls, 2, 'connections stalled');
        await assertIdentical(file);
      } finally {
        await close();
      }
    });

    it('part URLs that expired during a pause: storage refuses them, the client signs them again', async () => {
      const { api, token, close } = await startApi(driver);
      try {
        let task: UploadTask | undefined;
        let paused: Promise<void> | undefined;
        // One part at a time, the next ones signed ahead of it (the part in flight is signed anew after a
        // pause). No retries: storage's refusal must be read as one (and answered by signing again),
        // not taken for a network error.
        task = clientOf(api.url, token, { partConcurrency: 1, retries: 0 }).upload(await fileFromPath(join(dir, 'faulty.png'), { type: 'image/png' }), {
          route: 'short',
          onProgress: ({ loaded }) => {
            // In the second part: it is cut, and the URLs signed ahead of it outlive their 2 s.
            if (loaded > 6 * MiB && !paused) {
              task!.pause();
              paused = sleep(3000).then(() => task!.resume());
            }
          },
        });
        const file = await task;
        assert.ok(paused, 'the upload was paused');
        await assertIdentical(file);
      } finally {
        await close();
      }
    });

    it('a POST policy form written out by the client: the file lands byte-identical', async () => {
      const { api, token, close } = await startApi(driver);
      try {
        const small = join(dir, 'form.png');
        const bytes = makePng({ width: 8, height: 8, minBytes: 3 * MiB });
        await writeFile(small, bytes);
        const file = await clientOf(api.url, token).upload(await fileFromPath(small, { type: 'image/png' }), { route: 'form' });
        assert.equal(file.size, bytes.length);
        const served = await fetch(file.url);
        assert.equal(sha256(new Uint8Array(await served.arrayBuffer())), sha256(bytes), 'byte-identical');
      } finally {
        await close();
      }
    });
  });
}
