/**
 * Where the server's CPU went during a run: the V8 CPU profile `node --cpu-prof` writes when the
 * server exits, summed by function (self time), so a missed target comes with what limits it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

export interface CpuProfileSummary {
  /** The .cpuprofile file, for Chrome DevTools or speedscope. */
  file: string;
  /** Milliseconds profiled. */
  durationMs: number;
  /** Share of samples where the server did nothing. */
  idleShare: number;
  /** Functions by self time, the heaviest first. */
  top: Array<{ name: string; where: string; share: number }>;
}

/** Sums the newest profile in `dir`; undefined when there is none. */
export function summarizeCpuProfile(dir: string, topN = 15): CpuProfileSummary | undefined {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.cpuprofile')).sort();
  } catch {
    return undefined;
  }
  const name = names.at(-1);
  if (!name) return undefined;
  const file = join(dir, name);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const total = profile.nodes.reduce((n, node) => n + (node.hitCount ?? 0), 0);
  if (total === 0) return undefined;
  const byFunction = new Map<string, { name: string; where: string; hits: number }>();
  let idle = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') idle += hits;
    // The file as the reader knows it: from the package or src/, not the machine's absolute path.
    const short = url.replace(/^file:\/\//, '').replace(/^.*?\/(node_modules\/|src\/|dist\/)/, '$1');
    const where = url ? `${short}:${lineNumber + 1}` : '';
    const key = `${functionName}@${where}`;
    const entry = byFunction.get(key) ?? { name: functionName || '(anonymous)', where, hits: 0 };
    entry.hits += hits;
    byFunction.set(key, entry);
  }
  const top = [...byFunction.values()].sort((a, b) => b.hits - a.hits).slice(0, topN).map((e) => ({ name: e.name, where: e.where, share: e.hits / total }));
  return { file, durationMs: (profile.endTime - profile.startTime) / 1000, idleShare: idle / total, top };
}
