/**
 * Folder rules (`"buckets": {"folders": [...]}`), as bucket policy of the public and private buckets:
 * - `read-only`: files under the prefix are read as the bucket allows (anyone on public, signed GETs on
 *   private), and nobody but the admin writes or deletes them: not the API's credential, not a leaked
 *   signed request. For pages and assets an operator publishes.
 * - `write-only`: uploads land under the prefix, and nobody but the admin reads them: no anonymous GET
 *   even on the public bucket, no signed download. A drop box an operator reviews.
 * Both are Deny statements for everyone but the admin (NotPrincipal): a Deny binds the bucket's owner
 * too, and an Allow could not take away what another statement or an IAM policy grants.
 */
import type { PolicyStatement } from './spec.ts';

export type FolderAccess = 'read-only' | 'write-only';

export interface FolderRule {
  bucket: 'public' | 'private';
  /** A key prefix, e.g. `page/`. */
  prefix: string;
  access: FolderAccess;
}

const DENIED: Record<FolderAccess, string[]> = {
  'read-only': ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'],
  'write-only': ['s3:GetObject', 's3:GetObjectVersion'],
};

/** The statements of one bucket's folder rules; `admin` is the principal they exempt (principalOf). */
export function folderStatements(bucket: string, rules: FolderRule[], admin: string): PolicyStatement[] {
  return rules.map((rule, index) => ({
    Sid: `UpfrontFolder${index + 1}${rule.access === 'read-only' ? 'ReadOnly' : 'WriteOnly'}`,
    Effect: 'Deny',
    NotPrincipal: { AWS: [admin] },
    Action: DENIED[rule.access],
    Resource: [`arn:aws:s3:::${bucket}/${rule.prefix}*`],
  }));
}

/**
 * A user's principal in a bucket policy, from its canonical id (ListBuckets' owner): on RGW the user id,
 * `tenant$user` for a user of a tenant.
 */
export function principalOf(ownerId: string): string {
  const [tenant, user] = ownerId.includes('$') ? ownerId.split('$', 2) : ['', ownerId];
  return `arn:aws:iam::${tenant}:user/${user}`;
}

/** What is wrong with a folder rule as configured, or undefined. */
export function folderProblem(rule: Record<string, unknown>): string | undefined {
  if (rule.bucket !== 'public' && rule.bucket !== 'private') return '"bucket" is "public" or "private"';
  if (rule.access !== 'read-only' && rule.access !== 'write-only') return '"access" is "read-only" or "write-only"';
  const { prefix } = rule;
  if (typeof prefix !== 'string' || prefix === '' || prefix.startsWith('/')) return '"prefix" is a key prefix like "page/" (not empty, no leading "/")';
  if (/[*?]/.test(prefix)) return '"prefix" is literal: no "*" or "?"';
  // Doctor's and setup's probes go there, and must be readable and removable.
  if (prefix.startsWith('upfront-') || 'upfront-'.startsWith(prefix)) return '"prefix" may not cover "upfront-" (Upfront\'s probe objects go there)';
  return undefined;
}
