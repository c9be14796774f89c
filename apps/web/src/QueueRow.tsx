import type { UploadItem, UploadQueue } from '@upfront/client/queue';
import { formatSize, percentOf } from './format.ts';
import { ProblemMessage } from './ProblemMessage.tsx';

/** What each stage means to the user. */
function stageText(item: UploadItem): string {
  if (item.paused && item.state !== 'done' && item.state !== 'error') return 'Paused';
  switch (item.state) {
    case 'queued': return 'Waiting';
    case 'starting': return 'Starting (checking for an upload to resume)';
    case 'uploading': return 'Uploading';
    case 'finishing': return 'Verifying and storing';
    case 'done': return 'Done';
    case 'error': return item.error?.code === 'aborted' ? 'Cancelled' : 'Failed';
  }
}

/** One file of the queue: its progress, its stage in words, and what can be done with it now. */
export function QueueRow({ item, queue, onError }: { item: UploadItem; queue: UploadQueue; onError(error: unknown): void }) {
  const percent = item.state === 'done' ? 100 : percentOf(item.loaded, item.total);
  const running = item.state !== 'done' && item.state !== 'error';
  const cancelled = item.error?.code === 'aborted';
  return (
    <li
      className="queue-row"
      data-upload-key={item.key}
      data-name={item.name}
      data-state={item.state}
      data-paused={item.paused}
      data-upload-id={item.uploadId ?? ''}
      data-error-code={item.error?.code ?? ''}
    >
      <span className="name">{item.name}</span>
      <span className="meta">{formatSize(item.size)} · {item.route}</span>
      <progress aria-label={`Progress of ${item.name}`} max={100} value={percent} />
      <span className="percent">{percent}%</span>
      <span className="stage">{stageText(item)}</span>
      <span className="actions">
        {running && (item.paused
          ? <button type="button" onClick={() => queue.resume(item.key)} aria-label={`Resume ${item.name}`}>Resume</button>
          : <button type="button" onClick={() => queue.pause(item.key)} aria-label={`Pause ${item.name}`}>Pause</button>)}
        {running && <button type="button" onClick={() => queue.cancel(item.key).catch(onError)} aria-label={`Cancel ${item.name}`}>Cancel</button>}
        {item.state === 'error' && <button type="button" onClick={() => queue.retry(item.key)} aria-label={`Retry ${item.name}`}>Retry</button>}
        {!running && <button type="button" onClick={() => queue.remove(item.key)} aria-label={`Remove ${item.name} from the list`}>Remove</button>}
      </span>
      {item.error && !cancelled && <ProblemMessage problem={item.error} />}
    </li>
  );
}
