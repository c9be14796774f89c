/**
 * Debian's nginx for tests, run as a child of the test with its own prefix, configuration, temp and
 * cache directories under a temp dir (nothing in /etc or /var), on a free port. A missing nginx fails
 * the suite: scripts/test.sh installs it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_MAX_AGE, nginxCdnConfig, type NginxCdnOptions } from '../../packages/cli/src/nginx-cdn.ts';

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((path) => existsSync(path));

export interface RunningNginx {
  url: string;
  stop(): Promise<void>;
}

/** A port nothing listens on now. */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** nginx with `upfront cdn nginx`'s configuration in front of `origin` (the public bucket's URL). */
export async function startCdn(options: Pick<NginxCdnOptions, 'origin' | 'secret'> & { maxAge?: number }): Promise<RunningNginx> {
  if (!NGINX) throw new Error('No nginx: install Debian\'s "nginx" package (scripts/test.sh does); the CDN tests need it and are never skipped.');
  const dir = await mkdtemp(join(tmpdir(), 'upfront-nginx-'));
  const port = await freePort();
  for (const sub of ['cache', 'temp']) await mkdir(join(dir, sub));
  const site = nginxCdnConfig({ ...options, listen: `127.0.0.1:${port}`, serverName: 'localhost', cacheDir: join(dir, 'cache'), maxAge: options.maxAge ?? DEFAULT_MAX_AGE });
  await writeFile(join(dir, 'upfront-cdn.conf'), site);
  const temp = (name: string) => `${name}_temp_path ${join(dir, 'temp', name)};`;
  await writeFile(
    join(dir, 'nginx.conf'),
    [
      // As root, workers would switch to "nobody", which cannot write the temp dir.
      ...(process.getuid?.() === 0 ? [`user ${userInfo().username};`] : []),
      'worker_processes 1;',
      `pid ${join(dir, 'nginx.pid')};`,
      `error_log ${join(dir, 'error.log')} warn;`,
      'events { worker_connections 64; }',
      'http {',
      '  access_log off;',
      `  ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp).join('\n  ')}`,
      `  include ${join(dir, 'upfront-cdn.conf')};`,
      '}',
      '',
    ].join('\n'),
  );
  const child = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
  await untilListening(child, port, () => stderr);
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function untilListening(child: ChildProcess, port: number, stderr: () => string): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}): ${stderr()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await sleep(20);
  }
}
