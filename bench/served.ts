/**
 * A real `ebs-sim serve` for the benchmarks that measure the product as shipped: the build in
 * dist/ on its defaults, but for the directories (LevelDB and an fs object store under `dir`)
 * and any flags a benchmark adds.
 */
import { type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { spawnCli } from '../test/support/cli-server.js';

export interface Served {
  endpoint: string;
  child: ChildProcess;
  /** The server's log so far (stdout and stderr). */
  log(): string;
  stop(): Promise<void>;
}

/** `objectStore` replaces the fs store under `dir`; `compiled: false` runs the sources through tsx. */
export async function serve(dir: string, extraArgs: string[] = [], opts: { compiled?: boolean; objectStore?: string } = {}): Promise<Served> {
  const objectStore = opts.objectStore ?? `fs:${join(dir, 'objects')}`;
  const child = spawnCli(['serve', '--port', '0', '--data-dir', join(dir, 'leveldb'), '--object-store', objectStore, ...extraArgs], { compiled: opts.compiled ?? true });
  let out = '';
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const endpoint = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`ebs-sim serve exited (${code}) before it was ready:\n${out}`)));
  });
  return {
    endpoint,
    child,
    log: () => out,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
