/**
 * `npm run soak`: proves that nothing acknowledged is lost, under load, kill -9, store faults,
 * fuzzing, and across accounts. Bounded in time (--duration, default 10 minutes), loopback only.
 * Prints a figures table and writes it, with every failure, to a results file.
 *
 *   npm run soak -- --duration 10m [--seed N] [--out FILE] [--clients 50] [--kills 20]
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_DIR } from '../bench/support.js';
import { runSoak } from './soak.js';

const PHASES = ['load', 'kills', 'store faults', 'fuzz', 'isolation'];
const USAGE = `usage: npm run soak -- [--duration 10m] [--clients 50] [--clients-per-process 10] [--kills 20] [--seed N] [--out FILE] [--phases load,kills,...]

  --duration <t>   total time budget, e.g. 90s, 10m (default 10m); phases share it
  --clients <n>    concurrent clients in the load phase (default 50)
  --clients-per-process <n>
                   how many of them share one process and its event loop (default 10; 50 puts
                   all in one, whose own queue then shows in every call's time)
  --kills <n>      kill -9s of the server under load (default 20)
  --seed <n>       seed of every random choice (default: from the clock; printed)
  --out <file>     results file (default .bench-out/soak-<time>.md, beside a .json)
  --phases <list>  run only some of: ${PHASES.join(', ')} (each keeps its share of --duration)
Data goes under ${BENCH_DIR} (EBS_SIM_BENCH_DIR), not /tmp. Exit status 1 if anything was lost.`;

function seconds(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(raw);
  if (!m) throw new Error(`--duration must look like 90s or 10m, got '${raw}'`);
  const n = Number(m[1]);
  return m[2] === 'm' ? n * 60 : m[2] === 'ms' ? n / 1000 : n;
}

let values;
try {
  ({ values } = parseArgs({
    options: { duration: { type: 'string' }, clients: { type: 'string' }, 'clients-per-process': { type: 'string' }, kills: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' }, phases: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  }));
} catch (err) {
  console.error(`${(err as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const durationS = seconds(values.duration ?? '10m');
const phases = values.phases?.split(',').map((p) => p.trim());
const unknownPhase = phases?.find((p) => !PHASES.includes(p));
if (unknownPhase !== undefined) {
  console.error(`unknown phase '${unknownPhase}'; known: ${PHASES.join(', ')}\n${USAGE}`);
  process.exit(2);
}
const whole = (flag: string, raw: string | undefined): number | undefined => {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`${flag} must be a whole number of at least 1, got '${raw}'\n${USAGE}`);
    process.exit(2);
  }
  return n;
};
const clients = whole('--clients', values.clients);
const clientsPerProcess = whole('--clients-per-process', values['clients-per-process']);
const kills = whole('--kills', values.kills);
const seed = values.seed === undefined ? Date.now() % 1_000_000 : Number(values.seed);
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const out = resolve(values.out ?? join(BENCH_DIR, `soak-${stamp}.md`));
const root = join(BENCH_DIR, `soak-data-${stamp}`);
mkdirSync(root, { recursive: true });
console.log(`soak: ${durationS} s, seed ${seed}, data under ${root}`);
const result = await runSoak({
  root,
  compiled: true,
  seed,
  log: (line) => console.log(line),
  durationMs: durationS * 1000,
  ...(clients !== undefined ? { clients } : {}),
  ...(clientsPerProcess !== undefined ? { clientsPerProcess } : {}),
  ...(kills !== undefined ? { kills } : {}),
  ...(phases ? { phases } : {}),
});
console.log(`\n${result.markdown}`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, result.markdown);
writeFileSync(out.replace(/\.md$/, '') + '.json', JSON.stringify({ seed, durationS, ...result, markdown: undefined }, null, 2));
console.log(`results: ${out}`);
if (result.failures.length === 0) rmSync(root, { recursive: true, force: true });
else console.log(`data kept for inspection: ${root}`);
process.exit(result.failures.length === 0 ? 0 : 1);
