/** Configuration: defaults, the JSON file, env overrides, and the sentences a wrong setting gets. */
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, parseSize } from '../../packages/server/src/config.ts';
import { renderKey, validateKeyTemplate } from '../../packages/server/src/uploads/key-template.ts';
import { contentDisposition, sanitiseFilename } from '../../packages/server/src/uploads/filename.ts';

const dev = { UPFRONT_DATA_DIR: '/tmp/upfront-config-test' };

async function configFile(content: unknown): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'upfront-config-')), 'upfront.config.json');
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

describe('loadConfig', () => {
  it('dev mode defaults: the two example routes, disk storage, SQLite in the data dir, dev issuer on', () => {
    const config = loadConfig({ env: dev, mode: 'dev', file: 'upfront.config.json' });
    assert.deepEqual([...config.routes.keys()], ['image', 'document']);
    assert.equal(config.routes.get('image')!.maxSize, 10 * 1024 * 1024);
    assert.equal(config.routes.get('image')!.visibility, 'public');
    assert.equal(config.routes.get('document')!.strategy, 'post');
    assert.deepEqual(config.storage, { driver: 'disk', secret: undefined, lifecycleDaySeconds: 86_400 });
    assert.equal(config.databaseUrl, 'sqlite:/tmp/upfront-config-test/upfront.db');
    const shortDays = loadConfig({ env: { ...dev, DISK_LIFECYCLE_DAY_SECONDS: '5' }, mode: 'dev', file: 'upfront.config.json' });
    assert.deepEqual(shortDays.storage, { driver: 'disk', secret: undefined, lifecycleDaySeconds: 5 });
    assert.throws(() => loadConfig({ env: { ...dev, DISK_LIFECYCLE_DAY_SECONDS: '0' }, mode: 'dev', file: 'upfront.config.json' }), /DISK_LIFECYCLE_DAY_SECONDS must be a whole number of seconds from 1 to 86400/);
    assert.equal(config.auth.devIssuer, true);
  });

  it('production mode refuses to start without a way to sign users in, and never enables the dev issuer by itself', () => {
    assert.throws(() => loadConfig({ env: dev, mode: 'production' }), (e: Error) => e instanceof ConfigError && /AUTH_JWKS_URL/.test(e.message));
    const config = loadConfig({
      env: { ...dev, AUTH_JWKS_URL: 'https://idp.example/jwks.json', AUTH_ISSUER: 'https://idp.example/', AUTH_AUDIENCE: 'api' },
      mode: 'production',
    });
    assert.equal(config.auth.devIssuer, false);
    assert.throws(() => loadConfig({ env: { ...dev, AUTH_JWKS_URL: 'https://idp.example/jwks.json' }, mode: 'production' }), /AUTH_ISSUER and AUTH_AUDIENCE/);
  });

  it('env overrides route fields of the file', async () => {
    const file = await configFile({ routes: { avatar: { types: ['image/png'], maxSize: '1MB', visibility: 'public' } } });
    const config = loadConfig({ env: { ...dev, UPFRONT_ROUTE_AVATAR_MAX_SIZE: '512KB', UPFRONT_ROUTE_AVATAR_STRATEGY: 'post' }, mode: 'dev', file });
    assert.equal(config.routes.get('avatar')!.maxSize, 512 * 1024);
    assert.equal(config.routes.get('avatar')!.strategy, 'post');
    assert.equal(config.routes.get('avatar')!.keyTemplate, '{user}/{date}-{uuid}.{ext}');
    assert.equal(config.routes.get('avatar')!.storageClass, undefined, 'the bucket\'s default class');
    const cold = loadConfig({ env: { ...dev, UPFRONT_ROUTE_AVATAR_STORAGE_CLASS: 'STANDARD_IA' }, mode: 'dev', file });
    const longer = await configFile({ routes: { avatar: { types: ['image/png'], maxSize: '1MB', expiresIn: 172800 } }, buckets: { stagingExpiryDays: 2 } });
    assert.equal(loadConfig({ env: dev, mode: 'dev', file: longer }).routes.get('avatar')!.expiresIn, 172800, 'staged objects live as long as the upload');
    assert.equal(cold.routes.get('avatar')!.storageClass, 'STANDARD_IA');
  });

  it('says what is wrong with a bad file or setting', async () => {
    const cases: [unknown, RegExp][] = [
      ['{"routes": ', /cannot read config file/],
      [{ routes: { image: { types: [], maxSize: '1MB' } } }, /"types" must list at least one MIME type/],
      [{ routes: { image: { types: ['png'], maxSize: '1MB' } } }, /"png" is not a MIME type/],
      [{ routes: { image: { types: ['image/png'], maxSize: 'huge' } } }, /"maxSize" must be a positive size/],
      [{ routes: { image: { types: ['image/png'], maxSize: '1MB', keyTemplate: '{user}/{name}' } } }, /unknown placeholder \{name\}/],
      [{ routes: { image: { types: ['image/png'], maxSize: '1MB', keyTemplate: '{user}/x.png' } } }, /must contain \{uuid\}/],
      [{ routes: { image: { types: ['image/png'], maxSize: '1MB', visibility: 'world' } } }, /"visibility" is "public" or "private"/],
      [{ routes: { 'Bad Name': { types: ['image/png'], maxSize: '1MB' } } }, /names are lowercase/],
      [{ routes: { image: { types: ['image/png'], maxSize: '1MB', storageClass: 'cold storage' } } }, /"storageClass" is a storage class name/],
      [{ routes: {} }, /at least one route/],
      [{ buckets: { stagingExpiryDays: 0 } }, /"stagingExpiryDays" must be a whole number of days from 1/],
      [{ routes: { image: { types: ['image/png'], maxSize: '1MB', expiresIn: 172800 } } }, /route "image": "expiresIn" \(172800 s\) outlives staged objects .*stagingExpiryDays" 1/],
      [{ routes: { image: { types: ['image/png'], maxSize: '1MB', multipartExpiresIn: 172800 } }, buckets: { stagingExpiryDays: 3 } }, /"multipartExpiresIn" \(172800 s\) outlives unfinished multipart uploads/],
      [{ buckets: { transitions: [{ days: 30, storageClass: 'cold' }] } }, /each transition is \{"days": 30, "storageClass": "COLD"\}/],
    ];
    for (const [content, message] of cases) {
      const file = await configFile(content);
      assert.throws(() => loadConfig({ env: dev, mode: 'dev', file }), (e: Error) => e instanceof ConfigError && message.test(e.message), String(message));
    }
    assert.throws(() => loadConfig({ env: { ...dev, STORAGE_DRIVER: 'ftp' }, mode: 'dev', file: 'upfront.config.json' }), /STORAGE_DRIVER/);
    assert.throws(
      () => loadConfig({ env: { ...dev, STORAGE_DRIVER: 's3' }, mode: 'dev', file: 'upfront.config.json' }),
      (e: Error) => e instanceof ConfigError && /S3_ENDPOINT/.test(e.message),
    );
  });

  it('DATABASE_POOL_SIZE sizes the PostgreSQL pool; AUTH_DEV_KEY is handed to the dev issuer', () => {
    const file = 'upfront.config.json';
    assert.equal(loadConfig({ env: dev, mode: 'dev', file }).databasePoolSize, 10, "pg's default");
    assert.equal(loadConfig({ env: { ...dev, DATABASE_POOL_SIZE: '40' }, mode: 'dev', file }).databasePoolSize, 40);
    for (const bad of ['0', 'lots', '2.5', '1001']) {
      assert.throws(
        () => loadConfig({ env: { ...dev, DATABASE_POOL_SIZE: bad }, mode: 'dev', file }),
        (e: Error) => e instanceof ConfigError && /^DATABASE_POOL_SIZE must be a whole number of connections from 1 to 1000/.test(e.message),
        bad,
      );
    }
    assert.equal(loadConfig({ env: dev, mode: 'dev', file }).auth.devKey, undefined, 'kept in the data dir');
    assert.equal(loadConfig({ env: { ...dev, AUTH_DEV_KEY: '{"kty":"EC"}' }, mode: 'dev', file }).auth.devKey, '{"kty":"EC"}');
  });

  it('parses sizes in binary units', () => {
    assert.equal(parseSize('10MB', 'x'), 10 * 1024 * 1024);
    assert.equal(parseSize('1.5 KB', 'x'), 1536);
    assert.equal(parseSize(2048, 'x'), 2048);
    assert.throws(() => parseSize('0MB', 'x'), ConfigError);
    assert.throws(() => parseSize(-1, 'x'), ConfigError);
  });
});

describe('keys and filenames', () => {
  it('renders keys from the template with user ids made safe as one path segment', () => {
    assert.equal(validateKeyTemplate('{user}/{date}-{uuid}.{ext}'), undefined);
    assert.match(validateKeyTemplate('../{uuid}') ?? '', /relative path/);
    const key = renderKey('{user}/{route}/{date}-{uuid}.{ext}', { user: 'auth0|5f/../x', route: 'image', date: '20261121', uuid: 'u-1', ext: 'png' });
    assert.equal(key, 'auth0_5f_.._x/image/20261121-u-1.png');
    assert.equal(renderKey('{user}/{uuid}', { user: '..', route: 'r', date: 'd', uuid: 'u', ext: 'e' }), '_/u');
  });

  it('keeps the name part of a filename and refuses what cannot be represented safely', () => {
    assert.equal(sanitiseFilename('../../etc/passwd.png'), 'passwd.png');
    assert.equal(sanitiseFilename('C:\\fakepath\\cat.png'), 'cat.png');
    assert.equal(sanitiseFilename('e\u0301te\u0301.png'), 'été.png', 'NFC');
    for (const bad of ['', 'a\u0000.png', 'a\n.png', 'x\u202Egnp.exe', '..', 'dir/', 'a'.repeat(256)]) {
      assert.throws(() => sanitiseFilename(bad), /filename/i, JSON.stringify(bad));
    }
    assert.equal(sanitiseFilename('🐱'.repeat(255)), '🐱'.repeat(255), '255 characters, not bytes');
  });

  it('writes an RFC 6266 Content-Disposition with an ASCII fallback', () => {
    assert.equal(contentDisposition('attachment', 'Relevé "final".pdf'), `attachment; filename="Relev_ _final_.pdf"; filename*=UTF-8''Relev%C3%A9%20%22final%22.pdf`);
  });
});
