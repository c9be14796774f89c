/**
 * How the identity provider's JWKS is fetched: node:http(s), not fetch(). A process's first fetch()
 * sets up undici's HTTP client (its parser is WebAssembly, compiled then), which costs more than the
 * request itself; the JWKS is fetched on the first request of every new process, so a cold start (a new
 * Lambda container, a restarted server) would pay it before its first answer. Shaped as jose's
 * customFetch: what jose reads of the answer is its status and JSON body.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

export function fetchJwks(url: string, init: { method?: string; headers?: HeadersInit; signal?: AbortSignal | null }): Promise<Response> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const signal = init.signal ?? undefined;
    // As fetch(): a timeout rejects with the signal's reason (jose names a TimeoutError a JWKS timeout).
    const fail = (error: unknown) => reject(signal?.aborted ? signal.reason : error);
    const request = send(target, { method: init.method ?? 'GET', headers: Object.fromEntries(new Headers(init.headers)), ...(signal && { signal }) }, (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.once('error', fail);
      response.once('end', () => {
        const status = response.statusCode ?? 502;
        // A Response has a body only with a status from 200 to 599 other than 204, 205 and 304; jose wants 200.
        resolve(status === 200 ? new Response(Buffer.concat(chunks), { status }) : new Response(null, { status: status >= 200 && status <= 599 && ![204, 205, 304].includes(status) ? status : 502 }));
      });
    });
    request.once('error', fail);
    request.end();
  });
}
