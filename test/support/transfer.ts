/** Sends bytes to storage exactly as a browser would with the API's signed instruction. */
import type { CreatedUpload } from '@upfront/client';

export type { CreatedUpload };

export async function sendToStorage(upload: CreatedUpload, bytes: Uint8Array, contentType: string): Promise<Response> {
  if (upload.put) {
    return fetch(upload.put.url, { method: 'PUT', headers: upload.put.headers, body: new Uint8Array(bytes) });
  }
  if (!upload.post) throw new Error('upload has neither put nor post');
  return fetch(upload.post.url, { method: 'POST', body: postForm(upload.post.fields, bytes, contentType) });
}

export function postForm(fields: Record<string, string>, bytes: Uint8Array, contentType: string): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', new Blob([new Uint8Array(bytes)], { type: contentType }), 'file');
  return form;
}

/** The S3 error code of a storage error response (`<Code>…</Code>`), or '' if none. */
export async function storageErrorCode(res: Response): Promise<string> {
  return /<Code>([^<]+)<\/Code>/.exec(await res.text())?.[1] ?? '';
}
