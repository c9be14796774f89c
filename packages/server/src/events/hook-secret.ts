/**
 * The storage hook's shared secret: stores cannot sign with a user's token, so the endpoint they push
 * to carries a secret. It may come as `?secret=` in the push URL (Ceph RGW, SNS HTTP subscriptions), as
 * the header x-upfront-hook-secret, or as `Authorization: Bearer` (an EventBridge API destination or a
 * Lambda forwarding SQS messages). Compared in constant time, over digests so that lengths match too.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export const HOOK_SECRET_HEADER = 'x-upfront-hook-secret';

/** Every secret the request offers (a store may send more than one way, e.g. a URL and a header). */
export function offeredSecrets(request: Request): string[] {
  const offered: string[] = [];
  const query = new URL(request.url).searchParams.get('secret');
  if (query) offered.push(query);
  const header = request.headers.get(HOOK_SECRET_HEADER);
  if (header) offered.push(header);
  const bearer = /^bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '')?.[1];
  if (bearer) offered.push(bearer);
  return offered;
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** Whether any offered secret is the configured one; each comparison takes the same time. */
export function secretMatches(offered: readonly string[], secret: string): boolean {
  const expected = digest(secret);
  let matched = false;
  for (const candidate of offered) matched = timingSafeEqual(digest(candidate), expected) || matched;
  return matched;
}
