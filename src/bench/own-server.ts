/**
 * The server a bench run starts for itself: `ebs-sim serve` in a child process, the same build as
 * the running command, on a free port of 127.0.0.1, its data under the run's folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { ServerLauncher } from './config.js';

export interface OwnServer {
  endpoint: string;
  pid: number;
  args: string[];
  /** Resident memory now, from /proc (undefined where there is none). */
  rssBytes(): number | undefined;
  /** The kernel's high-water mark of the server's resident memory. */
  peakRssBytes(): number | undefined;
  log(): string;
  stop(): Promise<void>;
}

/** `profileDir`: run the server under `node --cpu-prof`, which writes its profile there when it exits. */
export async function startOwnServer(launcher: ServerLauncher, serveArgs: string[], opts: { profileDir?: string; timeoutMs?: number } = {}): Promise<OwnServer> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const args = ['serve', '--host', '127.0.0.1', '--port', '0', ...serveArgs];
  const nodeFlags = opts.profileDir ? ['--cpu-prof', '--cpu-prof-dir', opts.profileDir] : [];
  const child: ChildProcess = spawn(launcher.execPath, [...launcher.execArgv, ...nodeFlags, launcher.mainFile, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = once(child, 'exit');
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL'); // not left running behind a failed bench
      reject(new Error(`ebs-sim serve did not start within ${timeoutMs / 1000} s:\n${log}`));
    }, timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      log += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then(([code]) => {
      clearTimeout(timer);
      reject(new Error(`ebs-sim serve exited (${String(code)}) before it was ready:\n${log}`));
    });
  });
  const pid = child.pid!;
  const statusField = (name: string): number | undefined => {
    try {
      const m = new RegExp(`${name}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : undefined;
    } catch {
      return undefined;
    }
  };
  return {
    endpoint,
    pid,
    args,
    rssBytes: () => statusField('VmRSS'),
    peakRssBytes: () => statusField('VmHWM'),
    log: () => log,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
