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
  timeDeltas?: number[];
}

export interface CpuProfileSummary {
  /** The .cpuprofile file, for Chrome DevTools or speedscope. */
  file: string;
  /** Milliseconds profiled: the server's whole life, or the part within the windows asked for. */
  durationMs: number;
  /** What was summed: 'the copies' (only the snapshot copies' time) or 'the whole run'. */
  scope: string;
  /** Share of samples where the server did nothing. */
  idleShare: number;
  /** Functions by self time, the heaviest first. */
  top: Array<{ name: string; where: string; share: number }>;
}

/** `CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile`: thread 0 is the main thread. */
const threadOf = (name: string) => Number(/\.(\d+)\.\d+\.cpuprofile$/.exec(name)?.[1] ?? Number.NaN);

/**
 * Sums the server's main-thread profile in `dir` by function; undefined when there is none. (Its
 * worker threads, started without node's flags, are not profiled.) `windows` ([start, end] in µs of
 * the monotonic clock, which V8's profile timestamps and process.hrtime share): only the samples
 * taken within them, e.g. while snapshots were copying.
 */
export function summarizeCpuProfile(dir: string, windows: Array<[number, number]> = [], topN = 15): CpuProfileSummary | undefined {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.cpuprofile')).sort();
  } catch {
    return undefined;
  }
  const main = names.find((n) => threadOf(n) === 0);
  if (!main) return undefined;
  return summarize(join(dir, main), windows, topN);
}

function summarize(file: string, windows: Array<[number, number]>, topN: number): CpuProfileSummary | undefined {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const hitsOf = new Map<number, number>(profile.nodes.map((n) => [n.id, n.hitCount ?? 0]));
  let durationMs = (profile.endTime - profile.startTime) / 1000;
  windows = mergeWindows(windows);
  const windowed = windows.length > 0 && profile.samples !== undefined && profile.timeDeltas !== undefined;
  if (windowed) {
    hitsOf.clear();
    // Samples come in time order, windows sorted and apart: one pass over both.
    let t = profile.startTime;
    let w = 0;
    profile.samples!.forEach((id, i) => {
      t += profile.timeDeltas![i] ?? 0;
      while (w < windows.length && windows[w]![1] < t) w++;
      if (w < windows.length && t >= windows[w]![0]) hitsOf.set(id, (hitsOf.get(id) ?? 0) + 1);
    });
    durationMs = windows.reduce((n, [a, b]) => n + (b - a), 0) / 1000;
  }
  const total = [...hitsOf.values()].reduce((n, h) => n + h, 0);
  if (total === 0) return undefined;
  const byFunction = new Map<string, { name: string; where: string; hits: number }>();
  let idle = 0;
  for (const node of profile.nodes) {
    const hits = hitsOf.get(node.id) ?? 0;
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
  return { file, durationMs, scope: windowed ? 'the copies' : 'the whole run', idleShare: idle / total, top };
}

/** Overlapping windows (concurrent copies) as one, so no time counts twice. */
function mergeWindows(windows: Array<[number, number]>): Array<[number, number]> {
  const merged: Array<[number, number]> = [];
  for (const [a, b] of [...windows].sort((x, y) => x[0] - y[0])) {
    const last = merged.at(-1);
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else merged.push([a, b]);
  }
  return merged;
}
