/**
 * Starts test/support/api-server.ts as a child process on a fixed port, and kills it (SIGKILL: no
 * shutdown, requests in flight are cut) and starts it again on the same port, data dir and database.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

export interface ApiProcess {
  /** The URL it printed: its PUBLIC_URL when one is set (e.g. a balancer in front of it). */
  url: string;
  /** Where this process itself listens, whatever its PUBLIC_URL. */
  directUrl: string;
  /** SIGKILL, and wait until it is gone. */
  kill(): Promise<void>;
  /** Start it again (after kill), answering at the same URL. */
  start(): Promise<void>;
  close(): Promise<void>;
}

const script = fileURLToPath(new URL('./api-server.ts', import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function startApiProcess(env: Record<string, string>, port?: number): Promise<ApiProcess> {
  const fixedPort = port ?? (await freePort());
  let child: ChildProcess | undefined;
  let url = '';
  const start = async () => {
    child = spawn(process.execPath, ['--conditions=upfront-source', '--import', 'tsx', script], {
      env: { ...process.env, ...env, PORT: String(fixedPort) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
    url = chunk.toString().trim();
  };
  const kill = async () => {
    if (!child || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    get url() {
      return url;
    },
    directUrl: `http://127.0.0.1:${fixedPort}`,
    kill,
    start,
    close: kill,
  };
}
