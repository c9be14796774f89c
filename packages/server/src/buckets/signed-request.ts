/**
 * A request signed with SigV4 in its Authorization header (the payload hashed), for the few calls the
 * S3 SDK has no command for on Ceph RGW: its SNS topic API (POST / with Action=…) and deleting one bucket
 * notification (DELETE /bucket?notification=id). Built on storage/sigv4.ts' primitives.
 */
import { createHash } from 'node:crypto';
import { ALGORITHM, amzDate, byKeyThenValue, joinQuery, parseQuery, requestSignature, scopeKey, type Credentials } from '../storage/sigv4.ts';

export interface SignedRequest {
  method: string;
  /** Absolute; the path already encoded, the query's names and values query-encoded. */
  url: string;
  body?: string;
  contentType?: string;
  credentials: Credentials;
  region: string;
  /** `s3` or `sns`. */
  service: string;
}

export async function signedFetch({ method, url, body = '', contentType, credentials, region, service }: SignedRequest): Promise<Response> {
  const target = new URL(url);
  const date = amzDate(new Date());
  const payloadHash = createHash('sha256').update(body).digest('hex');
  const headers: Record<string, string> = {
    host: target.host,
    'x-amz-content-sha256': payloadHash,
    'x-amz-date': date,
    ...(contentType && { 'content-type': contentType }),
    ...(credentials.sessionToken && { 'x-amz-security-token': credentials.sessionToken }),
  };
  const names = Object.keys(headers).sort();
  const signedHeaders = names.join(';');
  const canonicalHeaders = names.map((name) => `${name}:${headers[name]}\n`).join('');
  const query = joinQuery(parseQuery(target.search.slice(1)).sort(byKeyThenValue));
  const key = scopeKey(credentials, date.slice(0, 8), region, service);
  const signature = requestSignature(key, date, method, target.pathname, query, canonicalHeaders, signedHeaders, payloadHash);
  const { host: _host, ...sent } = headers;
  return fetch(target, {
    method,
    headers: { ...sent, authorization: `${ALGORITHM} Credential=${key.credential}, SignedHeaders=${signedHeaders}, Signature=${signature}` },
    ...(method !== 'GET' && method !== 'HEAD' && { body }),
    signal: AbortSignal.timeout(10_000),
  });
}
