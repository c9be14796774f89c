/**
 * Quotas: each user's limits over all routes and per route, kept at create (an upload reserves its
 * size, and a file, until it ends) and answered with what is left.
 */
import type { RouteConfig, UpfrontConfig } from '../config.ts';
import { UpfrontError } from '../errors.ts';
import type { QuotaCheck, QuotaExceeded } from '../store/types.ts';
import { formatSize } from '../uploads/format-size.ts';

/** The limits an upload on `route` must keep: the user's over all routes, then the route's. */
export function quotaChecks(config: UpfrontConfig, route: RouteConfig): QuotaCheck[] {
  const checks: QuotaCheck[] = [];
  const { perUser } = config.quotas;
  if (perUser.bytes !== undefined || perUser.files !== undefined) checks.push({ ...perUser });
  if (route.quota && (route.quota.bytes !== undefined || route.quota.files !== undefined)) checks.push({ route: route.name, ...route.quota });
  return checks;
}

/** 413 when the bytes would not fit, 403 when one more file would not; the sentence says what is left. */
export function quotaExceededError({ check, limit, usage }: QuotaExceeded, size: number): UpfrontError {
  const scope = check.route === undefined ? 'your storage' : `the "${check.route}" route`;
  const pending = usage.reservedFiles > 0 ? `, counting ${usage.reservedFiles} unfinished upload${usage.reservedFiles === 1 ? '' : 's'}` : '';
  if (limit === 'bytes') {
    const left = Math.max(0, check.bytes! - usage.bytes - usage.reservedBytes);
    return new UpfrontError(
      'quota_exceeded',
      `This file (${formatSize(size)}) does not fit in ${scope}: ${formatSize(left)} of ${formatSize(check.bytes!)} is left${pending}. Delete files or finish or abort unfinished uploads first.`,
      { status: 413 },
    );
  }
  return new UpfrontError(
    'quota_exceeded',
    `You have ${usage.files + usage.reservedFiles} of ${check.files} files allowed in ${scope}${pending}. Delete files or finish or abort unfinished uploads first.`,
    { status: 403 },
  );
}
