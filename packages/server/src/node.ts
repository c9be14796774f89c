/** Node adapter: serves the Upfront fetch handler over node:http. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { UpfrontConfig } from './config.ts';
import { createUpfront, type Upfront, type UpfrontOptions } from './index.ts';

export interface ServeOptions {
  /** 0 picks a free port. */
  port: number;
  hostname?: string;
  /** Public URL if it differs from http://<hostname>:<port> (behind a proxy). */
  publicUrl?: string;
  fallback?: UpfrontOptions['fallback'];
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
  const server = createServer(getRequestListener((request) => handle(request)));
  const hostname = options.hostname ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, hostname, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = options.publicUrl ?? `http://${hostname === '0.0.0.0' ? 'localhost' : hostname}:${port}`;
  const upfront = await createUpfront(config, { publicUrl: url, ...(options.fallback && { fallback: options.fallback }) });
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
