/**
 * A load balancer for tests: an HTTP proxy that sends each request to the next of its backends in turn
 * (round robin, no stickiness), as any load balancer in front of several API instances may.
 */
import { once } from 'node:events';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RoundRobin {
  url: string;
  /** Requests sent to each backend so far, by backend URL. */
  readonly sent: Map<string, number>;
  close(): Promise<void>;
}

export async function roundRobin(backends: () => string[]): Promise<RoundRobin> {
  const sent = new Map<string, number>();
  let next = 0;
  const server = createServer((req, res) => {
    const targets = backends();
    const target = new URL(req.url ?? '/', targets[next++ % targets.length]);
    sent.set(target.origin, (sent.get(target.origin) ?? 0) + 1);
    const forwarded = request(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forwarded.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(forwarded);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sent,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
