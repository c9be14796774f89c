/**
 * Several API instances on one PostgreSQL database: a dev token of one is good on the others, and an
 * upload created on one is completed on another and listed on both. Instances share the dev issuer's
 * key through a common data dir (made by whichever starts first, even when they start together) or
 * through AUTH_DEV_KEY.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { jwtVerify } from 'jose';
import { ConfigError, createUpfront, loadConfig } from '@upfront/server';
import { createDevIssuer } from '../../packages/server/src/auth/dev-issuer.ts';
import { makePng } from '../support/png.ts';
import { postgresSchema } from '../support/postgres.ts';
import { startTestServer, type Driver, type TestServer } from '../support/server.ts';
import { sendToStorage, type CreatedUpload } from '../support/transfer.ts';

const png = makePng({ width: 8, height: 8, minBytes: 2_000 });
const defaultConfigFile = fileURLToPath(new URL('../../upfront.config.json', import.meta.url));
const routes = { image: { types: ['image/png'], maxSize: '64KB', visibility: 'public', strategy: 'put' } };

/** Creates on `first`, sends the bytes, completes on `second`; both list the file. */
async function uploadAcross(first: TestServer, second: TestServer, token: string): Promise<void> {
  const res = await first.api('/v1/uploads', { token, json: { route: 'image', filename: 'across.png', contentType: 'image/png', size: png.length } });
  assert.equal(res.status, 201, await res.clone().text());
  const upload = (await res.json()) as CreatedUpload;
  assert.ok((await sendToStorage(upload, png, 'image/png')).ok, 'storage took the bytes');
  const completed = await second.api(`/v1/uploads/${upload.id}/complete`, { method: 'POST', token });
  assert.equal(completed.status, 200, await completed.clone().text());
  const file = (await completed.json()) as { id: string; url: string };
  assert.deepEqual(Buffer.from(await (await fetch(file.url)).arrayBuffer()), png);
  for (const server of [first, second]) {
    const list = (await (await server.api('/v1/files', { token })).json()) as { files: { id: string }[] };
    assert.ok(list.files.some((f) => f.id === file.id), `listed on ${server.url}`);
  }
  await first.upfront.services.background.settled();
  await second.upfront.services.background.settled();
}

async function refused(server: TestServer, token: string): Promise<void> {
  const res = await server.api('/v1/files', { token });
  assert.equal(res.status, 401, await res.clone().text());
  assert.equal(((await res.json()) as { code: string }).code, 'unauthorized');
}

const setups: { driver: Driver; share: 'data dir' | 'AUTH_DEV_KEY' }[] = [
  { driver: 'disk', share: 'data dir' },
  { driver: 's3', share: 'AUTH_DEV_KEY' },
];

for (const { driver, share } of setups) {
  describe(`two instances on PostgreSQL and ${driver}, sharing the dev key through the ${share}`, () => {
    let pg: Awaited<ReturnType<typeof postgresSchema>>;
    let dataDir: string | undefined;
    let a: TestServer;
    let b: TestServer;
    let stranger: TestServer;

    before(async () => {
      pg = await postgresSchema();
      const env = { DATABASE_URL: pg.url };
      if (share === 'data dir') {
        // Both start at once on a fresh directory: they race to make the key and must agree on it.
        dataDir = await mkdtemp(join(tmpdir(), 'upfront-instances-'));
        [a, b] = await Promise.all([startTestServer({ driver, routes, env, dataDir }), startTestServer({ driver, routes, env, dataDir })]);
      } else {
        a = await startTestServer({ driver, routes, env });
        const key = await readFile(join(a.dataDir, 'dev-key.json'), 'utf8');
        b = await startTestServer({ driver, routes, env: { ...env, AUTH_DEV_KEY: key } });
      }
      // Same database, but a key of its own.
      stranger = await startTestServer({ driver, routes, env });
    });
    after(async () => {
      await a?.close();
      await b?.close();
      await stranger?.close();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
      await pg?.drop();
    });

    it('a dev token of either instance is accepted by the other, and refused by an instance with another key', async () => {
      const user = `carol-${randomUUID().slice(0, 8)}`;
      for (const [issuer, other] of [[a, b], [b, a]] as const) {
        const token = await issuer.token(user);
        const res = await other.api('/v1/files', { token });
        assert.equal(res.status, 200, await res.clone().text());
        await refused(stranger, token);
      }
    });

    it('an upload created on one instance is completed on the other and listed on both', async () => {
      const token = await a.token(`dave-${randomUUID().slice(0, 8)}`);
      await uploadAcross(a, b, token);
      await uploadAcross(b, a, await b.token(`erin-${randomUUID().slice(0, 8)}`));
    });

    if (share === 'data dir') {
      it('keeps the key readable by its owner only', async () => {
        assert.equal((await stat(join(dataDir!, 'dev-key.json'))).mode & 0o777, 0o600);
      });
    }
  });
}

describe('the dev key in the data dir', () => {
  it('processes that start together on a fresh data dir all sign with the one key made', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'upfront-dev-key-'));
    try {
      const tokens = await tokensFromProcesses(dataDir, 6);
      const { keys } = await createDevIssuer({ dataDir });
      for (const token of tokens) assert.equal((await jwtVerify(token, keys)).payload.sub, 'racer');
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

/** Starts `count` processes that, on one signal, each make a dev issuer on `dataDir` and print a token. */
async function tokensFromProcesses(dataDir: string, count: number): Promise<string[]> {
  const script = `
    import { createDevIssuer } from ${JSON.stringify(new URL('../../packages/server/src/auth/dev-issuer.ts', import.meta.url).href)};
    import { once } from 'node:events';
    console.log('ready');
    await once(process.stdin, 'data');
    const issuer = await createDevIssuer({ dataDir: process.env.DATA_DIR });
    console.log((await issuer.issue('racer')).token);
  `;
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: { ...process.env, DATA_DIR: dataDir }, stdio: ['pipe', 'pipe', 'inherit'] }),
  );
  const outputs = children.map(async (child) => {
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const [code] = (await once(child, 'close')) as [number | null];
    assert.equal(code, 0, 'the process made its issuer');
    return stdout.split('\n')[1] ?? '';
  });
  await Promise.all(children.map((child) => once(child.stdout, 'data')));
  for (const child of children) child.stdin.end('go\n');
  return Promise.all(outputs);
}

describe('AUTH_DEV_KEY', () => {
  it('a key that is not an ES256 private JWK stops the start with a sentence naming the variable', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'upfront-dev-key-'));
    try {
      for (const key of ['secret', '{"kty":"EC","crv":"P-256","x":"a","y":"b"}']) {
        const config = loadConfig({ env: { UPFRONT_DATA_DIR: dataDir, AUTH_DEV_KEY: key }, mode: 'dev', file: defaultConfigFile });
        await assert.rejects(
          createUpfront(config, { publicUrl: 'http://127.0.0.1:1' }),
          (e: Error) => e instanceof ConfigError && /^AUTH_DEV_KEY must be an ES256 private key as a JWK .*dev-key\.json/.test(e.message),
        );
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
