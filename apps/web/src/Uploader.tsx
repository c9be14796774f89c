import { useMemo, useState, useSyncExternalStore } from 'react';
import type { UploadRoute } from '@upfront/client';
import { describeQueue, type UploadQueue } from '@upfront/client/queue';
import { UploadDropzone, type Uploads } from '@upfront/react';
import { formatSize, percentOf } from './format.ts';
import { QueueRow } from './QueueRow.tsx';
import { acceptedTypes, routeFiles } from './routing.ts';
import { useEffectOnChange } from './use-effect-on-change.ts';

interface UploaderProps {
  queue: UploadQueue;
  routes: UploadRoute[] | undefined;
  onUploaded(): void;
  onError(error: unknown): void;
}

/**
 * The dropzone (@upfront/react's) and the queue below it: each file's progress and controls, and the
 * total. One queue for every route: each dropped file goes to the route that takes its type.
 */
export function Uploader({ queue, routes, onUploaded, onError }: UploaderProps) {
  const snapshot = useSyncExternalStore(queue.subscribe, queue.getSnapshot);
  const [refused, setRefused] = useState<{ name: string; type: string }[]>([]);
  const { items, total } = snapshot;
  // A finished upload changes the user's files: tell the gallery and usage once per upload done.
  useEffectOnChange(total.done, (done, before) => done > before && onUploaded());

  const uploads: Uploads = useMemo(
    () => ({
      items: snapshot.items,
      total: snapshot.total,
      status: describeQueue(snapshot),
      add(files) {
        const { byRoute, unroutable } = routeFiles(Array.from(files), routes ?? []);
        const named = (file: Blob) => (file instanceof File ? file.name : 'file');
        setRefused((earlier) => [...earlier, ...unroutable.map((file) => ({ name: named(file), type: file.type || 'an unknown type' }))]);
        return [...byRoute].flatMap(([route, routed]) => queue.add(routed, { route }));
      },
      pause: queue.pause,
      resume: queue.resume,
      cancel: queue.cancel,
      retry: queue.retry,
      remove: queue.remove,
      clearFinished() {
        queue.clearFinished();
        setRefused([]);
      },
    }),
    [queue, snapshot, routes],
  );
  const finished = items.filter((item) => item.state === 'done' || item.state === 'error').length;
  const state = items.length === 0 ? 'empty' : total.active > 0 ? 'uploading' : 'finished';

  return (
    <section aria-labelledby="upload-heading" className="uploader">
      <h2 id="upload-heading">Upload files</h2>
      <UploadDropzone uploads={uploads} disabled={!routes} className="dropzone">
        {({ dragging }) => (dragging ? 'Drop them to upload' : 'Choose files or drop them here')}
      </UploadDropzone>
      <p className="hint" id="upload-hint">
        {routes ? `${acceptedTypes(routes)}; ` : ''}as many as you like, three at a time. Dropped a file again after a reload or a lost
        connection? Its upload continues where it stopped.
      </p>
      {refused.length > 0 && (
        <ul className="refused" aria-label="Files not sent">
          {refused.map((file, index) => (
            <li key={index} className="error" data-error-code="type_not_accepted">
              {file.name}: no route here takes {file.type}; upload {routes ? acceptedTypes(routes) : 'other'} files.
            </li>
          ))}
        </ul>
      )}
      <div className="queue" data-state={state}>
        {items.length > 0 && (
          <div className="total">
            <label htmlFor="total-progress">
              {total.done} of {items.length} done{total.failed > 0 ? `, ${total.failed} failed` : ''} · {formatSize(total.loaded)} of {formatSize(total.total)}
            </label>
            <progress id="total-progress" max={100} value={percentOf(total.loaded, total.total)} />
            {finished > 0 && <button type="button" onClick={uploads.clearFinished}>Clear finished</button>}
          </div>
        )}
        <ul className="queue-list" aria-label="Uploads">
          {items.map((item) => (
            <QueueRow key={item.key} item={item} queue={queue} onError={onError} />
          ))}
        </ul>
      </div>
    </section>
  );
}
