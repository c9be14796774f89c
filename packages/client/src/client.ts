import type { ClientContext } from './context.ts';
import { aborted, apiUnreachable, errorFromApi } from './errors.ts';
import { limiter } from './limiter.ts';
import { retrying } from './retry.ts';
import { globalFetch } from './transfer.ts';
import type { UploadSource } from './source.ts';
import type { FilePage, ListFilesOptions, UploadedFile, UploadOptions, UploadRoute, UploadTask } from './types.ts';
import { startUpload } from './upload.ts';

export interface UpfrontClientOptions {
  /** Base URL of the Upfront API, e.g. "https://uploads.example.com". */
  endpoint: string;
  /** The user's bearer token, or a function asked before every request (so it can refresh). */
  token: string | (() => string | Promise<string>);
  /** Used for API calls, and for storage requests outside browsers. */
  fetch?: typeof fetch;
  /** Parts of one file in flight at once (default 4). */
  partConcurrency?: number;
  /**
   * Storage requests in flight across all uploads of this client (default 6: a browser opens at most 6
   * HTTP/1.1 connections to a host, and a request it holds back would look stalled).
   */
  connections?: number;
  /** Retries of a request that failed in a way that may pass: network error, 5xx, 429 (default 5). */
  retries?: number;
  /** Milliseconds; retry n waits a random time up to retryDelay·2ⁿ⁻¹, at most 30 s, or what Retry-After says (default 500). */
  retryDelay?: number;
  /** Milliseconds without upload progress after which a storage request is cut and sent again (default 30000). */
  stallTimeout?: number;
  /** Where browsers load the hashing worker from (default: hash-worker.js next to the client's module). */
  workerUrl?: string | URL;
}

export interface UpfrontClient {
  /**
   * Creates the upload, sends the bytes straight to storage (in parts for large files), completes it,
   * and resolves with the stored file. The task can be paused, resumed and cancelled.
   */
  upload(file: UploadSource, options: UploadOptions): UploadTask;
  listFiles(options?: ListFilesOptions): Promise<FilePage>;
  getFile(id: string): Promise<UploadedFile>;
  deleteFile(id: string): Promise<void>;
  /** The server's upload routes (what each accepts). */
  listRoutes(): Promise<UploadRoute[]>;
}

export function createClient(options: UpfrontClientOptions): UpfrontClient {
  const endpoint = options.endpoint.replace(/\/+$/, '');
  const fetchImpl = options.fetch ?? globalFetch;
  const settings = {
    partConcurrency: options.partConcurrency ?? 4,
    retries: options.retries ?? 5,
    retryDelay: options.retryDelay ?? 500,
    stallTimeout: options.stallTimeout ?? 30_000,
    workerUrl: options.workerUrl,
  };

  const api: ClientContext['api'] = (method, path, body, signal) =>
    retrying(async () => {
      const token = typeof options.token === 'function' ? await options.token() : options.token;
      let response: Response;
      try {
        response = await fetchImpl(endpoint + path, {
          method,
          // Content-Type also where there is no body (JSON.stringify gives undefined): harmless, and shorter.
          headers: { authorization: `Bearer ${token}`, accept: 'application/json', 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal,
        });
      } catch (error) {
        throw signal?.aborted ? aborted() : apiUnreachable(error);
      }
      if (!response.ok) throw errorFromApi(response.status, await response.text().catch(() => ''), response.headers.get('retry-after'));
      return response.status === 204 ? undefined : response.json();
    }, settings, signal);

  const context: ClientContext = { api, fetch: fetchImpl, acquire: limiter(options.connections ?? 6), settings };

  return {
    upload: (file, uploadOptions) => startUpload(context, file, uploadOptions),

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
