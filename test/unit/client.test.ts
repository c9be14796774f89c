import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorFromApi, errorFromStorage, parseProblem, UpfrontError } from '../../packages/client/src/errors.ts';
import { buildPostForm } from '../../packages/client/src/transfer.ts';

const s3Error = (code: string, message: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>tx0001</RequestId></Error>`;

describe('storage error mapping', () => {
  it('maps EntityTooLarge to file_too_large and keeps storage\'s words as the cause', () => {
    const error = errorFromStorage(400, s3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size'));
    assert.ok(error instanceof UpfrontError);
    assert.equal(error.code, 'file_too_large');
    assert.equal(error.status, 400);
    assert.match(error.detail, /smaller file/);
    assert.equal(error.message, error.detail);
    assert.match(String(error.cause), /EntityTooLarge: Your proposed upload exceeds/);
  });

  it('decodes XML entities in storage\'s message', () => {
    const error = errorFromStorage(400, s3Error('InvalidArgument', 'Key &#60;x&#62; isn&#39;t &amp; can&apos;t be &quot;used&quot;'));
    assert.equal(error.code, 'invalid_request');
    assert.equal(String(error.cause), 'storage answered 400 InvalidArgument: Key <x> isn\'t & can\'t be "used"');
  });

  it('maps signature and access failures to forbidden', () => {
    assert.equal(errorFromStorage(403, s3Error('SignatureDoesNotMatch', 'The request signature we calculated does not match')).code, 'forbidden');
    assert.equal(errorFromStorage(403, s3Error('AccessDenied', '')).code, 'forbidden');
    assert.equal(errorFromStorage(403, s3Error('InvalidAccessKeyId', 'unknown key')).code, 'forbidden');
  });

  it('recognises an expired signature or policy', () => {
    assert.equal(errorFromStorage(403, s3Error('AccessDenied', 'Request has expired')).code, 'upload_expired');
    assert.equal(errorFromStorage(403, s3Error('AccessDenied', 'Invalid according to Policy: Policy expired.')).code, 'upload_expired');
    assert.equal(errorFromStorage(400, s3Error('ExpiredToken', 'The provided token has expired.')).code, 'upload_expired');
  });

  it('maps size and checksum complaints', () => {
    assert.equal(errorFromStorage(400, s3Error('EntityTooSmall', 'too small')).code, 'size_mismatch');
    assert.equal(errorFromStorage(400, s3Error('IncompleteBody', 'short')).code, 'size_mismatch');
    assert.equal(errorFromStorage(400, s3Error('BadDigest', 'md5')).code, 'checksum_mismatch');
  });

  it('falls back on the status when the body is not an S3 error', () => {
    assert.equal(errorFromStorage(503, '<html>Service Unavailable</html>').code, 'storage_unavailable');
    assert.equal(errorFromStorage(403, '').code, 'forbidden');
    assert.equal(errorFromStorage(400, s3Error('MalformedPOSTRequest', 'bad form')).code, 'invalid_request');
  });

  it('passes a problem+json answer from storage through unchanged', () => {
    const body = JSON.stringify({ type: 'about:blank', title: 'Too large', status: 413, code: 'file_too_large', detail: 'Files on this route may be at most 10 MB.' });
    const error = errorFromStorage(413, body);
    assert.equal(error.code, 'file_too_large');
    assert.equal(error.detail, 'Files on this route may be at most 10 MB.');
  });
});

describe('API error parsing', () => {
  it('reads code and detail from problem+json', () => {
    const body = JSON.stringify({
      type: 'about:blank',
      title: 'Content type mismatch',
      status: 422,
      code: 'content_type_mismatch',
      detail: 'The file is a text/plain, not an image/png. Upload a real PNG.',
    });
    const error = errorFromApi(422, body);
    assert.equal(error.code, 'content_type_mismatch');
    assert.equal(error.status, 422);
    assert.equal(error.detail, 'The file is a text/plain, not an image/png. Upload a real PNG.');
  });

  it('uses the title when there is no detail', () => {
    const error = errorFromApi(404, JSON.stringify({ code: 'not_found', title: 'No such file' }));
    assert.equal(error.code, 'not_found');
    assert.equal(error.detail, 'No such file');
  });

  it('derives a code from the status when the body is not a problem', () => {
    assert.equal(errorFromApi(401, '').code, 'unauthorized');
    assert.equal(errorFromApi(429, 'slow down').code, 'rate_limited');
    const gateway = errorFromApi(502, '<html>Bad Gateway</html>');
    assert.equal(gateway.code, 'server_error');
    assert.match(gateway.detail, /502/);
  });

  it('parseProblem ignores JSON that is not a problem', () => {
    assert.equal(parseProblem('[1,2]'), null);
    assert.equal(parseProblem('{"ok":true}'), null);
    assert.equal(parseProblem('not json'), null);
    assert.deepEqual(parseProblem('{"code":"forbidden","status":403}'), { code: 'forbidden' });
  });
});

describe('POST policy form', () => {
  it('keeps the signed fields in order and puts the file last', async () => {
    const fields = {
      key: 'staging/alice/2024-01-01-abc.pdf',
      'Content-Type': 'application/pdf',
      'x-amz-algorithm': 'AWS4-HMAC-SHA256',
      'x-amz-credential': 'AKID/20240101/us-east-1/s3/aws4_request',
      'x-amz-date': '20240101T000000Z',
      policy: 'eyJleHBpcmF0aW9uIjoi...',
      'x-amz-signature': 'abc123',
    };
    const file = new Blob(['%PDF-1.4 hello'], { type: 'application/pdf' });
    const form = buildPostForm(fields, file, 'report.pdf');

    assert.deepEqual([...form.keys()], [...Object.keys(fields), 'file']);
    for (const [name, value] of Object.entries(fields)) assert.equal(form.get(name), value);
    const sent = form.get('file');
    assert.ok(sent instanceof File);
    assert.equal(sent.name, 'report.pdf');
    assert.equal(await sent.text(), '%PDF-1.4 hello');
  });

  it('serialises to multipart with the file part after every field', async () => {
    const form = buildPostForm({ key: 'k', policy: 'p' }, new Blob(['bytes']), 'a.bin');
    const body = await new Response(form).text();
    const positions = ['name="key"', 'name="policy"', 'name="file"'].map((marker) => body.indexOf(marker));
    assert.ok(positions.every((position) => position >= 0), body);
    assert.deepEqual([...positions].sort((a, b) => a - b), positions);
  });
});
