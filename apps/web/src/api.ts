/**
 * The API calls the client has no method for (versions, restore, usage), with fetch as any front end
 * can; a problem+json answer becomes an UpfrontError with its code and sentence.
 */
import { UpfrontError, type FileVersion, type UploadedFile, type Usage } from '@upfront/client';

export type { FileVersion, Usage };

export interface Api {
  versions(fileId: string): Promise<FileVersion[]>;
  restore(fileId: string, versionId: string): Promise<UploadedFile>;
  usage(): Promise<Usage>;
  /** Uploads `file` as a new version of `fileId` (create with `replaces`, one signed PUT or POST form, complete). */
  replace(fileId: string, route: string, file: File): Promise<UploadedFile>;
}

interface CreatedReplacement {
  id: string;
  strategy: 'put' | 'post' | 'multipart';
  put?: { url: string; headers: Record<string, string> };
  post?: { url: string; fields: Record<string, string> };
}

export function createApi(apiUrl: string, token: () => string): Api {
  async function call<T>(method: string, path: string, json?: unknown): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${token()}` };
    if (json !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(apiUrl + path, { method, headers, ...(json !== undefined && { body: JSON.stringify(json) }) });
    const body: unknown = await response.json().catch(() => null);
    if (!response.ok) {
      const problem = (body ?? {}) as { code?: unknown; detail?: unknown };
      throw new UpfrontError(
        typeof problem.code === 'string' ? problem.code : 'http_error',
        typeof problem.detail === 'string' ? problem.detail : `The API answered ${response.status} to ${method} ${path}.`,
        response.status,
      );
    }
    return body as T;
  }
  return {
    versions: async (fileId) => (await call<{ versions: FileVersion[] }>('GET', `/v1/files/${encodeURIComponent(fileId)}/versions`)).versions,
    restore: (fileId, versionId) => call<UploadedFile>('POST', `/v1/files/${encodeURIComponent(fileId)}/versions/${encodeURIComponent(versionId)}/restore`),
    usage: () => call<Usage>('GET', '/v1/usage'),
    async replace(fileId, route, file) {
      const created = await call<CreatedReplacement>('POST', '/v1/uploads', { route, filename: file.name, contentType: file.type, size: file.size, replaces: fileId });
      if (created.strategy === 'multipart') {
        await call('DELETE', `/v1/uploads/${created.id}`).catch(() => {});
        throw new UpfrontError('too_large_to_replace', `${file.name} is large enough to go in parts, which this page does not do for a new version; pick a smaller file.`);
      }
      const sent = created.put
        ? await fetch(created.put.url, { method: 'PUT', headers: created.put.headers, body: file })
        : await fetch(created.post!.url, { method: 'POST', body: formOf(created.post!.fields, file) });
      if (!sent.ok) throw new UpfrontError('storage_refused', `Storage refused the new version (status ${sent.status}); try again.`, sent.status);
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await file.arrayBuffer()));
      const sha256 = [...digest].map((byte) => byte.toString(16).padStart(2, '0')).join('');
      return call<UploadedFile>('POST', `/v1/uploads/${created.id}/complete`, { sha256 });
    },
  };
}

/** A POST policy form: its fields, then the file last (storage ignores fields after it). */
function formOf(fields: Record<string, string>, file: File): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', file);
  return form;
}
