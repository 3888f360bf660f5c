/**
 * Runs the benchmarks: `npm run bench` runs them all, `npm run bench -- core copy` some.
 * Each suite runs in its own process so that its peak memory is its own.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SUITES: Record<string, string> = {
  core: 'core',
  copy: 'copy',
  ec2: 'ec2',
  nbd: 'nbd',
  delete: 'delete',
  direct: 'direct',
  console: 'console',
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = wanted.length > 0 ? wanted : Object.keys(SUITES);
const unknown = names.filter((n) => !(n in SUITES));
if (unknown.length > 0) {
  console.error(`unknown benchmark suite(s): ${unknown.join(', ')}; known: ${Object.keys(SUITES).join(', ')}`);
  process.exit(2);
}

if (process.env.EBS_SIM_BENCH_SUITE) {
  const suite = process.env.EBS_SIM_BENCH_SUITE;
  const mod = await import(`./${SUITES[suite]}.bench.js`);
  const runner = Object.values(mod).find((v) => typeof v === 'function') as () => Promise<{ print(): void }>;
  (await runner()).print();
} else {
  let failed = false;
  const { BENCH_DIR } = await import('./support.js');
  console.log(`benchmark files under ${BENCH_DIR} (EBS_SIM_BENCH_DIR sets it)`);
  for (const name of names) {
    console.log(`\n### benchmark suite: ${name}`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
      stdio: 'inherit',
      env: { ...process.env, EBS_SIM_BENCH_SUITE: name },
    });
    failed ||= r.status !== 0;
  }
  process.exit(failed ? 1 : 0);
}
