/** The soak's phases in order, sharing one time budget, and the figures table they make. */
import { runFaults } from './faults.js';
import { runFuzz } from './fuzz.js';
import type { Figure, PhaseResult, SoakContext } from './harness.js';
import { runIsolation } from './isolation.js';
import { runKills } from './kills.js';
import { runLoad } from './load.js';

export interface SoakOptions extends SoakContext {
  durationMs: number;
  clients?: number;
  /** Load clients sharing one process (default 10). */
  clientsPerProcess?: number;
  kills?: number;
  /** Only these phases (default: all). */
  phases?: string[];
}

export interface SoakResult {
  figures: Figure[];
  failures: string[];
  markdown: string;
}

export async function runSoak(opts: SoakOptions): Promise<SoakResult> {
  const short = opts.durationMs < 5 * 60_000;
  const phases: Array<[string, () => Promise<PhaseResult>]> = [
    ['load', () => runLoad(opts, { clients: opts.clients ?? (short ? 10 : 50), clientsPerProcess: opts.clientsPerProcess, durationMs: opts.durationMs * 0.35 })],
    ['kills', () => runKills(opts, { kills: opts.kills ?? (short ? 3 : 20), clients: short ? 4 : 10, durationMs: opts.durationMs * 0.3 })],
    ['store faults', () => runFaults(opts)],
    ['fuzz', () => runFuzz(opts, { requests: short ? 300 : 3000 })],
    ['isolation', () => runIsolation(opts)],
  ];
  const figures: Figure[] = [];
  const failures: string[] = [];
  for (const [name, run] of phases) {
    if (opts.phases && !opts.phases.includes(name)) continue;
    const t = performance.now();
    opts.log(`phase: ${name}`);
    try {
      const r = await run();
      figures.push(...r.figures);
      failures.push(...r.failures.map((f) => `${name}: ${f}`));
    } catch (err) {
      failures.push(`${name}: the phase failed: ${(err as Error).stack ?? String(err)}`);
    }
    opts.log(`  (${((performance.now() - t) / 1000).toFixed(0)} s)`);
  }
  return { figures, failures, markdown: markdown(figures, failures, opts) };
}

function markdown(figures: Figure[], failures: string[], opts: SoakOptions): string {
  const rows = figures.map((f) => `| ${f.phase} | ${f.figure} | ${f.value} | ${f.target ?? ''} | ${f.ok === undefined ? '' : f.ok ? 'yes' : '**NO**'} |`);
  return [
    `# ebs-sim soak: ${Math.round(opts.durationMs / 1000)} s, seed ${opts.seed}`,
    '',
    '| phase | figure | value | target | met |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    failures.length === 0 ? 'Nothing acknowledged was lost; every answer was a proper error of its protocol.' : `## ${failures.length} failures\n\n${failures.map((f) => `- ${f}`).join('\n')}`,
    '',
  ].join('\n');
}
