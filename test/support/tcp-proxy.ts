/**
 * A TCP proxy for fault tests and measurements: relays connections to a target port and cuts the ones chosen by
 * `cutAfter` once they have relayed that many bytes from the client (mid-request, mid-part), the way a
 * flaky network or a dying load balancer does; or, with `stallAfter`, stops relaying them either way
 * while keeping them open, the way a dead route does. Requests are not parsed: signed URLs stay valid, since
 * the client addressed the proxy itself. It also counts the bytes it relays.
 */
import { createServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxy {
  url: string;
  port: number;
  /** Connections cut so far. */
  readonly cuts: number;
  /** Bytes relayed from clients to the target, and back. */
  readonly bytesUp: number;
  readonly bytesDown: number;
  /**
   * Setting it arms the proxy: every connection, open ones included, is cut once it has relayed this
   * many more bytes from its client (undefined: relay everything).
   */
  cutAfter: number | undefined;
  /** At most this many more connections are cut (default: unlimited while cutAfter is set). */
  cutsLeft: number;
  /** Connections stalled so far. */
  readonly stalls: number;
  /**
   * Like cutAfter, but the connection is stalled: it stays open and nothing more passes, either way.
   * A connection due for both is cut while cuts are left.
   */
  stallAfter: number | undefined;
  /** At most this many more connections are stalled. */
  stallsLeft: number;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let cuts = 0;
  let bytesUp = 0;
  let bytesDown = 0;
  let cutAfter: number | undefined;
  let stallAfter: number | undefined;
  let stalls = 0;
  /** Bumped whenever cutAfter or stallAfter is set, so open connections count afresh from then. */
  let armed = 0;
  const proxy: TcpProxy = {
    url: '',
    port: 0,
    get cuts() {
      return cuts;
    },
    get bytesUp() {
      return bytesUp;
    },
    get bytesDown() {
      return bytesDown;
    },
    get cutAfter() {
      return cutAfter;
    },
    set cutAfter(value) {
      cutAfter = value;
      armed++;
    },
    cutsLeft: Number.POSITIVE_INFINITY,
    get stalls() {
      return stalls;
    },
    get stallAfter() {
      return stallAfter;
    },
    set stallAfter(value) {
      stallAfter = value;
      armed++;
    },
    stallsLeft: Number.POSITIVE_INFINITY,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  const server = createServer((client) => {
    const upstream = connect(targetPort, targetHost);
    sockets.add(client).add(upstream);
    const forget = () => {
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', forget);
    let relayed = 0;
    let counting = armed;
    let stalled = false;
    client.on('data', (chunk: Buffer) => {
      if (stalled) return;
      if (counting !== armed) [relayed, counting] = [0, armed];
      relayed += chunk.length;
      if (cutAfter !== undefined && proxy.cutsLeft > 0 && relayed > cutAfter) {
        cuts++;
        proxy.cutsLeft--;
        client.resetAndDestroy();
        upstream.destroy();
        return;
      }
      if (stallAfter !== undefined && proxy.stallsLeft > 0 && relayed > stallAfter) {
        stalls++;
        proxy.stallsLeft--;
        stalled = true;
        upstream.unpipe(client);
        client.pause(); // what the client sends from now on fills the socket buffers, then waits
        return;
      }
      bytesUp += chunk.length;
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on('data', (chunk: Buffer) => (bytesDown += chunk.length));
    upstream.on('drain', () => client.resume());
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('end', () => upstream.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.port = (server.address() as AddressInfo).port;
  proxy.url = `http://127.0.0.1:${proxy.port}`;
  return proxy;
}
