/**
 * A route's webhook and the delivery settings: from the file, from UPFRONT_ROUTE_<NAME>_WEBHOOK_* and
 * WEBHOOK_* (laid over the file's), the sentences a wrong one gets (never repeating a secret), and the
 * secrets kept out of the logs.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../packages/server/src/config.ts';
import { configSecrets, scrub } from '../../packages/server/src/http/logging.ts';

const env = { UPFRONT_DATA_DIR: '/tmp/upfront-webhook-config-test' };
const secret = `whsec_${randomBytes(32).toString('base64')}`;
const route = { types: ['image/png'], maxSize: '1MB' };

async function load(webhook: unknown, extraEnv: Record<string, string> = {}, top: Record<string, unknown> = {}) {
  const file = join(await mkdtemp(join(tmpdir(), 'upfront-webhook-config-')), 'upfront.config.json');
  await writeFile(file, JSON.stringify({ routes: { photo: { ...route, ...(webhook !== undefined && { webhook }) } }, ...top }));
  return loadConfig({ env: { ...env, ...extraEnv }, mode: 'dev', file });
}

const refused = (pattern: RegExp) => (error: unknown) => error instanceof ConfigError && pattern.test(error.message) && !error.message.includes(secret.slice(6));

describe('webhook configuration', () => {
  it('a route has none by default, and the delivery defaults', async () => {
    const config = await load(undefined);
    assert.equal(config.routes.get('photo')!.webhook, undefined);
    assert.deepEqual(config.webhooks, { maxAttempts: 12, backoffBaseMs: 2000, backoffMaxMs: 3_600_000, timeoutMs: 10_000, pollIntervalMs: 1000 });
  });

  it('from the file; the URL or the secret from the environment, laid over the file', async () => {
    const config = await load({ url: 'https://app.example/hooks', secret });
    assert.deepEqual(config.routes.get('photo')!.webhook, { url: 'https://app.example/hooks', secret });
    const other = `whsec_${randomBytes(24).toString('base64')}`;
    const fromEnv = await load({ url: 'https://app.example/hooks' }, { UPFRONT_ROUTE_PHOTO_WEBHOOK_SECRET: other });
    assert.deepEqual(fromEnv.routes.get('photo')!.webhook, { url: 'https://app.example/hooks', secret: other });
    const onlyEnv = await load(undefined, { UPFRONT_ROUTE_PHOTO_WEBHOOK_URL: 'http://10.0.0.5/h', UPFRONT_ROUTE_PHOTO_WEBHOOK_SECRET: secret });
    assert.deepEqual(onlyEnv.routes.get('photo')!.webhook, { url: 'http://10.0.0.5/h', secret });
  });

  it('refuses a secret that is not whsec_ and 24 to 64 bytes of base64, without repeating it', async () => {
    for (const bad of [secret.slice(6), `whsec_${randomBytes(16).toString('base64')}`, `whsec_${randomBytes(65).toString('base64')}`, `${secret}!`, 'whsec_']) {
      await assert.rejects(load({ url: 'https://app.example/hooks', secret: bad }), refused(/route "photo": "webhook": "secret" is not a Standard Webhooks secret: it is whsec_ and 24 to 64 random bytes in base64/));
    }
    await assert.rejects(load({ url: 'https://app.example/hooks' }), refused(/"secret" is needed to sign events/));
  });

  it('refuses a URL that is not http(s), and a webhook that is not an object', async () => {
    for (const url of ['ftp://app.example/hooks', 'app.example/hooks', 42]) {
      await assert.rejects(load({ url, secret }), refused(/"webhook": "url" is the http\(s\) URL events are POSTed to/));
    }
    await assert.rejects(load('https://app.example/hooks'), refused(/"webhook" is \{"url": "https:\/\/…", "secret": "whsec_…"\}/));
  });

  it('delivery settings from "webhooks" and WEBHOOK_*, checked', async () => {
    const config = await load(undefined, { WEBHOOK_MAX_ATTEMPTS: '3', WEBHOOK_BACKOFF_BASE_MS: '50' }, { webhooks: { backoffMaxMs: 500, timeoutMs: 2000 } });
    assert.deepEqual(config.webhooks, { maxAttempts: 3, backoffBaseMs: 50, backoffMaxMs: 500, timeoutMs: 2000, pollIntervalMs: 1000 });
    await assert.rejects(load(undefined, { WEBHOOK_MAX_ATTEMPTS: '0' }), refused(/WEBHOOK_MAX_ATTEMPTS \("webhooks": "maxAttempts"\) is a whole number of attempts from 1 to 100/));
    await assert.rejects(load(undefined, { WEBHOOK_BACKOFF_BASE_MS: '5000', WEBHOOK_BACKOFF_MAX_MS: '1000' }), refused(/WEBHOOK_BACKOFF_MAX_MS \(1000\) is below WEBHOOK_BACKOFF_BASE_MS \(5000\)/));
    await assert.rejects(load(undefined, {}, { webhooks: [] }), refused(/"webhooks" is an object/));
  });

  it('the secrets never reach a log line, with or without their whsec_ prefix', async () => {
    const config = await load({ url: 'https://app.example/hooks', secret });
    const line = scrub(JSON.stringify({ msg: `signed with ${secret} (${secret.slice(6)})` }), configSecrets(config));
    assert.ok(!line.includes(secret.slice(6)), line);
    assert.match(line, /\[redacted\]/);
  });
});
