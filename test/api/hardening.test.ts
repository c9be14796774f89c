/**
 * Inputs that once got a 500 or a wrong answer, as classes: names of JavaScript's built-in object
 * properties wherever a client names something, sizes one byte over a limit, tokens without an
 * expiry or from the future, and dev sign-in outside a developer's own machine. On both drivers.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '@upfront/server';
import { startIdp, type Idp } from '../support/idp.ts';
import { startTestServer, type Driver, type TestServer } from '../support/server.ts';

/** Own and inherited names of every plain object: a lookup that is not own-property-only finds these. */
const BUILT_IN_NAMES = [
  '__proto__',
  'constructor',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  '__defineGetter__',
  '__lookupSetter__',
  'prototype',
];

async function problem(res: Response, status: number, code: string): Promise<string> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  const body = JSON.parse(text) as { code: string; detail: string };
  assert.equal(body.code, code, text);
  return body.detail;
}

for (const driver of ['disk', 's3'] as Driver[]) {
  describe(`hardening on ${driver}`, () => {
    let server: TestServer;
    let idp: Idp;
    let token: string;

    before(async () => {
      idp = await startIdp();
      server = await startTestServer({
        driver,
        routes: { image: { types: ['image/png'], maxSize: '10MB', visibility: 'public', strategy: 'put' } },
        env: idp.env,
      });
      token = await server.token('alice');
    });
    after(async () => {
      await server?.close();
      await idp?.close();
    });

    const create = (body: unknown, bearer = token) => server.api('/v1/uploads', { token: bearer, json: body });
    const valid = { route: 'image', filename: 'a.png', contentType: 'image/png', size: 100 };

    it('names of built-in object properties are unknown routes, ids and parameters, never a 500', async () => {
      for (const name of BUILT_IN_NAMES) {
        const detail = await problem(await create({ ...valid, route: name }), 400, 'invalid_request');
        assert.match(detail, /Unknown route/);
        await problem(await create({ ...valid, contentType: name }), 415, 'type_not_allowed');
        await problem(await create({ ...valid, contentType: `${name}/${name}` }), 415, 'type_not_allowed');
        await problem(await server.api(`/v1/uploads/${name}`, { token }), 404, 'not_found');
        await problem(await server.api(`/v1/uploads/${name}/complete`, { method: 'POST', token }), 404, 'not_found');
        await problem(await server.api(`/v1/files/${name}`, { token }), 404, 'not_found');
        await problem(await server.api(`/v1/files?limit=${name}`, { token }), 400, 'invalid_request');
        await problem(await server.api(`/v1/files?before=${name}`, { token }), 400, 'invalid_request');
        assert.equal((await server.api(`/v1/files?${name}=1`, { token })).status, 200);
        const named = await create({ ...valid, filename: `${name}.png` });
        assert.equal(named.status, 201, 'a built-in name is a fine filename');
      }
      // A body whose own "__proto__" key holds the fields: they are not the body's fields.
      const hidden = await server.api('/v1/uploads', { token, body: `{"__proto__": ${JSON.stringify(valid)}}` });
      await problem(hidden, 400, 'invalid_request');
    });

    it('one byte over the limit says so, in exact bytes', async () => {
      const limit = 10 * 1024 * 1024;
      const detail = await problem(await create({ ...valid, size: limit + 1 }), 413, 'file_too_large');
      assert.match(detail, /10,485,761 bytes/);
      assert.match(detail, /10,485,760 bytes \(10 MB\)/);
      const far = await problem(await create({ ...valid, size: 3 * limit }), 413, 'file_too_large');
      assert.match(far, /The file is 30 MB; the "image" route accepts files up to 10 MB/);
      assert.equal((await create({ ...valid, size: limit })).status, 201);
    });

    it('tokens must expire, and must not come from the future', async () => {
      assert.equal((await create(valid, await idp.sign({ sub: 'carol' }))).status, 201);
      const noExp = await problem(await create(valid, await idp.sign({ sub: 'carol' }, { exp: null })), 401, 'unauthorized');
      assert.match(noExp, /"exp"/);
      const futureIat = await problem(await create(valid, await idp.sign({ sub: 'carol' }, { iat: 120 })), 401, 'unauthorized');
      assert.match(futureIat, /issued in the future/);
      const futureNbf = await problem(await create(valid, await idp.sign({ sub: 'carol' }, { nbf: 120 })), 401, 'unauthorized');
      assert.match(futureNbf, /not valid yet/);
      // Within the default 30 s of clock tolerance.
      assert.equal((await create(valid, await idp.sign({ sub: 'carol' }, { iat: 10, nbf: 10 }))).status, 201);
      assert.equal((await create(valid, await idp.sign({ sub: 'carol' }, { exp: -10 }))).status, 201);
      await problem(await create(valid, await idp.sign({ sub: 'carol' }, { exp: -60 })), 401, 'unauthorized');
    });

    it('dev sign-in answers only requests addressed to a loopback name', async () => {
      for (const host of ['localhost', `localhost:${new URL(server.url).port}`, '127.0.0.1', '[::1]:3000', 'app.localhost']) {
        assert.equal((await rawTokenRequest(server.url, host)).status, 200, host);
      }
      for (const host of ['evil.example', 'localhost.evil.example', '127.0.0.1.nip.io', '10.0.0.1', 'localhost.evil.example:3000']) {
        assert.equal((await rawTokenRequest(server.url, host)).status, 403, host);
      }
    });
  });
}

describe('clock tolerance and dev sign-in settings', () => {
  it('the clock tolerance is configurable and defaults to 30 s', () => {
    const base = { AUTH_DEV_ISSUER: 'true' };
    assert.equal(loadConfig({ mode: 'dev', env: base }).auth.clockTolerance, 30);
    assert.equal(loadConfig({ mode: 'dev', env: { ...base, AUTH_CLOCK_TOLERANCE: '5' } }).auth.clockTolerance, 5);
    assert.throws(() => loadConfig({ mode: 'dev', env: { ...base, AUTH_CLOCK_TOLERANCE: '-1' } }), ConfigError);
    assert.throws(() => loadConfig({ mode: 'dev', env: { ...base, AUTH_CLOCK_TOLERANCE: '1h' } }), ConfigError);
  });

  it('with no tolerance, a token issued 10 s ahead is refused', async () => {
    const idp = await startIdp();
    const server = await startTestServer({ driver: 'disk', env: { ...idp.env, AUTH_CLOCK_TOLERANCE: '0' } });
    try {
      const body = { route: 'image', filename: 'a.png', contentType: 'image/png', size: 100 };
      const res = await server.api('/v1/uploads', { token: await idp.sign({ sub: 'dan' }, { iat: 10 }), json: body });
      assert.equal(res.status, 401, await res.text());
    } finally {
      await server.close();
      await idp.close();
    }
  });

  it('production refuses the dev issuer unless told it is unsafe, and then warns at every start', async () => {
    assert.throws(
      () => loadConfig({ mode: 'production', env: { AUTH_DEV_ISSUER: 'true' } }),
      (error: unknown) => error instanceof ConfigError && /AUTH_DEV_ISSUER_UNSAFE_IN_PRODUCTION=true/.test(error.message),
    );
    const unsafe = loadConfig({ mode: 'production', env: { AUTH_DEV_ISSUER: 'true', AUTH_DEV_ISSUER_UNSAFE_IN_PRODUCTION: 'true' } });
    assert.equal(unsafe.auth.devIssuer, true);

    const refused = await runCli(['serve', '--port', '0'], { AUTH_DEV_ISSUER: 'true' });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /configuration error: AUTH_DEV_ISSUER=true lets anyone sign in as any user/);

    const started = await runCli(['serve', '--port', '0', '--host', '127.0.0.1', '--unsafe-dev-sign-in'], {}, /sign-in:/);
    assert.match(started.stderr, /WARNING: the dev issuer is on in production/);
    assert.match(started.stdout, /ready: http:\/\/127\.0\.0\.1:[1-9]\d*\n/);
    assert.match(started.stdout, /sign-in: dev issuer/);
  });
});

const cli = fileURLToPath(new URL('../../packages/cli/src/bin.ts', import.meta.url));

/** Runs the CLI (from source) until it exits, or until stdout matches `until` (then stops it). */
function runCli(args: string[], env: Record<string, string>, until?: RegExp): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(AUTH_|S3_|STORAGE_DRIVER|DATABASE_URL)/.test(name)));
  const child = spawn(process.execPath, ['--conditions=upfront-source', '--import', 'tsx', cli, ...args], {
    env: { ...clean, UPFRONT_DATA_DIR: `/tmp/upfront-cli-test-${process.pid}`, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (until?.test(stdout)) child.kill('SIGTERM');
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** POST /v1/dev/token with a Host header of our choosing (fetch cannot set Host). */
function rawTokenRequest(base: string, host: string): Promise<{ status: number }> {
  const url = new URL(base);
  const body = '{"user":"eve"}';
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: '/v1/dev/token',
        method: 'POST',
        headers: { host, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode! }));
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}
