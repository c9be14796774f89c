/**
 * One sentence about a queue, for a live region (screen readers read it when it changes): it names
 * stages and outcomes, not every percent, so it changes seldom.
 */
import type { QueueSnapshot } from './queue.ts';

const files = (count: number) => (count === 1 ? '1 file' : `${count} files`);

export function describeQueue({ items, total }: QueueSnapshot): string {
  if (items.length === 0) return '';
  if (total.active > 0) {
    const paused = items.filter((item) => item.paused && item.state !== 'done' && item.state !== 'error').length;
    return `Uploading ${files(total.active)}${paused ? `, ${paused} paused` : ''}.`;
  }
  const failed = items.filter((item) => item.state === 'error');
  const last = failed.at(-1);
  if (!last) return total.done === 1 ? `Uploaded ${items[0]!.name}.` : `Uploaded ${files(total.done)}.`;
  const failure = last.error!.code === 'aborted' ? `${last.name} was cancelled.` : `${last.name} failed: ${last.error!.detail}`;
  return total.done > 0 || failed.length > 1 ? `Uploaded ${files(total.done)}, ${failed.length} failed. ${failure}` : failure;
}
