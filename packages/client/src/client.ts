import { aborted, apiUnreachable, errorFromApi, UpfrontError } from './errors.ts';
import { sendToStorage } from './transfer.ts';
import type { CreatedUpload, FilePage, ListFilesOptions, UploadedFile, UploadOptions, UploadRoute } from './types.ts';

export interface UpfrontClientOptions {
  /** Base URL of the Upfront API, e.g. "https://uploads.example.com". */
  endpoint: string;
  /** The user's bearer token, or a function asked before every request (so it can refresh). */
  token: string | (() => string | Promise<string>);
  fetch?: typeof fetch;
}

export interface UpfrontClient {
  /** Creates the upload, sends the bytes straight to storage, completes it and returns the stored file. */
  upload(file: Blob, options: UploadOptions): Promise<UploadedFile>;
  listFiles(options?: ListFilesOptions): Promise<FilePage>;
  getFile(id: string): Promise<UploadedFile>;
  deleteFile(id: string): Promise<void>;
  /** The server's upload routes (what each accepts). */
  listRoutes(): Promise<UploadRoute[]>;
}

export function createClient(options: UpfrontClientOptions): UpfrontClient {
  const endpoint = options.endpoint.replace(/\/+$/, '');
  // Wrapped so a browser's fetch is never called detached from `window` ("Illegal invocation").
  const fetchImpl: typeof fetch = options.fetch ?? ((input, init) => fetch(input, init));

  async function api<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const token = typeof options.token === 'function' ? await options.token() : options.token;
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetchImpl(endpoint + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (error) {
      throw signal?.aborted ? aborted() : apiUnreachable(error);
    }
    if (!response.ok) throw errorFromApi(response.status, await response.text().catch(() => ''));
    return (response.status === 204 ? undefined : await response.json()) as T;
  }

  return {
    async upload(file, { route, filename, contentType, onProgress, signal }) {
      const name = filename ?? ('name' in file && typeof file.name === 'string' ? file.name : '');
      if (!name) throw new UpfrontError('invalid_filename', 'Pass `filename` when uploading a Blob that is not a File.');
      if (signal?.aborted) throw aborted();
      const created = await api<CreatedUpload>('POST', '/v1/uploads', {
        route,
        filename: name,
        contentType: contentType || file.type || 'application/octet-stream',
        size: file.size,
      }, signal);
      onProgress?.({ loaded: 0, total: file.size });
      await sendToStorage(created, file, name, { fetch: fetchImpl, onProgress, signal });
      onProgress?.({ loaded: file.size, total: file.size });
      return api<UploadedFile>('POST', `/v1/uploads/${encodeURIComponent(created.id)}/complete`, undefined, signal);
    },

    listFiles({ limit, before } = {}) {
      const query = new URLSearchParams();
      if (limit !== undefined) query.set('limit', String(limit));
      if (before !== undefined) query.set('before', before);
      const search = query.toString();
      return api<FilePage>('GET', search ? `/v1/files?${search}` : '/v1/files');
    },

    getFile(id) {
      return api<UploadedFile>('GET', `/v1/files/${encodeURIComponent(id)}`);
    },

    deleteFile(id) {
      return api<void>('DELETE', `/v1/files/${encodeURIComponent(id)}`);
    },

    async listRoutes() {
      return (await api<{ routes: UploadRoute[] }>('GET', '/v1/routes')).routes;
    },
  };
}
