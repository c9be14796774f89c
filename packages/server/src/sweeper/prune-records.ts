/**
 * Rows that only grow: webhook messages delivered long ago (kept a week, so `upfront webhooks list` can
 * still show what was sent) and the rate limiter's counts of windows that no longer count.
 */
import type { Services } from '../services.ts';
import type { ReportBuilder } from './report.ts';

const KEEP_DELIVERED_MS = 7 * 86_400_000;
/** The limiter reads the current and the previous one-minute window only. */
const KEEP_WINDOWS_MS = 2 * 60_000;

export async function pruneRecords(services: Services, now: number, report: ReportBuilder): Promise<void> {
  const { store } = services;
  const messages = await store.webhookOutbox.pruneDelivered(new Date(now - KEEP_DELIVERED_MS));
  const windows = await store.pruneRequestCounts(now - KEEP_WINDOWS_MS);
  for (let i = 0; i < messages; i++) report.add('records_pruned', 'webhook message');
  for (let i = 0; i < windows; i++) report.add('records_pruned', 'rate-limit window');
}
