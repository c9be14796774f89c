/**
 * The page script of upload-browser.ts, bundled by it with the compiled @upfront/client and served by
 * the API (so the client's API calls are same-origin; storage's CORS admits the origin). Both uploaders
 * send the same File, the one picked in the page's file input, each timed here from the call to its end.
 */
import { createClient } from '@upfront/client';

export interface BrowserBench {
  /** Through @upfront/client with its defaults: create, parts (MD5 each, SHA-256 in the hash worker), complete. */
  upfront(token: string, timeoutMs: number): Promise<{ seconds: number; key: string }>;
  /** One PUT of the whole file with fetch, to a presigned URL straight into storage. */
  plainPut(url: string, timeoutMs: number): Promise<{ seconds: number }>;
}

function picked(): File {
  const file = (document.getElementById('file') as HTMLInputElement).files?.[0];
  if (!file) throw new Error('no file picked');
  return file;
}

const bench: BrowserBench = {
  async upfront(token, timeoutMs) {
    const client = createClient({ endpoint: location.origin, token });
    const file = picked();
    const started = performance.now();
    const stored = await client.upload(file, { route: 'archive', contentType: 'application/zip', signal: AbortSignal.timeout(timeoutMs) });
    const seconds = (performance.now() - started) / 1000;
    // Proves the checksums were on: the SHA-256 the worker computed is kept with the file.
    if (!stored.sha256 || stored.size !== file.size) throw new Error(`stored without its SHA-256 or with the wrong size: ${JSON.stringify(stored)}`);
    return { seconds, key: stored.key };
  },

  async plainPut(url, timeoutMs) {
    const started = performance.now();
    const response = await fetch(url, { method: 'PUT', body: picked(), headers: { 'content-type': 'application/zip' }, signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) throw new Error(`presigned PUT: HTTP ${response.status} ${await response.text()}`);
    return { seconds: (performance.now() - started) / 1000 };
  },
};

Object.assign(window, { bench });
