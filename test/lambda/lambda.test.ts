/**
 * `upfront lambda build` and the function it builds, end to end: the CLI bundles a configuration on Ceph
 * RGW and PostgreSQL, the zip is unzipped, and its handler runs in a node process of its own that imports
 * nothing but the unzipped bundle (lambda-runtime.mjs, a warm container). Events shaped as AWS documents
 * them (fixtures/) create uploads through each HTTP kind (REST API, HTTP API, function URL), the bytes go
 * to RGW with the signed URL, and each storage-event kind (S3, SQS, SNS, EventBridge) finalizes one; the
 * scheduled event sweeps. The SAM template is checked against `upfront policy` and setup's bucket specs.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { unzipSync } from 'fflate';
import { loadConfig } from '../../packages/server/src/config.ts';
import { bucketSpecs } from '../../packages/server/src/buckets/spec.ts';
import { PROFILES } from '../../packages/server/src/storage/providers.ts';
import { bucketSettings } from '../../packages/cli/src/storage-config.ts';
import { startIdp, type Idp } from '../support/idp.ts';
import { makePng } from '../support/png.ts';
import { postgresSchema } from '../support/postgres.ts';
import { rgwConfig } from '../support/rgw-env.ts';
import { webhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('../../packages/cli/src/bin.ts', import.meta.url));
const runtime = fileURLToPath(new URL('./lambda-runtime.mjs', import.meta.url));
// The CLI runs from its sources in a directory of its own: the loader is named by its resolved URL.
const loader = ['--conditions=upfront-source', '--import', import.meta.resolve('tsx')];

const fixture = <T = Record<string, unknown>>(name: string): T => JSON.parse(readFileSync(fileURLToPath(new URL(`./fixtures/${name}.json`, import.meta.url)), 'utf8')) as T;

const CONFIG = {
  routes: {
    photo: { types: ['image/png'], maxSize: '1MB', keyTemplate: '{user}/{uuid}.{ext}', visibility: 'public', strategy: 'put', expiresIn: 600 },
  },
};

interface Invoked {
  result?: unknown;
  error?: string;
}

/** One warm container: the unzipped handler in a plain node process. */
class Container {
  readonly #child: ChildProcess;
  readonly #waiting = new Map<number, (answer: Invoked) => void>();
  #next = 0;
  readonly ready: Promise<void>;

  constructor(dir: string, env: NodeJS.ProcessEnv) {
    this.#child = spawn(process.execPath, [runtime, join(dir, 'index.mjs')], { cwd: dir, env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    this.ready = new Promise((resolve, reject) => {
      this.#child.once('exit', (code) => reject(new Error(`the function's process exited (${String(code)})`)));
      this.#child.on('message', (message: Invoked & { id?: number; ready?: boolean }) => {
        if (message.ready) return resolve();
        this.#waiting.get(message.id!)?.(message);
        this.#waiting.delete(message.id!);
      });
    });
  }

  async invoke(event: unknown): Promise<Invoked> {
    await this.ready;
    const id = this.#next++;
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      this.#child.send({ id, event });
    });
  }

  close(): void {
    this.#child.kill();
  }
}

interface HttpResult {
  statusCode: number;
  body: string;
  isBase64Encoded: boolean;
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
}

describe('AWS Lambda: upfront lambda build and its bundled handler', () => {
  const work = mkdtempSync(join(tmpdir(), 'upfront-lambda-test-'));
  const out = join(work, 'out');
  const fn = join(work, 'fn');
  const storage = rgwConfig();
  const png = makePng();
  let idp: Idp;
  let database: Awaited<ReturnType<typeof postgresSchema>>;
  let env: NodeJS.ProcessEnv;
  let container: Container;
  let token: string;
  let built: { stdout: string };
  let receiver: WebhookReceiver;

  before(async () => {
    idp = await startIdp();
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    receiver = webhookReceiver(port);
    await receiver.start();
    database = await postgresSchema();
    token = await idp.sign({ sub: 'lambda-user' });
    env = {
      PATH: process.env.PATH,
      ...Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('S3_') && !name.startsWith('S3_ADMIN_'))),
      ...idp.env,
      STORAGE_DRIVER: 's3',
      DATABASE_URL: database.url,
      DATABASE_POOL_SIZE: '2',
      CORS_ORIGINS: 'https://app.example.com',
      SWEEP_SETTLE_SECONDS: '0',
      UPFRONT_ROUTE_PHOTO_WEBHOOK_URL: receiver.url,
      UPFRONT_ROUTE_PHOTO_WEBHOOK_SECRET: receiver.secret,
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    writeFileSync(join(work, 'upfront.config.json'), JSON.stringify(CONFIG));
    built = await run(process.execPath, [...loader, cli, 'lambda', 'build', '--out', out], { cwd: work, env });
    for (const [name, bytes] of Object.entries(unzipSync(readFileSync(join(out, 'upfront-lambda.zip'))))) {
      mkdirSync(dirname(join(fn, name)), { recursive: true });
      writeFileSync(join(fn, name), bytes);
    }
    container = new Container(fn, env);
    await container.ready;
  });

  after(async () => {
    container?.close();
    await receiver?.stop();
    await idp?.close();
    await database?.drop();
    rmSync(work, { recursive: true, force: true });
  });

  /** The handler's answer to an HTTP event, which it must give (not throw). */
  async function http(event: Record<string, unknown>): Promise<HttpResult & { json: Record<string, unknown> }> {
    const { result, error } = await container.invoke(event);
    assert.equal(error, undefined, error);
    const answer = result as HttpResult;
    const text = answer.isBase64Encoded ? Buffer.from(answer.body, 'base64').toString() : answer.body;
    return { ...answer, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  const createBody = () => JSON.stringify({ route: 'photo', filename: 'photo.png', contentType: 'image/png', size: png.length });

  function restEvent(method: string, path: string, body: string | null, headers: Record<string, string> = {}): Record<string, unknown> {
    const event = fixture<{ headers: Record<string, string>; multiValueHeaders: Record<string, string[]>; requestContext: Record<string, unknown> }>('apigw-v1');
    for (const [name, value] of Object.entries({ Authorization: `Bearer ${token}`, ...headers })) {
      event.headers[name] = value;
      event.multiValueHeaders[name] = [value];
    }
    return { ...event, httpMethod: method, path, body, requestContext: { ...event.requestContext, httpMethod: method, path: `/prod${path}` } };
  }

  function httpApiEvent(kind: 'apigw-v2' | 'function-url', method: string, rawPath: string, body: string | undefined, options: { stage?: string; authorization?: string | null } = {}): Record<string, unknown> {
    const event = fixture<{ headers: Record<string, string>; requestContext: { http: Record<string, string>; stage: string } }>(kind);
    if (options.authorization !== null) event.headers.authorization = options.authorization ?? `Bearer ${token}`;
    const base64 = kind === 'function-url';
    return {
      ...event,
      rawPath: options.stage ? `/${options.stage}${rawPath}` : rawPath,
      ...(body === undefined ? { body: undefined, isBase64Encoded: false } : { body: base64 ? Buffer.from(body).toString('base64') : body, isBase64Encoded: base64 }),
      requestContext: { ...event.requestContext, stage: options.stage ?? event.requestContext.stage, http: { ...event.requestContext.http, method, path: rawPath } },
    };
  }

  /** The bytes PUT to RGW with the signed URL, as a browser would. */
  async function sendBytes(upload: Record<string, unknown>): Promise<void> {
    const put = upload.put as { url: string; headers: Record<string, string> };
    const sent = await fetch(put.url, { method: 'PUT', headers: put.headers, body: new Uint8Array(png) });
    assert.equal(sent.status, 200, await sent.text());
  }

  /** An S3 event record of the staged object, its key URL-encoded as S3 sends it. */
  function s3Event(key: string): Record<string, unknown> {
    const event = fixture<{ Records: { s3: { bucket: { name: string; arn: string }; object: Record<string, unknown> } }[] }>('s3-object-created');
    const record = event.Records[0]!;
    record.s3.bucket = { ...record.s3.bucket, name: storage.buckets.staging, arn: `arn:aws:s3:::${storage.buckets.staging}` };
    record.s3.object = { ...record.s3.object, key: key.split('/').map(encodeURIComponent).join('/'), size: png.length };
    return event;
  }

  const finalizers: [string, (key: string) => Record<string, unknown>][] = [
    ['an S3 notification', s3Event],
    [
      'SQS around an S3 notification',
      (key) => {
        const event = fixture<{ Records: { body: string }[] }>('sqs-s3');
        event.Records[0]!.body = JSON.stringify(s3Event(key));
        return event;
      },
    ],
    [
      'SNS around an S3 notification',
      (key) => {
        const event = fixture<{ Records: { Sns: { Message: string } }[] }>('sns-s3');
        event.Records[0]!.Sns.Message = JSON.stringify(s3Event(key));
        return event;
      },
    ],
    [
      'EventBridge "Object Created"',
      (key) => {
        const event = fixture<{ detail: { bucket: { name: string }; object: Record<string, unknown> } }>('eventbridge-object-created');
        event.detail.bucket.name = storage.buckets.staging;
        event.detail.object = { ...event.detail.object, key, size: png.length };
        return event;
      },
    ],
  ];

  const creators: [string, () => Record<string, unknown>][] = [
    ['a REST API (v1)', () => restEvent('POST', '/v1/uploads', createBody(), { 'Content-Type': 'application/json' })],
    ['an HTTP API (v2)', () => httpApiEvent('apigw-v2', 'POST', '/v1/uploads', createBody())],
    ['a function URL (base64 body)', () => httpApiEvent('function-url', 'POST', '/v1/uploads', createBody())],
    ['an HTTP API stage (v2, /prod in rawPath)', () => httpApiEvent('apigw-v2', 'POST', '/v1/uploads', createBody(), { stage: 'prod' })],
  ];

  it('writes the zip (entry, lazy chunks, the config file; no disk driver, SQLite or sharp) and says what is next', () => {
    assert.match(built.stdout, /upfront-lambda\.zip \(\d/);
    assert.match(built.stdout, /template\.json \(\d/);
    assert.match(built.stdout, /sam deploy --guided/);
    const names = Object.keys(unzipSync(readFileSync(join(out, 'upfront-lambda.zip'))));
    assert.ok(names.includes('index.mjs'), names.join(', '));
    assert.ok(names.includes('upfront.config.json'));
    assert.ok(names.some((name) => name.startsWith('chunks/')), 'dynamic imports stay separate chunks');
    assert.ok(!names.some((name) => name.startsWith('node_modules/')), 'no route runs the image processor: no sharp');
    const code = names.filter((name) => name.endsWith('.mjs')).map((name) => readFileSync(join(fn, name), 'utf8')).join('\n');
    assert.match(code, /disk-driver\.ts is not in this Lambda bundle/);
    assert.match(code, /better-sqlite3 is not in this Lambda bundle/);
    assert.ok(!code.includes('better_sqlite3.node'), 'no SQLite binding');
  });

  for (const [index, [how, create]] of creators.entries()) {
    const [finalizedBy, finalize] = finalizers[index]!;
    it(`creates an upload through ${how}, and ${finalizedBy} finalizes it`, async () => {
      const created = await http(create());
      assert.equal(created.statusCode, 201, created.body);
      const upload = created.json;
      assert.equal(upload.route, 'photo');
      await sendBytes(upload);
      const { result, error } = await container.invoke(finalize(upload.key as string));
      assert.equal(error, undefined, error);
      const records = (result as { records: { outcome: string; uploadId?: string; fileId?: string }[] }).records;
      assert.deepEqual(records.map(({ outcome, uploadId }) => ({ outcome, uploadId })), [{ outcome: 'completed', uploadId: upload.id }]);
      // Delivered before the invocation returned: a frozen container runs nothing in between.
      assert.ok(receiver.accepted().some((delivery) => delivery.event.type === 'upload.completed' && delivery.event.data.uploadId === upload.id), 'the webhook was sent');
      const state = await http(httpApiEvent('apigw-v2', 'GET', `/v1/uploads/${upload.id as string}`, undefined));
      assert.equal(state.statusCode, 200, state.body);
      assert.equal(state.json.state, 'ready', state.body);
      const file = await http(restEvent('GET', `/v1/files/${records[0]!.fileId!}`, null));
      assert.equal(file.statusCode, 200, file.body);
      assert.equal(file.multiValueHeaders!['content-type']![0], 'application/json');
      assert.match(String(file.json.url), new RegExp(`/${storage.buckets.public}/`));
    });
  }

  it('answers errors as problem+json: no token (HTTP API), a bad body (REST API)', async () => {
    const anonymous = await http(httpApiEvent('apigw-v2', 'POST', '/v1/uploads', createBody(), { authorization: null }));
    assert.equal(anonymous.statusCode, 401);
    assert.match(anonymous.headers!['content-type']!, /^application\/problem\+json/);
    assert.equal(anonymous.json.code, 'unauthorized');
    assert.equal(anonymous.isBase64Encoded, false);
    const bad = await http(restEvent('POST', '/v1/uploads', '{"route": 7}', { 'Content-Type': 'application/json' }));
    assert.equal(bad.statusCode, 400, bad.body);
    assert.match(bad.multiValueHeaders!['content-type']![0]!, /^application\/problem\+json/);
    assert.equal(typeof bad.json.detail, 'string');
  });

  it('passes query strings on: REST API lists (decoded by API Gateway), HTTP API raw', async () => {
    const rest = await http({ ...restEvent('GET', '/v1/files', null), multiValueQueryStringParameters: { limit: ['1'] } });
    assert.equal(rest.statusCode, 200, rest.body);
    assert.equal((rest.json.files as unknown[]).length, 1);
    const raw = await http({ ...httpApiEvent('apigw-v2', 'GET', '/v1/files', undefined), rawQueryString: 'limit=2' });
    assert.equal(raw.statusCode, 200, raw.body);
    assert.equal((raw.json.files as unknown[]).length, 2);
  });

  it('sweeps on the schedule: bytes whose upload nobody finalized become a file', async () => {
    const created = await http(httpApiEvent('apigw-v2', 'POST', '/v1/uploads', createBody()));
    assert.equal(created.statusCode, 201, created.body);
    await sendBytes(created.json);
    const { result, error } = await container.invoke(fixture('scheduled'));
    assert.equal(error, undefined, error);
    const { sweep } = result as { sweep: { counts: Record<string, number>; failures: unknown[] } };
    assert.ok(sweep.counts.finalized! >= 1, JSON.stringify(sweep));
    const state = await http(httpApiEvent('apigw-v2', 'GET', `/v1/uploads/${created.json.id as string}`, undefined));
    assert.equal(state.json.state, 'ready', state.body);
  });

  it('answers 503 problem+json while it cannot start (database down); a storage event then fails, for redelivery', async () => {
    const down = new Container(fn, { ...env, DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test' });
    try {
      const { result, error } = await down.invoke(httpApiEvent('apigw-v2', 'POST', '/v1/uploads', createBody()));
      assert.equal(error, undefined, error);
      const answer = result as HttpResult;
      assert.equal(answer.statusCode, 503);
      assert.match(answer.headers!['content-type']!, /^application\/problem\+json/);
      assert.equal((JSON.parse(answer.body) as { code: string }).code, 'not_ready');
      const storageEvent = await down.invoke(s3Event('nobody/key.png'));
      assert.match(storageEvent.error ?? '', /Could not open the metadata store/, 'a storage event fails, so Lambda delivers it again');
    } finally {
      down.close();
    }
  });

  it('refuses an event it does not know, saying which it takes', async () => {
    const { error } = await container.invoke({ source: 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification', detail: {} });
    assert.match(error ?? '', /does not take this event .*API Gateway REST \(v1\) and HTTP API \(v2\).*scheduled events/);
  });

  it('writes a SAM template whose role is `upfront policy`\'s and whose buckets are setup\'s', async () => {
    const template = JSON.parse(readFileSync(join(out, 'template.json'), 'utf8')) as {
      Transform: string;
      Parameters: Record<string, { NoEcho: boolean }>;
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    assert.equal(template.Transform, 'AWS::Serverless-2016-10-31');
    const fnProps = template.Resources.UpfrontFunction!.Properties as {
      CodeUri: string;
      Handler: string;
      Policies: unknown[];
      Events: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
      Environment: { Variables: Record<string, unknown> };
    };
    assert.equal(fnProps.CodeUri, 'upfront-lambda.zip');
    assert.equal(fnProps.Handler, 'index.handler');
    const { stdout: policy } = await run(process.execPath, [...loader, cli, 'policy', '--json'], { cwd: work, env });
    assert.deepEqual(fnProps.Policies, [JSON.parse(policy)]);
    assert.deepEqual(fnProps.Events.Api, { Type: 'HttpApi' });
    assert.deepEqual(fnProps.Events.StagingObjectCreated, { Type: 'S3', Properties: { Bucket: { Ref: 'StagingBucket' }, Events: 's3:ObjectCreated:*' } });
    const sweeper = template.Resources.UpfrontSweepFunction!.Properties as typeof fnProps;
    assert.deepEqual(sweeper.Events, { Sweep: { Type: 'Schedule', Properties: { Schedule: 'rate(5 minutes)' } } });
    assert.deepEqual(sweeper.Policies, fnProps.Policies);
    assert.equal(sweeper.CodeUri, fnProps.CodeUri);
    // The database URL is a parameter; the credentials are the role's, not passed on.
    assert.deepEqual(fnProps.Environment.Variables.DATABASE_URL, { Ref: 'DatabaseUrl' });
    assert.equal(template.Parameters.DatabaseUrl!.NoEcho, true);
    assert.equal(fnProps.Environment.Variables.S3_ACCESS_KEY_ID, undefined);
    assert.equal(fnProps.Environment.Variables.S3_SECRET_ACCESS_KEY, undefined);
    assert.equal(fnProps.Environment.Variables.S3_BUCKET_STAGING, storage.buckets.staging);

    const config = loadConfig({ env, file: join(work, 'upfront.config.json'), mode: 'production' });
    const specs = bucketSpecs(storage, bucketSettings(config), PROFILES.aws);
    const logical = { staging: 'StagingBucket', public: 'PublicBucket', private: 'PrivateBucket' } as const;
    for (const spec of specs) {
      const bucket = template.Resources[logical[spec.role as keyof typeof logical]]!;
      assert.equal(bucket.Type, 'AWS::S3::Bucket');
      const props = bucket.Properties as Record<string, Record<string, unknown> | string | undefined>;
      assert.equal(props.BucketName, spec.name);
      const cors = (props.CorsConfiguration as { CorsRules: Record<string, unknown>[] } | undefined)?.CorsRules;
      assert.deepEqual(cors ?? null, spec.cors?.map((rule) => ({ AllowedOrigins: rule.allowedOrigins, AllowedMethods: rule.allowedMethods, AllowedHeaders: rule.allowedHeaders, ExposedHeaders: rule.exposeHeaders, MaxAge: rule.maxAgeSeconds })) ?? null);
      const rules = (props.LifecycleConfiguration as { Rules: { Id: string; Prefix: string; ExpirationInDays?: number; AbortIncompleteMultipartUpload?: { DaysAfterInitiation: number } }[] } | undefined)?.Rules ?? [];
      assert.deepEqual(
        rules.map((rule) => ({ id: rule.Id, prefix: rule.Prefix, expirationDays: rule.ExpirationInDays, abortIncompleteDays: rule.AbortIncompleteMultipartUpload?.DaysAfterInitiation })),
        spec.lifecycle.map((rule) => ({ id: rule.id, prefix: rule.prefix, expirationDays: rule.expirationDays, abortIncompleteDays: rule.abortIncompleteDays })),
      );
      assert.equal((props.VersioningConfiguration as { Status?: string } | undefined)?.Status === 'Enabled', spec.versioning, `${spec.role}: versioning`);
      const block = props.PublicAccessBlockConfiguration as Record<string, boolean>;
      assert.deepEqual(block, { BlockPublicAcls: spec.publicAccessBlock!.blockPublicAcls, IgnorePublicAcls: spec.publicAccessBlock!.ignorePublicAcls, BlockPublicPolicy: spec.publicAccessBlock!.blockPublicPolicy, RestrictPublicBuckets: spec.publicAccessBlock!.restrictPublicBuckets });
      const policy = template.Resources[`${logical[spec.role as keyof typeof logical]}Policy`];
      assert.deepEqual(policy?.Properties.PolicyDocument ?? null, spec.policy, `${spec.role}: bucket policy`);
    }
    // The public bucket lets anyone read its files; the others nothing anonymous.
    const publicRead = (template.Resources.PublicBucketPolicy!.Properties.PolicyDocument as { Statement: { Principal?: unknown; Action: string[] }[] }).Statement;
    assert.ok(publicRead.some((statement) => statement.Principal === '*' && statement.Action.includes('s3:GetObject')));
  });

  it('ships sharp for Linux x64 when a route runs the image processor; refuses the disk driver and SQLite', async () => {
    const dir = mkdtempSync(join(work, 'image-'));
    writeFileSync(join(dir, 'upfront.config.json'), JSON.stringify({ routes: { photo: { ...CONFIG.routes.photo, processors: ['image'] } } }));
    const { stdout } = await run(process.execPath, [...loader, cli, 'lambda', 'build', '--out', join(dir, 'out')], { cwd: dir, env });
    assert.match(stdout, /sharp for linux-x64/);
    const names = Object.keys(unzipSync(readFileSync(join(dir, 'out', 'upfront-lambda.zip')), { filter: (file) => file.name.endsWith('package.json') }));
    for (const name of ['sharp', '@img/sharp-linux-x64', '@img/sharp-libvips-linux-x64']) assert.ok(names.includes(`node_modules/${name}/package.json`), `${name} in ${names.join(', ')}`);

    for (const [change, said] of [[{ STORAGE_DRIVER: 'disk' }, /files go to S3: set STORAGE_DRIVER=s3/], [{ DATABASE_URL: 'sqlite:/tmp/upfront.db' }, /metadata store is PostgreSQL/]] as const) {
      const refused = await run(process.execPath, [...loader, cli, 'lambda', 'build', '--out', join(dir, 'refused')], { cwd: work, env: { ...env, ...change } }).then(
        () => assert.fail('built anyway'),
        (error: { code: number; stderr: string }) => error,
      );
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, said);
    }
  });
});
