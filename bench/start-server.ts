/** Starts bench/bench-server.ts in its own process, by default pinned to core 1 (the load generator keeps core 0). */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export async function startBenchServer(args: string[], { pin = true } = {}): Promise<{ url: string; child: ChildProcess }> {
  const script = fileURLToPath(new URL('./bench-server.ts', import.meta.url));
  // Same loader and conditions as this process (tsx, upfront-source when run from source).
  const [command, ...rest] = [...(pin ? ['taskset', '-c', '1'] : []), process.execPath, ...process.execArgv, script, ...args];
  const child = spawn(command!, rest, { stdio: ['ignore', 'pipe', 'inherit'] });
  // A server that dies before printing its URL fails the bench instead of hanging it.
  const exited = once(child, 'exit').then(([code]) => Promise.reject(new Error(`the bench server exited (${String(code)}) before printing its URL`)));
  exited.catch(() => undefined);
  const [chunk] = (await Promise.race([once(child.stdout!, 'data'), exited])) as [Buffer];
  return { url: chunk.toString().trim(), child };
}
