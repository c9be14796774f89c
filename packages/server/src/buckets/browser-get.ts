/**
 * A GET of a URL that browsers use (the site, the CDN), for doctor's checks. Host names under
 * `.localhost` reach this machine's loopback, as browsers resolve them (RFC 6761) whether or not the
 * system's resolver does: the dev RGW's website endpoint, `<bucket>.s3-website.localhost`, is one.
 */
import { lookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';

export interface GetAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

const loopbackForLocalhost: LookupFunction = (hostname, options, callback) => {
  if (hostname !== 'localhost' && !hostname.endsWith('.localhost')) return lookup(hostname, options, callback);
  const loopback: LookupAddress = { address: '127.0.0.1', family: 4 };
  // Node asks for every address (options.all) when it may try several; the callback's shape follows.
  if (options.all) (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, [loopback]);
  else callback(null, loopback.address, loopback.family);
};

export function browserGet(url: string, headers: Record<string, string> = {}, timeoutMs = 5000): Promise<GetAnswer> {
  const get = url.startsWith('https:') ? https.get : http.get;
  return new Promise((resolve, reject) => {
    let answered = false;
    const request = get(url, { headers, lookup: loopbackForLocalhost, timeout: timeoutMs }, (response) => {
      answered = true;
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', reject);
      response.on('close', () => response.complete || reject(new Error('the answer was cut short')));
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    request.on('error', (error: NodeJS.ErrnoException) => {
      // RGW's website error pages (16.2) send bytes past their Content-Length: Node's parser fails on
      // them after the whole answer arrived, which then still ends and stands.
      if (answered && error.code?.startsWith('HPE_')) return;
      reject(error);
    });
  });
}
