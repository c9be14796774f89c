/** Node adapter: serves the Upfront fetch handler over node:http. */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener, type HttpBindings } from '@hono/node-server';
import { BufferedRequest } from './buffered-request.ts';
import { isJsonType, MAX_JSON_BODY } from './http/context.ts';
import type { UpfrontConfig } from './config.ts';
import { createUpfront, type Upfront, type UpfrontOptions } from './index.ts';

export interface ServeOptions {
  /** 0 picks a free port. */
  port: number;
  hostname?: string;
  /** Public URL if it differs from http://<hostname>:<port> (behind a proxy). */
  publicUrl?: string;
  fallback?: UpfrontOptions['fallback'];
  /** The app's processors (UpfrontOptions). */
  processors?: UpfrontOptions['processors'];
}

export interface RunningServer {
  url: string;
  upfront: Upfront;
  server: Server;
  close(): Promise<void>;
}

/**
 * Listens first, then builds Upfront with the URL it really got (port 0 → a free port), so signed
 * URLs of the disk driver always point at this server.
 */
export async function serve(config: UpfrontConfig, options: ServeOptions): Promise<RunningServer> {
  let handle: Upfront['fetch'] = async () => new Response('starting', { status: 503 });
  const server = createServer(requestListener((request) => handle(request)));
  const hostname = options.hostname ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, hostname, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = options.publicUrl ?? `http://${hostname === '0.0.0.0' ? 'localhost' : hostname}:${port}`;
  const upfront = await createUpfront(config, {
    publicUrl: url,
    ...(options.fallback && { fallback: options.fallback }),
    ...(options.processors && { processors: options.processors }),
  });
  handle = upfront.fetch;
  return {
    url,
    upfront,
    server,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await upfront.close();
    },
  };
}

/**
 * A node:http request listener for a fetch handler. Small JSON bodies (API calls) are read before
 * the handler runs and handed over in memory (see BufferedRequest); other bodies, such as file
 * bytes for the disk endpoint, stay streamed.
 */
export function requestListener(fetch: (request: Request) => Response | Promise<Response>) {
  return getRequestListener(async (request, env) => fetch(await bufferSmallJson(request, (env as HttpBindings).incoming)));
}

async function bufferSmallJson(request: Request, incoming: IncomingMessage): Promise<Request> {
  const length = Number(incoming.headers['content-length']);
  // Only what readJson would accept: anything else is refused or streamed unread anyway.
  if (!(length > 0 && length <= MAX_JSON_BODY) || !isJsonType(incoming.headers['content-type'])) return request;
  return new BufferedRequest(request.url, request.method, request.headers, await readAll(incoming));
}

/** The whole body; plain events, since an async iterator costs more than such a body's read. */
function readAll(incoming: IncomingMessage): Promise<Uint8Array<ArrayBuffer>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.once('end', () => resolve(Buffer.concat(chunks)));
    incoming.once('error', reject);
    incoming.once('aborted', () => reject(new Error('The client closed the connection before sending the whole body.')));
  });
}
