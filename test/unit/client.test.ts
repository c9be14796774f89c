import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorFromApi, errorFromStorage, parseProblem, UpfrontError } from '../../packages/client/src/errors.ts';
import { requestBody } from '../../packages/client/src/fetch-transfer.ts';
import { fileFromPath } from '../../packages/client/src/node-file.ts';

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

describe('POST policy form (Node writes it out itself)', () => {
  const fields = {
    key: 'staging/alice/2024-01-01-abc.pdf',
    'Content-Type': 'application/pdf',
    'x-amz-algorithm': 'AWS4-HMAC-SHA256',
    'x-amz-credential': 'AKID/20240101/us-east-1/s3/aws4_request',
    'x-amz-date': '20240101T000000Z',
    policy: 'eyJleHBpcmF0aW9uIjoi...',
    'x-amz-signature': 'abc123',
  };
  /** The form as a server reads it, with the multipart parser of Node's fetch. */
  const parsed = async (file: Blob) => {
    const { stream, size, headers } = requestBody({ method: 'POST', url: 'http://storage.invalid/', headers: {}, body: file, fields });
    const bytes = new Uint8Array(await new Response(stream()).arrayBuffer());
    assert.equal(bytes.length, size, 'the Content-Length it will declare');
    return { form: await new Response(bytes, { headers }).formData(), text: new TextDecoder().decode(bytes) };
  };

  it('keeps the signed fields in order and puts the file last, with its name, type and bytes', async () => {
    const { form, text } = await parsed(new File(['%PDF-1.4 hello'], 'report.pdf', { type: 'application/pdf' }));
    assert.deepEqual([...form.keys()], [...Object.keys(fields), 'file']);
    for (const [name, value] of Object.entries(fields)) assert.equal(form.get(name), value);
    const sent = form.get('file');
    assert.ok(sent instanceof File);
    assert.equal(sent.name, 'report.pdf');
    assert.equal(sent.type, 'application/pdf');
    assert.equal(await sent.text(), '%PDF-1.4 hello');
    const positions = Object.keys(fields).map((name) => text.indexOf(`name="${name}"`));
    assert.deepEqual([...positions].sort((a, b) => a - b), positions);
    assert.ok(text.indexOf('name="file"') > positions.at(-1)!);
  });

  it('names a plain Blob "blob", as FormData does', async () => {
    const { form } = await parsed(new Blob(['x']));
    assert.equal((form.get('file') as File).name, 'blob');
  });

  it('sends a file read by path (which FormData would see as empty), and escapes quotes and line breaks in its name as browsers do', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'upfront-form-'));
    try {
      await writeFile(join(dir, 'say "hi"\r\n.bin'), 'bytes from disk');
      const { form, text } = await parsed(await fileFromPath(join(dir, 'say "hi"\r\n.bin')));
      const sent = form.get('file') as File;
      assert.equal(await sent.text(), 'bytes from disk');
      assert.equal(sent.type, 'application/octet-stream');
      assert.match(text, /; filename="say %22hi%22%0D%0A\.bin"\r\n/);
      assert.equal(sent.name, 'say "hi"\r\n.bin', 'a server decodes it back');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
