/**
 * Says why storage would not take a request, after retries. Its answer may be unreadable: S3 and RGW
 * send 403s without CORS headers, so a browser sees only a network error. So the API is asked what
 * state the upload is in (aborted elsewhere, expired), and a no-cors request tells a storage that
 * answers (and so refused) from one that cannot be reached.
 */
import type { Upload } from './api-types.ts';
import type { UploadContext } from './context.ts';
import { UpfrontError } from './errors.ts';

export async function explain(ctx: UploadContext, url: string, error: UpfrontError): Promise<UpfrontError> {
  const { api, control, path } = ctx;
  const upload = await api<Upload>('GET', path, undefined, control.signal).catch(() => undefined);
  const because = (code: string, detail: string) => new UpfrontError(code, detail, error.status, { cause: error });
  if (upload?.state === 'aborted') return because('upload_aborted', 'This upload was cancelled elsewhere. Upload the file again.');
  if (upload && (upload.state === 'expired' || Date.parse(upload.expiresAt) <= Date.now())) return because('upload_expired', 'This upload expired. Upload the file again.');
  // Only a browser hides storage's answers; elsewhere a network error is just that.
  if (!upload || error.status || typeof XMLHttpRequest !== 'function') return error;
  const answered = await ctx.fetch(url, { method: 'HEAD', mode: 'no-cors', signal: control.signal }).then(() => true, () => false);
  return answered
    ? because('forbidden', 'Storage refused the upload without CORS headers (this page cannot read why): its CORS or signing settings need checking.')
    : because('storage_unavailable', 'Storage cannot be reached. Check your connection and try again.');
}
