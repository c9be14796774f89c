/**
 * Runs test/support/faulty-api-server.ts as a child process on a fixed port: started with a fault, it dies
 * by itself at that step (exited() resolves); started again without, on the same port, data dir and database.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { freePort } from './api-process.ts';

const script = fileURLToPath(new URL('./faulty-api-server.ts', import.meta.url));

export interface FaultyApi {
  readonly url: string;
  /** Starts it (again), with `fault` or none. */
  start(fault?: string): Promise<void>;
  /** Resolves with the signal it died of, once it has. */
  exited(): Promise<NodeJS.Signals | null>;
  /** SIGKILL (the load test's kill), and wait until it is gone. */
  kill(): Promise<void>;
}

export async function faultyApi(env: Record<string, string>): Promise<FaultyApi> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  let exit: Promise<NodeJS.Signals | null> = Promise.resolve(null);
  let url = '';
  return {
    get url() {
      return url;
    },
    async start(fault) {
      const { UPFRONT_FAULT: _, ...inherited } = process.env;
      child = spawn(process.execPath, ['--conditions=upfront-source', '--import', 'tsx', script], {
        env: { ...inherited, ...env, PORT: String(port), ...(fault && { UPFRONT_FAULT: fault }) },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      exit = once(child, 'exit').then(([, signal]) => signal as NodeJS.Signals | null);
      const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
      url = chunk.toString().trim();
    },
    exited: () => exit,
    async kill() {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exit;
    },
  };
}
