/**
 * IAM user policies on Ceph RGW (PutUserPolicy, DeleteUserPolicy): the IAM API RGW serves on its S3
 * endpoint (a form POST to `/`, signed for the service "iam"). The caller needs the `user-policy=*`
 * capability (scripts/rgw/start.sh gives it to the owner user). RGW 16 has no radosgw-admin command
 * for user policies, hence the API.
 */
import { createHash } from 'node:crypto';
import { amzDate, requestSignature, scopeKey, uriEncode, type Credentials } from '../../packages/server/src/storage/sigv4.ts';

export interface IamEndpoint {
  endpoint: string;
  region: string;
  credentials: Credentials;
}

export function putUserPolicy(iam: IamEndpoint, user: string, name: string, policy: unknown): Promise<void> {
  return call(iam, { Action: 'PutUserPolicy', UserName: user, PolicyName: name, PolicyDocument: JSON.stringify(policy) });
}

export function deleteUserPolicy(iam: IamEndpoint, user: string, name: string): Promise<void> {
  return call(iam, { Action: 'DeleteUserPolicy', UserName: user, PolicyName: name });
}

async function call({ endpoint, region, credentials }: IamEndpoint, params: Record<string, string>): Promise<void> {
  const body = Object.entries({ ...params, Version: '2010-05-08' })
    .map(([name, value]) => `${uriEncode(name)}=${uriEncode(value)}`)
    .join('&');
  const url = new URL(endpoint);
  const longDate = amzDate(new Date());
  const key = scopeKey(credentials, longDate.slice(0, 8), region, 'iam');
  const hash = createHash('sha256').update(body).digest('hex');
  const headers = { 'content-type': 'application/x-www-form-urlencoded', 'x-amz-content-sha256': hash, 'x-amz-date': longDate };
  // Signed in sorted order, host among them (fetch sends it from the URL).
  const canonical: [string, string][] = [...Object.entries(headers), ['host', url.host]];
  canonical.sort(([a], [b]) => (a < b ? -1 : 1));
  const signed = canonical.map(([name]) => name).join(';');
  const lines = canonical.map(([name, value]) => `${name}:${value}\n`).join('');
  const signature = requestSignature(key, longDate, 'POST', '/', '', lines, signed, hash);
  const answer = await fetch(url, {
    method: 'POST',
    body,
    headers: { ...headers, authorization: `AWS4-HMAC-SHA256 Credential=${key.credential}, SignedHeaders=${signed}, Signature=${signature}` },
  });
  const text = await answer.text();
  if (!answer.ok) throw new Error(`IAM ${params.Action} ${params.UserName}: ${answer.status} ${text}`);
}
