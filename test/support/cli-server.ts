/**
 * Runs the real `ebs-sim serve` (src/cli/main.ts through tsx) in a child process on a free port,
 * over temp dirs, and reads the URL it prints once ready.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { NODE_FLAGS } from '../../src/cli/node-flags.js';
import { tempDir } from './temp-dir.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(REPO, 'src/cli/main.ts');
const TSX = pathToFileURL(join(REPO, 'node_modules/tsx/dist/loader.mjs')).href;

/**
 * `node <NODE_FLAGS> --import tsx src/cli/main.ts <args>`: one process, so signals reach the server
 * itself, with the node flags its bin runs with.
 * `compiled` runs the build in dist/ instead (what `npm start` runs; benchmarks measure it).
 */
export function spawnCli(args: string[], opts: { cwd?: string; compiled?: boolean } = {}): ChildProcess {
  const entry = opts.compiled ? [join(REPO, 'dist/cli/main.js')] : ['--import', TSX, MAIN];
  return spawn(process.execPath, [...NODE_FLAGS, ...entry, ...args], {
    cwd: opts.cwd ?? REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  });
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export async function runCli(args: string[], opts: { cwd?: string } = {}): Promise<CliResult> {
  const child = spawnCli(args, opts);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  return { code, signal, stdout, stderr };
}

export interface CliServer {
  endpoint: string;
  dir: string;
  dataDir: string;
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then the exit status. */
  stop(): Promise<CliResult>;
}

export async function startCliServer(extraArgs: string[] = [], timeoutMs = 30_000, opts: { compiled?: boolean } = {}): Promise<CliServer> {
  const tmp = tempDir('ebs-sim-cli-');
  const dataDir = join(tmp.dir, 'leveldb');
  // Run from outside the repository, as an installed tool is: nothing may depend on the working directory.
  const child = spawnCli(['serve', '--port', '0', '--data-dir', dataDir, '--object-store', `fs:${join(tmp.dir, 'objects')}`, ...extraArgs], { ...opts, cwd: tmp.dir });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ebs-sim did not print its URL within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then(([code]) => reject(new Error(`ebs-sim exited (${code}) before it was ready: ${stderr}`)));
  });
  let stopped: Promise<CliResult> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const [code, signal] = await exited;
      tmp.remove();
      return { code, signal, stdout, stderr };
    })();
    return stopped;
  };
  return { endpoint, dir: tmp.dir, dataDir, child, stdout: () => stdout, stderr: () => stderr, stop };
}
