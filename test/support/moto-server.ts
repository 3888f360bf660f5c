/**
 * Starts moto_server (pip install 'moto[server]'), a real S3-compatible HTTP server, on a free
 * loopback port for one test file. It takes 1-2 s to start on a quiet machine, more on a busy
 * one, so we poll until it answers.
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';

export function findOnPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, command), constants.X_OK);
      return join(dir, command);
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface MotoServer {
  endpoint: string;
  stop(): Promise<void>;
  /** SIGSTOP / SIGCONT: a store that stops answering (connections are still accepted). */
  pause(): void;
  resume(): void;
}

export async function startMotoServer(command: string, timeoutMs = 30_000): Promise<MotoServer> {
  const port = await freePort();
  // Own process group, so stop() also ends anything the launcher (e.g. a pyenv shim) started.
  const child = spawn(command, ['-H', '127.0.0.1', '-p', String(port)], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = ''; // moto logs every request to stderr: keep only the tail, but keep draining it
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => (log = (log + text).slice(-4000)));
  const exited = once(child, 'exit');
  let running = true;
  void exited.then(() => (running = false));

  // If the test worker exits without running afterAll (a crash, a timeout), do not leave it behind.
  const killOnExit = (): void => {
    if (running && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  };
  process.once('exit', killOnExit);

  const stop = async (): Promise<void> => {
    process.off('exit', killOnExit);
    if (!running || child.pid === undefined) return;
    process.kill(-child.pid, 'SIGCONT'); // a paused server would not act on SIGTERM
    process.kill(-child.pid, 'SIGTERM');
    const timer = setTimeout(() => running && process.kill(-child.pid!, 'SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  while (running && Date.now() < deadline) {
    try {
      const res = await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.ok) return { endpoint, stop, pause: () => process.kill(-child.pid!, 'SIGSTOP'), resume: () => process.kill(-child.pid!, 'SIGCONT') };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error(`moto_server did not answer on ${endpoint} within ${timeoutMs} ms:\n${log}`);
}
