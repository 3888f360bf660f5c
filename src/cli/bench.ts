/** `ebs-sim bench` and `ebs-sim bench compare`: the run, then a summary of its figures. */
import { fileURLToPath } from 'node:url';
import { compareRuns } from '../bench/compare.js';
import type { BenchConfig } from '../bench/config.js';
import { runBench } from '../bench/run.js';
import { COMPARE_HELP, parseCompareArgs } from './bench-args.js';
import { withNodeFlags } from './node-flags.js';

/** This CLI's entry file, beside this one (main.ts from the sources, main.js from dist/). */
const MAIN_FILE = fileURLToPath(new URL(`./main${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

export async function bench(config: BenchConfig, argv: string[]): Promise<number> {
  // The pinned AWS SDK warns on Node 20 about its future releases; it is supported as pinned, and
  // the warning would land in the middle of the progress bars.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { results, resultsFile, reportFile } = await runBench(config, { execPath: process.execPath, execArgv: withNodeFlags(process.execArgv), mainFile: MAIN_FILE }, argv);
  const out = process.stdout;
  out.write('\nFigures (each beside its same-run baseline):\n');
  for (const f of results.figures) {
    const base = f.baseline ? `  vs ${f.baseline.value.toFixed(1)} ${f.unit} ${f.baseline.name}` : '';
    const ratio = f.ratio === undefined ? '' : `  ratio ${f.ratio.toFixed(3)}`;
    const target = f.target ? `  (target ${f.target}: ${f.met ? 'met' : 'MISSED'})` : '';
    out.write(`  ${f.name}: ${f.value.toFixed(1)} ${f.unit}${base}${ratio}${target}\n`);
  }
  out.write('\nMoonshot targets:\n');
  for (const m of results.moonshots) {
    out.write(`  ${m.figure} (${m.target}): ${m.measured === undefined ? m.note : `${m.measured.toFixed(3)}${m.met === undefined ? ` (${m.note})` : m.met ? ' met' : ' MISSED'}`}\n`);
  }
  out.write(`\nResults: ${resultsFile}\nReport:  ${reportFile}\n`);
  return 0;
}

export function benchCompare(args: string[]): number {
  const opts = parseCompareArgs(args);
  if (opts === 'help') {
    process.stdout.write(COMPARE_HELP);
    return 0;
  }
  const { table, files } = compareRuns(opts.a, opts.b, opts.outDir);
  process.stdout.write(`${table}\n\nWritten: ${files.join(', ')}\n`);
  return 0;
}
