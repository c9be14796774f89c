/**
 * sigv4.ts against the AWS SDK v3: every presigned URL and POST policy must be byte-identical to the
 * SDK's for the same inputs; then the verifiers accept what was signed and refuse every alteration.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  bucketUrl, objectUrl, presignPost, presignUrl,
  type Credentials, type PolicyCondition,
} from '../../packages/server/src/storage/sigv4.ts';
import { verifyPostPolicy, verifyPresignedRequest } from '../../packages/server/src/storage/sigv4-verify.ts';
import { createPresigner } from '../../packages/server/src/storage/presigner.ts';
import { sdkPresignPart, sdkPresignPost, sdkPresignUrl, type ClientConfig, type SdkRequest } from '../support/sdk-vectors.ts';

const KEY: Credentials = { accessKeyId: 'AKIAUPFRONTTEST', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const TEMP_KEY: Credentials = { accessKeyId: 'ASIAUPFRONTTEMP', secretAccessKey: 'temp/secret+key=', sessionToken: 'FwoGZXIvYXdzE//token+with/slashes==' };
const SIGNED_AT = new Date('2024-05-06T07:08:09Z');

interface Endpoint { endpoint: string; forcePathStyle: boolean }
const ENDPOINTS: Endpoint[] = [
  { endpoint: 'http://127.0.0.1:3000/storage', forcePathStyle: true },    // disk driver behind the API
  { endpoint: 'http://127.0.0.1:7480', forcePathStyle: false },           // RGW by IP: path-style regardless
  { endpoint: 'https://s3.example.com', forcePathStyle: false },          // virtual-hosted
  { endpoint: 'https://s3.example.com', forcePathStyle: true },
  { endpoint: 'http://localhost:9000', forcePathStyle: false },           // virtual-hosted with a port
  { endpoint: 'https://s3.example.com:443', forcePathStyle: true },       // default port dropped
  { endpoint: 'http://Storage.Example.COM:8080/a%20b/', forcePathStyle: false }, // prefix with slash, mixed case
  { endpoint: 'http://[::1]:9000/s3', forcePathStyle: false },            // IPv6
];

const KEYS = [
  'uploads/2024/photo.png',
  'with space/and  two.png',
  'plus+sign.txt',
  'percent%20literal%.bin',
  'tilde~dash-under_score.dot',
  "bang!quote'paren()star*.jpg",
  'double//slash/',
  '/leading-slash',
  'ünïcödé/日本語/😀.png',
  '?#[]@$&=;:,"<>{}|\\^`',
  'u/123/2024-05-06-6f1c2b9e.webp',
  'a/./b/c',
];

interface UrlVector { name: string; config: ClientConfig; request: SdkRequest; expiresIn: number; at: Date }

function urlVectors(): UrlVector[] {
  const vectors: UrlVector[] = [];
  const config = (endpoint: Endpoint, region = 'us-east-1', credentials = KEY): ClientConfig => ({ ...endpoint, region, credentials });
  const [disk, ip, virtual, pathStyle, localhost, port443, prefixed, ipv6] = ENDPOINTS as [Endpoint, Endpoint, Endpoint, Endpoint, Endpoint, Endpoint, Endpoint, Endpoint];
  // Every key through every endpoint shape, as the create-upload PUT (Content-Type and Content-Length signed).
  for (const endpoint of ENDPOINTS) {
    for (const [i, key] of KEYS.entries()) {
      vectors.push({
        name: `PUT ${endpoint.endpoint} pathStyle=${endpoint.forcePathStyle} key=${JSON.stringify(key)}`,
        config: config(endpoint),
        request: { op: 'PutObject', bucket: 'upfront-staging', key, contentType: 'image/png', contentLength: 1000 + i },
        expiresIn: 600, at: SIGNED_AT,
      });
    }
  }
  const put = (bucket = 'upfront-staging'): SdkRequest =>
    ({ op: 'PutObject', bucket, key: 'u/1/file.png', contentType: 'image/png', contentLength: 5 });
  const more: Omit<UrlVector, 'at'>[] = [
    { name: 'bucket with dots stays path-style', config: config(virtual), request: put('my.bucket'), expiresIn: 600 },
    { name: 'bucket with uppercase stays path-style', config: config(virtual), request: put('My_Bucket'), expiresIn: 600 },
    { name: 'IP-like bucket', config: config(localhost), request: put('192.168.1.1'), expiresIn: 600 },
    { name: 'region eu-west-3', config: config(virtual, 'eu-west-3'), request: put(), expiresIn: 600 },
    { name: 'region ap-southeast-2', config: config(disk, 'ap-southeast-2'), request: put(), expiresIn: 600 },
    { name: 'custom region name', config: config(ip, 'default'), request: put(), expiresIn: 600 },
    { name: 'session token', config: config(disk, 'us-east-1', TEMP_KEY), request: put(), expiresIn: 600 },
    { name: 'session token, virtual-hosted', config: config(virtual, 'eu-central-1', TEMP_KEY), request: put(), expiresIn: 600 },
    { name: 'expires 1 s', config: config(disk), request: put(), expiresIn: 1 },
    { name: 'expires 1 h', config: config(pathStyle), request: put(), expiresIn: 3600 },
    { name: 'expires one week', config: config(virtual), request: put(), expiresIn: 604800 },
    {
      name: 'content-type with parameters and odd spacing', config: config(disk),
      request: { op: 'PutObject', bucket: 'b-1', key: 'notes.txt', contentType: '  text/plain;   charset=utf-8 ', contentLength: 0 }, expiresIn: 900,
    },
    {
      name: 'Content-MD5 and metadata signed as headers', config: config(ip),
      request: { op: 'PutObject', bucket: 'staging', key: 'k.bin', contentType: 'application/octet-stream', contentLength: 3, contentMD5: 'rL0Y20zC+Fzt72VPzMSk2A==', metadata: { owner: 'user 42' } },
      expiresIn: 300,
    },
    {
      name: 'GET with response-content-disposition', config: config(disk),
      request: { op: 'GetObject', bucket: 'upfront-private', key: 'u/1/report.pdf', responseContentDisposition: `attachment; filename="r\u00e9sum\u00e9 (1).pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9` },
      expiresIn: 300,
    },
    { name: 'GET virtual-hosted', config: config(virtual), request: { op: 'GetObject', bucket: 'upfront-public', key: 'a b/c.png' }, expiresIn: 60 },
    { name: 'GET IPv6', config: config(ipv6), request: { op: 'GetObject', bucket: 'upfront-public', key: 'x', responseContentDisposition: 'inline' }, expiresIn: 60 },
    { name: 'HEAD', config: config(port443), request: { op: 'HeadObject', bucket: 'upfront-staging', key: 'u/1/x.png' }, expiresIn: 120 },
    {
      name: 'UploadPart (RGW-style upload id)', config: config(ip),
      request: { op: 'UploadPart', bucket: 'upfront-staging', key: 'big/file.mp4', partNumber: 7, uploadId: '2~xQf0Vx-3Q_8sLh3h1m1x0Z2mZa.Yk' }, expiresIn: 3600,
    },
    {
      name: 'UploadPart (upload id needing encoding)', config: config(prefixed),
      request: { op: 'UploadPart', bucket: 'upfront-staging', key: 'big/file.mp4', partNumber: 10000, uploadId: 'a+b/c=d e' }, expiresIn: 3600,
    },
  ];
  for (const vector of more) vectors.push({ ...vector, at: SIGNED_AT });
  // The SDK drops milliseconds; so must we.
  vectors.push({ name: 'clock with milliseconds', config: config(disk), request: put(), expiresIn: 600, at: new Date('2024-12-31T23:59:59.999Z') });
  vectors.push({ name: 'leap day', config: config(virtual, 'us-west-2', TEMP_KEY), request: put(), expiresIn: 600, at: new Date('2028-02-29T00:00:00.001Z') });
  return vectors;
}

/** The same request as sigv4.ts inputs: objectUrl + the query the SDK operation adds. */
function ourPresign(vector: UrlVector): string {
  const { config, request, expiresIn, at } = vector;
  const base = objectUrl(config.endpoint, request.bucket, request.key, config.forcePathStyle);
  const query = new URLSearchParams();
  const headers: Record<string, string> = {};
  let method = 'GET';
  switch (request.op) {
    case 'PutObject':
      method = 'PUT';
      if (request.contentType !== undefined) headers['Content-Type'] = request.contentType;
      if (request.contentLength !== undefined) headers['Content-Length'] = String(request.contentLength);
      if (request.contentMD5 !== undefined) headers['Content-MD5'] = request.contentMD5;
      for (const [name, value] of Object.entries(request.metadata ?? {})) headers[`x-amz-meta-${name}`] = value;
      query.set('x-id', 'PutObject');
      break;
    case 'GetObject':
      if (request.responseContentDisposition !== undefined) query.set('response-content-disposition', request.responseContentDisposition);
      query.set('x-id', 'GetObject');
      break;
    case 'HeadObject':
      method = 'HEAD';
      break;
    case 'UploadPart':
      method = 'PUT';
      query.set('partNumber', String(request.partNumber));
      query.set('uploadId', request.uploadId);
      query.set('x-id', 'UploadPart');
      break;
  }
  const search = query.toString();
  return presignUrl({
    method, url: search ? `${base}?${search}` : base, expiresIn, headers, now: at,
    credentials: config.credentials, region: config.region,
  });
}

describe('presignUrl is byte-identical to getSignedUrl', () => {
  const vectors = urlVectors();
  test(`covers at least 50 vectors (${vectors.length})`, () => assert.ok(vectors.length >= 50));
  for (const vector of vectors) {
    test(vector.name, async () => {
      const expected = await sdkPresignUrl(vector.config, vector.request, vector.expiresIn, vector.at);
      assert.equal(ourPresign(vector), expected);
    });
  }

  // The vectors above fix the time; this is the path every real request takes.
  test('without a given time, signs at the current second', () => {
    const credentials = { accessKeyId: 'AKIDNOW', secretAccessKey: 'now/secret' };
    const input = { method: 'PUT', url: objectUrl('http://127.0.0.1:7480', 'b', 'k.png', true), expiresIn: 60, credentials, region: 'us-east-1' };
    for (;;) {
      const before = Date.now();
      const url = presignUrl(input);
      if (Math.floor(before / 1000) !== Math.floor(Date.now() / 1000)) continue; // crossed a second: again
      assert.equal(url, presignUrl({ ...input, now: new Date(before) }));
      assert.ok(url.includes(`X-Amz-Date=${new Date(before).toISOString().slice(0, 19).replace(/[-:]/g, '')}Z`));
      break;
    }
  });
});

describe("the presigner's presignPart is byte-identical to getSignedUrl of UploadPart", () => {
  const UPLOAD_IDS = [
    '2~xQf0Vx-3Q_8sLh3h1m1x0Z2mZa.Yk', // RGW: `~` stays unescaped in SigV4
    'VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA--', // AWS style
    'a+b/c=d e%~', // every character that needs encoding
  ];
  const MD5 = 'rL0Y20zC+Fzt72VPzMSk2A==';
  const cases = ENDPOINTS.flatMap((endpoint, e) => KEYS.map((key, k) => ({
    endpoint, key,
    uploadId: UPLOAD_IDS[(e + k) % UPLOAD_IDS.length]!,
    partNumber: [1, 2, 37, 10000][k % 4]!,
    contentMd5: k % 2 === 0 ? MD5 : undefined,
    credentials: e % 3 === 2 ? TEMP_KEY : KEY,
  })));
  test(`covers every endpoint and key, with and without Content-MD5 (${cases.length})`, () => {
    assert.ok(cases.some((c) => c.contentMd5) && cases.some((c) => !c.contentMd5) && cases.length >= 90);
  });
  for (const { endpoint, key, uploadId, partNumber, contentMd5, credentials } of cases) {
    test(`${endpoint.endpoint} pathStyle=${endpoint.forcePathStyle} key=${JSON.stringify(key)} part ${partNumber} md5=${contentMd5 !== undefined}`, async () => {
      const config: ClientConfig = { ...endpoint, region: 'default', credentials };
      const presigner = createPresigner({ ...config, bucketName: (bucket) => `upfront-${bucket}` });
      const ours = presigner.presignPart({ key, uploadId, partNumber, contentLength: 5242880 + partNumber, contentMd5, expiresIn: 3600 });
      // presignPart signs at the current second: the SDK signs at that same second.
      const signedAt = /X-Amz-Date=(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z/.exec(ours.url)!.slice(1);
      const at = new Date(`${signedAt[0]}-${signedAt[1]}-${signedAt[2]}T${signedAt[3]}:${signedAt[4]}:${signedAt[5]}Z`);
      const expected = await sdkPresignPart(config, {
        bucket: 'upfront-staging', key, partNumber, uploadId, contentLength: 5242880 + partNumber, contentMD5: contentMd5,
      }, 3600, at);
      assert.equal(ours.url, expected);
      assert.deepEqual(ours.headers, contentMd5 !== undefined ? { 'Content-MD5': contentMd5 } : {});
      assert.equal(ours.method, 'PUT');
    });
  }
});

describe('bucketUrl is the SDK POST url', () => {
  for (const { endpoint, forcePathStyle } of ENDPOINTS) {
    for (const bucket of ['upfront-staging', 'my.bucket']) {
      test(`${endpoint} pathStyle=${forcePathStyle} ${bucket}`, async () => {
        const config: ClientConfig = { endpoint, forcePathStyle, region: 'us-east-1', credentials: KEY };
        const sdk = await sdkPresignPost(config, { bucket, key: 'k', expiresIn: 60 }, SIGNED_AT);
        assert.equal(bucketUrl(endpoint, bucket, forcePathStyle), sdk.url);
      });
    }
  }
});

interface PostVector {
  name: string;
  config: ClientConfig;
  bucket: string;
  key: string;
  expiresIn: number;
  fields?: Record<string, string>;
  conditions?: PolicyCondition[];
  at: Date;
}

const POST_CONFIG: ClientConfig = { endpoint: 'http://127.0.0.1:3000/storage', forcePathStyle: true, region: 'us-east-1', credentials: KEY };
const postVectors: PostVector[] = [
  {
    name: 'create-upload form: type, size range', config: POST_CONFIG, bucket: 'upfront-staging', key: 'u/1/2024-05-06-abc.png', expiresIn: 600,
    fields: { 'Content-Type': 'image/png' }, conditions: [['content-length-range', 0, 10485760]], at: SIGNED_AT,
  },
  {
    name: 'unicode key and metadata field', config: { ...POST_CONFIG, endpoint: 'https://s3.example.com', forcePathStyle: false },
    bucket: 'upfront-staging', key: 'ünï/日本 語+%.png', expiresIn: 3600,
    fields: { 'Content-Type': 'image/png', 'x-amz-meta-filename': 'résumé "final".png' }, at: SIGNED_AT,
  },
  {
    name: 'starts-with conditions and a duplicate condition', config: POST_CONFIG, bucket: 'b', key: 'x/y.txt', expiresIn: 60,
    fields: { 'Content-Type': 'text/plain' },
    conditions: [['starts-with', '$Content-Type', 'text/'], ['starts-with', '$key', 'x/'], { 'Content-Type': 'text/plain' }, ['content-length-range', 1, 100]],
    at: SIGNED_AT,
  },
  { name: '${filename} key', config: POST_CONFIG, bucket: 'b', key: 'incoming/${filename}', expiresIn: 600, at: SIGNED_AT },
  { name: 'session token', config: { ...POST_CONFIG, credentials: TEMP_KEY }, bucket: 'b', key: 'k', expiresIn: 600, at: SIGNED_AT },
  { name: 'region and one-week expiry', config: { ...POST_CONFIG, region: 'ap-northeast-1' }, bucket: 'b', key: 'k', expiresIn: 604800, at: SIGNED_AT },
  {
    name: 'clock with milliseconds', config: { ...POST_CONFIG, endpoint: 'http://localhost:9000', forcePathStyle: false },
    bucket: 'upfront-staging', key: 'k', expiresIn: 900, conditions: [['eq', '$x-amz-meta-user', '42']],
    fields: { 'x-amz-meta-user': '42' }, at: new Date('2024-05-06T07:08:09.999Z'),
  },
];

describe('presignPost is byte-identical to createPresignedPost', () => {
  for (const vector of postVectors) {
    test(vector.name, async () => {
      const sdk = await sdkPresignPost(vector.config, vector, vector.at);
      const ours = presignPost({
        url: bucketUrl(vector.config.endpoint, vector.bucket, vector.config.forcePathStyle),
        bucket: vector.bucket, key: vector.key, expiresIn: vector.expiresIn,
        fields: vector.fields, conditions: vector.conditions, now: vector.at,
        credentials: vector.config.credentials, region: vector.config.region,
      });
      assert.equal(Buffer.from(ours.fields.Policy!, 'base64').toString(), Buffer.from(sdk.fields.Policy!, 'base64').toString());
      // Same fields, same values, same order.
      assert.deepEqual(Object.entries(ours.fields), Object.entries(sdk.fields));
      assert.equal(ours.url, sdk.url);
    });
  }
});

// ---------------------------------------------------------------------------------------------------

const REGION = 'us-east-1';
const lookup = (accessKeyId: string): Credentials | undefined =>
  accessKeyId === KEY.accessKeyId ? KEY : accessKeyId === TEMP_KEY.accessKeyId ? TEMP_KEY : undefined;
const ENDPOINT = 'http://127.0.0.1:3000/storage';
const PUT_HEADERS = { 'content-type': 'image/png', 'content-length': '1234' };

/** A request as the storage endpoint sees it: URL normalised by the WHATWG parser, Host from the URL. */
function incoming(method: string, url: string, headers: Record<string, string> = {}) {
  const request = new Request(url, { method, headers });
  const all = new Headers(request.headers);
  all.set('host', new URL(request.url).host);
  return { method: request.method, url: request.url, headers: all };
}

function signedPut(options: { key?: string; credentials?: Credentials; region?: string; expiresIn?: number } = {}) {
  return presignUrl({
    method: 'PUT', url: objectUrl(ENDPOINT, 'upfront-staging', options.key ?? "u/1/it's a (test)*!.png", true),
    expiresIn: options.expiresIn ?? 600, headers: PUT_HEADERS, now: SIGNED_AT,
    credentials: options.credentials ?? KEY, region: options.region ?? REGION,
  });
}

const later = (seconds: number) => new Date(SIGNED_AT.getTime() + seconds * 1000);

describe('verifyPresignedRequest', () => {
  test('accepts a URL from presignUrl', () => {
    assert.deepEqual(verifyPresignedRequest(incoming('PUT', signedPut(), PUT_HEADERS), lookup, REGION, later(10)),
      { ok: true, accessKeyId: KEY.accessKeyId });
  });

  test('accepts the SDK\'s own URLs (GET with overrides, UploadPart, session token)', async () => {
    const config: ClientConfig = { endpoint: ENDPOINT, forcePathStyle: true, region: REGION, credentials: TEMP_KEY };
    const get = await sdkPresignUrl(config, { op: 'GetObject', bucket: 'b', key: 'a b/ü.pdf', responseContentDisposition: 'attachment; filename="x y.pdf"' }, 60, SIGNED_AT);
    assert.equal(verifyPresignedRequest(incoming('GET', get), lookup, REGION, later(1)).ok, true);
    const part = await sdkPresignUrl(config, { op: 'UploadPart', bucket: 'b', key: 'big', partNumber: 2, uploadId: 'a+b/c=d e' }, 60, SIGNED_AT);
    assert.equal(verifyPresignedRequest(incoming('PUT', part), lookup, REGION, later(1)).ok, true);
  });

  test('accepts an equivalent spelling of the path (raw \' ( ) * !)', () => {
    const url = signedPut().replace(/%27/g, "'").replace(/%28/g, '(').replace(/%29/g, ')').replace(/%2A/g, '*').replace(/%21/g, '!');
    assert.match(url, /it's/);
    assert.equal(verifyPresignedRequest(incoming('PUT', url, PUT_HEADERS), lookup, REGION, later(1)).ok, true);
  });

  const refuses = (name: string, request: ReturnType<typeof incoming>, status: number, code: string, now = later(10)) =>
    test(`refuses ${name} (${status} ${code})`, () => {
      const result = verifyPresignedRequest(request, lookup, REGION, now);
      assert.equal(result.ok, false, 'must be refused');
      if (!result.ok) {
        assert.equal(result.status, status, result.message);
        assert.equal(result.code, code, result.message);
      }
    });

  const url = signedPut();
  const signature = /X-Amz-Signature=([0-9a-f]{64})/.exec(url)![1]!;
  const flipped = signature.replace(/^./, (c) => (c === '0' ? '1' : '0'));
  refuses('a tampered signature', incoming('PUT', url.replace(signature, flipped), PUT_HEADERS), 403, 'SignatureDoesNotMatch');
  refuses('a truncated signature', incoming('PUT', url.replace(signature, signature.slice(0, 63)), PUT_HEADERS), 403, 'SignatureDoesNotMatch');
  refuses('a URL signed with another secret', incoming('PUT', signedPut({ credentials: { ...KEY, secretAccessKey: 'other' } }), PUT_HEADERS), 403, 'SignatureDoesNotMatch');
  refuses('an unknown access key', incoming('PUT', signedPut({ credentials: { accessKeyId: 'AKIANOBODY', secretAccessKey: 'x' } }), PUT_HEADERS), 403, 'InvalidAccessKeyId');
  refuses('a URL signed for another region', incoming('PUT', signedPut({ region: 'eu-west-1' }), PUT_HEADERS), 400, 'AuthorizationQueryParametersError');
  refuses('another method', incoming('POST', url, PUT_HEADERS), 403, 'SignatureDoesNotMatch');
  refuses('GET of the signed PUT URL', incoming('GET', url), 403, 'SignatureDoesNotMatch');
  refuses('another key (path)', incoming('PUT', url.replace('/u/1/', '/u/2/'), PUT_HEADERS), 403, 'SignatureDoesNotMatch');
  refuses('another bucket', incoming('PUT', url.replace('/upfront-staging/', '/upfront-public/'), PUT_HEADERS), 403, 'SignatureDoesNotMatch');
  refuses('a changed Content-Type', incoming('PUT', url, { ...PUT_HEADERS, 'content-type': 'text/html' }), 403, 'SignatureDoesNotMatch');
  refuses('a changed Content-Length', incoming('PUT', url, { ...PUT_HEADERS, 'content-length': '1235' }), 403, 'SignatureDoesNotMatch');
  refuses('a missing Content-Type', incoming('PUT', url, { 'content-length': '1234' }), 403, 'SignatureDoesNotMatch');
  refuses('another host', { ...incoming('PUT', url, PUT_HEADERS), headers: new Headers({ ...PUT_HEADERS, host: 'evil.example:3000' }) }, 403, 'SignatureDoesNotMatch');
  refuses('an added query parameter', incoming('PUT', `${url}&partNumber=1`, PUT_HEADERS), 403, 'SignatureDoesNotMatch');
  refuses('a longer expiry', incoming('PUT', url.replace('X-Amz-Expires=600', 'X-Amz-Expires=6000'), PUT_HEADERS), 403, 'SignatureDoesNotMatch');
  refuses('an unsigned x-amz-* header', incoming('PUT', url, { ...PUT_HEADERS, 'x-amz-acl': 'public-read' }), 403, 'AccessDenied');
  refuses('an expired URL', incoming('PUT', url, PUT_HEADERS), 403, 'AccessDenied', later(601));
  refuses('a URL dated in the future', incoming('PUT', url, PUT_HEADERS), 403, 'AccessDenied', later(-3600));
  refuses('a missing auth parameter', incoming('PUT', url.replace(/&X-Amz-Date=[^&]*/, ''), PUT_HEADERS), 400, 'AuthorizationQueryParametersError');
  refuses('another algorithm', incoming('PUT', url.replace('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA512'), PUT_HEADERS), 400, 'AuthorizationQueryParametersError');
  refuses('an expiry over a week', incoming('PUT', url.replace('X-Amz-Expires=600', 'X-Amz-Expires=604801'), PUT_HEADERS), 400, 'AuthorizationQueryParametersError');
  refuses('a signed payload hash it cannot check', incoming('PUT', url.replace('UNSIGNED-PAYLOAD', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'), PUT_HEADERS), 400, 'AuthorizationQueryParametersError');
  refuses('signed headers without host', incoming('PUT', url.replace('content-length%3Bcontent-type%3Bhost', 'content-length%3Bcontent-type'), PUT_HEADERS), 400, 'AuthorizationQueryParametersError');
  refuses('a session-token URL without its token', incoming('PUT', signedPut({ credentials: TEMP_KEY }).replace(/&X-Amz-Security-Token=[^&]*/, ''), PUT_HEADERS), 403, 'AccessDenied');
});

// ---------------------------------------------------------------------------------------------------

const FORM_KEY = 'u/1/2024-05-06-abc.png';
function signedForm(options: { expiresIn?: number; credentials?: Credentials } = {}) {
  return presignPost({
    url: bucketUrl(ENDPOINT, 'upfront-staging', true), bucket: 'upfront-staging', key: FORM_KEY,
    expiresIn: options.expiresIn ?? 600, fields: { 'Content-Type': 'image/png' },
    conditions: [['content-length-range', 1, 10485760]], now: SIGNED_AT,
    credentials: options.credentials ?? KEY, region: REGION,
  }).fields;
}

describe('verifyPostPolicy', () => {
  const verify = (fields: Record<string, string>, now = later(10), bucket = 'upfront-staging') =>
    verifyPostPolicy({ bucket, fields }, lookup, REGION, now);

  test('accepts the form from presignPost and returns the length range', () => {
    assert.deepEqual(verify(signedForm()), { ok: true, lengthRange: [1, 10485760] });
  });

  test('accepts the SDK\'s own form, with a session token', async () => {
    const config: ClientConfig = { endpoint: ENDPOINT, forcePathStyle: true, region: REGION, credentials: TEMP_KEY };
    const sdk = await sdkPresignPost(config, { bucket: 'upfront-staging', key: 'k.png', expiresIn: 60, fields: { 'Content-Type': 'image/png' } }, SIGNED_AT);
    assert.deepEqual(verify(sdk.fields, later(59)), { ok: true });
  });

  test('accepts field names in any case, and x-ignore-* fields', () => {
    const fields = Object.fromEntries(Object.entries(signedForm()).map(([k, v]) => [k.toLowerCase(), v]));
    assert.equal(verify({ ...fields, 'X-Ignore-Tracking': '1' }).ok, true);
  });

  test('accepts ${filename} keys by prefix', () => {
    const { fields } = presignPost({
      url: 'x', bucket: 'upfront-staging', key: 'in/${filename}', expiresIn: 60, now: SIGNED_AT, credentials: KEY, region: REGION,
    });
    assert.equal(verify({ ...fields, key: 'in/photo.png' }).ok, true);
    assert.equal(verify({ ...fields, key: 'out/photo.png' }).ok, false);
  });

  const refuses = (name: string, fields: Record<string, string>, status: number, code: string, now = later(10), bucket?: string) =>
    test(`refuses ${name} (${status} ${code})`, () => {
      const result = verify(fields, now, bucket);
      assert.equal(result.ok, false, 'must be refused');
      if (!result.ok) {
        assert.equal(result.status, status, result.message);
        assert.equal(result.code, code, result.message);
      }
    });

  const form = signedForm();
  const policyWith = (edit: (json: string) => string) =>
    Buffer.from(edit(Buffer.from(form.Policy!, 'base64').toString()), 'utf8').toString('base64');

  refuses('another key', { ...form, key: 'u/2/other.png' }, 403, 'AccessDenied');
  refuses('another Content-Type', { ...form, 'Content-Type': 'text/html' }, 403, 'AccessDenied');
  refuses('a missing Content-Type', Object.fromEntries(Object.entries(form).filter(([k]) => k !== 'Content-Type')), 403, 'AccessDenied');
  refuses('another bucket', form, 403, 'AccessDenied', later(10), 'upfront-public');
  refuses('an expired policy', form, 403, 'AccessDenied', later(601));
  refuses('a tampered policy (longer expiry)', { ...form, Policy: policyWith((json) => json.replace(/"expiration":"[^"]*"/, '"expiration":"2099-01-01T00:00:00Z"')) }, 403, 'SignatureDoesNotMatch');
  refuses('a tampered policy (bigger range)', { ...form, Policy: policyWith((json) => json.replace('10485760', '99999999999')) }, 403, 'SignatureDoesNotMatch');
  refuses('a tampered signature', { ...form, 'X-Amz-Signature': form['X-Amz-Signature']!.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')) }, 403, 'SignatureDoesNotMatch');
  refuses('a policy signed with another secret', signedForm({ credentials: { ...KEY, secretAccessKey: 'other' } }), 403, 'SignatureDoesNotMatch');
  refuses('an unknown access key', signedForm({ credentials: { accessKeyId: 'AKIANOBODY', secretAccessKey: 'x' } }), 403, 'InvalidAccessKeyId');
  refuses('an extra field no condition covers', { ...form, 'x-amz-meta-evil': '1' }, 403, 'AccessDenied');
  refuses('an extra non-amz field', { ...form, 'Cache-Control': 'public' }, 403, 'AccessDenied');
  refuses('a missing policy', Object.fromEntries(Object.entries(form).filter(([k]) => k !== 'Policy')), 400, 'MissingFields');
  refuses('a missing key', Object.fromEntries(Object.entries(form).filter(([k]) => k !== 'key')), 400, 'MissingFields');
  refuses('the same field twice in different case', { ...form, 'content-type': 'image/png' }, 400, 'InvalidPolicyDocument');
  refuses('a session-token form without its token', Object.fromEntries(Object.entries(signedForm({ credentials: TEMP_KEY })).filter(([k]) => k !== 'X-Amz-Security-Token')), 403, 'AccessDenied');

  test('refuses a validly signed policy that is not JSON, or has an unknown condition (400 InvalidPolicyDocument)', () => {
    // Sign by hand (the documented key derivation), as a confused signer might.
    const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
    const signingKey = ['20240506', REGION, 's3', 'aws4_request'].reduce<Buffer | string>((key, part) => hmac(key, part), `AWS4${KEY.secretAccessKey}`);
    const signed = (policyJson: string) => {
      const Policy = Buffer.from(policyJson, 'utf8').toString('base64');
      return { ...form, Policy, 'X-Amz-Signature': hmac(signingKey, Policy).toString('hex') };
    };
    const sane = signed(Buffer.from(form.Policy!, 'base64').toString());
    assert.equal(verify(sane).ok, true, 'the hand signature is right');
    const withUnknownOperator = Buffer.from(form.Policy!, 'base64').toString()
      .replace('["content-length-range"', '["ends-with","$key","x"],["content-length-range"');
    for (const policy of ['{"expiration":', '{"conditions":[]}', withUnknownOperator]) {
      const result = verify(signed(policy));
      assert.equal(result.ok, false);
      if (!result.ok) assert.deepEqual([result.status, result.code], [400, 'InvalidPolicyDocument'], result.message);
    }
  });
});
