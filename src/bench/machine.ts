/** What a results file says of the machine and the versions it ran with. */
import { readFileSync } from 'node:fs';
import { cpus, hostname, release, totalmem } from 'node:os';
import type { BenchResults } from './results.js';

export function machineOf(outDir: string): BenchResults['machine'] {
  let dataFilesystem: string | undefined;
  try {
    // The mount holding the output folder: the longest mount point that prefixes it.
    const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')).filter((f) => f.length > 2);
    const best = mounts.filter((f) => outDir === f[1] || outDir.startsWith(f[1] === '/' ? '/' : `${f[1]}/`)).sort((a, b) => b[1]!.length - a[1]!.length)[0];
    if (best) dataFilesystem = `${best[2]} on ${best[1]} (${best[0]})`;
  } catch {
    // not Linux: no /proc/mounts
  }
  const list = cpus();
  return {
    hostname: hostname(), platform: process.platform, release: release(), arch: process.arch, cpus: list.length, cpuModel: list[0]?.model ?? 'unknown',
    totalMemBytes: totalmem(), ...(dataFilesystem ? { dataFilesystem } : {}),
  };
}

export function versionsOf(): BenchResults['versions'] {
  // package.json sits two folders up from both src/bench and dist/bench.
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string; dependencies?: Record<string, string> };
  return {
    ebsSim: pkg.version,
    node: process.version,
    ...(pkg.dependencies?.['@aws-sdk/client-ec2'] ? { awsSdkEc2: pkg.dependencies['@aws-sdk/client-ec2'] } : {}),
    ...(pkg.dependencies?.['cli-progress'] ? { cliProgress: pkg.dependencies['cli-progress'] } : {}),
  };
}
