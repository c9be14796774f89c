/**
 * Sends the bytes straight to storage with the signed request the API handed out.
 * Browsers use XMLHttpRequest because fetch reports no upload progress; Node (no XHR) uses fetch.
 */
import { aborted, errorFromStorage, storageUnreachable, UpfrontError } from './errors.ts';
import type { CreatedUpload, UploadProgress } from './types.ts';

interface StorageRequest {
  method: 'PUT' | 'POST';
  url: string;
  headers: Record<string, string>;
  body: Blob | FormData;
}

export interface TransferOptions {
  fetch: typeof fetch;
  onProgress?: (progress: UploadProgress) => void;
  signal?: AbortSignal;
}

/** A POST policy form: every signed field in the order given, then the file last (storage ignores fields after it). */
export function buildPostForm(fields: Record<string, string>, file: Blob, filename: string): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', file, filename);
  return form;
}

function storageRequest(upload: CreatedUpload, file: Blob, filename: string): StorageRequest {
  if (upload.strategy === 'put' && upload.put) {
    // Content-Length is the runtime's to set (browsers forbid it); it still matches the signed size.
    const headers = Object.fromEntries(Object.entries(upload.put.headers).filter(([name]) => name.toLowerCase() !== 'content-length'));
    return { method: 'PUT', url: upload.put.url, headers, body: file };
  }
  if (upload.strategy === 'post' && upload.post) {
    return { method: 'POST', url: upload.post.url, headers: {}, body: buildPostForm(upload.post.fields, file, filename) };
  }
  throw new UpfrontError('invalid_request', `This client cannot send a "${upload.strategy}" upload; update @upfront/client.`);
}

export function sendToStorage(upload: CreatedUpload, file: Blob, filename: string, options: TransferOptions): Promise<void> {
  const request = storageRequest(upload, file, filename);
  return typeof XMLHttpRequest === 'function'
    ? sendWithXhr(request, file.size, options)
    : sendWithFetch(request, options);
}

function sendWithXhr(request: StorageRequest, size: number, { onProgress, signal }: TransferOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const abort = () => xhr.abort();
    const settle = (error?: UpfrontError) => {
      signal?.removeEventListener('abort', abort);
      if (error) reject(error);
      else resolve();
    };
    xhr.open(request.method, request.url);
    for (const [name, value] of Object.entries(request.headers)) xhr.setRequestHeader(name, value);
    // Progress counts the whole request (a POST adds its form fields); report it in file bytes.
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress?.({ loaded: Math.round((size * event.loaded) / event.total), total: size });
    };
    xhr.onload = () => settle(xhr.status >= 200 && xhr.status < 300 ? undefined : errorFromStorage(xhr.status, xhr.responseText));
    xhr.onerror = () => settle(storageUnreachable());
    xhr.onabort = () => settle(aborted());
    signal?.addEventListener('abort', abort, { once: true });
    xhr.send(request.body);
  });
}

async function sendWithFetch(request: StorageRequest, { fetch, signal }: TransferOptions): Promise<void> {
  let response: Response;
  try {
    response = await fetch(request.url, { method: request.method, headers: request.headers, body: request.body, signal });
  } catch (error) {
    throw signal?.aborted ? aborted() : storageUnreachable(error);
  }
  const body = await response.text().catch(() => '');
  if (!response.ok) throw errorFromStorage(response.status, body);
}
