/** Storage requests in browsers (pages and dedicated workers): XMLHttpRequest, for its upload progress. */
import { aborted, errorFromStorage, storageUnreachable, type UpfrontError } from './errors.ts';
import { watchdog, type Transfer } from './transfer.ts';

export const transfer: Transfer = ({ method, url, headers, body, fields }, { signal, stallTimeout, onSent }) => {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const abort = () => xhr.abort();
    const watch = watchdog(stallTimeout, abort);
    const settle = (error?: UpfrontError) => {
      watch.stop();
      signal.removeEventListener('abort', abort);
      if (error) reject(error);
      else resolve();
    };
    if (signal.aborted) return settle(aborted());
    xhr.open(method, url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    // A POST's progress counts its form fields too: the share of the whole request stands for the file's.
    xhr.upload.onprogress = (event) => {
      watch.kick();
      if (event.lengthComputable && event.total > 0) onSent(event.loaded / event.total);
    };
    // Retry-After is not read: storage does not expose it to pages (CORS), and asking logs an error.
    // load fires only for an answer (1xx are not shown): below 300 is success.
    xhr.onload = () => settle(xhr.status < 300 ? undefined : errorFromStorage(xhr.status, xhr.responseText));
    xhr.onerror = () => settle(storageUnreachable());
    // Cut by the caller (stop, pause), or by the watchdog: a stall, retried like a network error.
    xhr.onabort = () => settle(signal.aborted ? aborted() : storageUnreachable());
    signal.addEventListener('abort', abort, { once: true });
    watch.kick();
    if (!fields) return xhr.send(body);
    // Every signed field in the order given, then the file last (storage ignores fields after it).
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    form.append('file', body);
    xhr.send(form);
  });
};
