/**
 * `ebs-sim bench compare A.json B.json`: every figure the two runs share, B against A, printed and
 * written to compare.md with plots of both runs' copies and baselines.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { RESULTS_FORMAT, rateSeries, snapshotPoints, type BenchResults } from './results.js';
import { lineChartSvg, type Series } from './svg-chart.js';

export interface ComparedFigure {
  key: string;
  name: string;
  unit: string;
  a?: number;
  b?: number;
  /** b / a, where both ran. */
  change?: number;
}

export function loadResults(file: string): BenchResults {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<BenchResults>;
  if (parsed.format !== RESULTS_FORMAT) throw new Error(`${file} is not an ebs-sim bench results file (format ${String(parsed.format)}, expected ${RESULTS_FORMAT})`);
  return parsed as BenchResults;
}

export function compareFigures(a: BenchResults, b: BenchResults): ComparedFigure[] {
  const rows: ComparedFigure[] = [];
  const add = (key: string, name: string, unit: string, va: number | undefined, vb: number | undefined) =>
    rows.push({ key, name, unit, ...(va !== undefined ? { a: va } : {}), ...(vb !== undefined ? { b: vb } : {}), ...(va !== undefined && vb !== undefined && va !== 0 ? { change: vb / va } : {}) });
  add('baseline', `baseline (${a.baseline.name} / ${b.baseline.name})`, 'MB/s', a.baseline.bytesPerSec / 1e6, b.baseline.bytesPerSec / 1e6);
  if (a.diskBaseline || b.diskBaseline) add('diskBaseline', 'beside it, plain direct writes', 'MB/s', a.diskBaseline && a.diskBaseline.bytesPerSec / 1e6, b.diskBaseline && b.diskBaseline.bytesPerSec / 1e6);
  const keys = [...new Set([...a.figures.map((f) => f.key), ...b.figures.map((f) => f.key)])];
  for (const key of keys) {
    const fa = a.figures.find((f) => f.key === key);
    const fb = b.figures.find((f) => f.key === key);
    const name = (fb ?? fa)!.name;
    const unit = (fb ?? fa)!.unit;
    add(key, name, unit, fa?.value, fb?.value);
    if (fa?.ratio !== undefined || fb?.ratio !== undefined) add(`${key}.ratio`, `  ratio to its baseline`, '×', fa?.ratio, fb?.ratio);
  }
  return rows;
}

const num = (v: number | undefined) => (v === undefined ? '–' : Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3));

export function compareTable(rows: ComparedFigure[], aName: string, bName: string): string {
  const head = ['figure', `A ${aName}`, `B ${bName}`, 'B/A'];
  const body = rows.map((r) => [`${r.name} (${r.unit})`, num(r.a), num(r.b), r.change === undefined ? '–' : `${r.change.toFixed(3)}`]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), ...body.map(line)].join('\n');
}

/** The first full copy of a run (or its direct upload), as plot series. */
function firstCopy(r: BenchResults, label: string): { rate: Series[]; progress: Series[] } {
  const s = r.snapshots.find((x) => x.kind === 'full') ?? r.snapshots[0];
  const baselineRate: Series = { name: `${label} baseline: ${r.baseline.name}`, points: rateSeries(r.baseline.points, Math.max(50, r.baseline.durationMs / 40)), dashed: true };
  if (!s) return { rate: [baselineRate], progress: [] };
  return {
    rate: [{ name: `${label} ${s.kind} copy ${s.snapshotId}`, points: rateSeries(snapshotPoints(s), Math.max(50, s.durationMs / 40)) }, baselineRate],
    progress: [{ name: `${label} ${s.kind} copy ${s.snapshotId}`, points: s.samples.map((x): [number, number] => [x.t / 1000, x.progress]) }],
  };
}

export function writeComparison(a: BenchResults, b: BenchResults, aFile: string, bFile: string, outDir: string): { markdown: string; files: string[] } {
  const rows = compareFigures(a, b);
  const ca = firstCopy(a, 'A');
  const cb = firstCopy(b, 'B');
  const throughput = lineChartSvg({ title: 'Copy throughput over time, A and B', xLabel: 'time since CreateSnapshot, or the baseline\'s first write (s)', yLabel: 'throughput (MB/s)', series: [ca.rate[0]!, cb.rate[0]!, ...ca.rate.slice(1), ...cb.rate.slice(1)].filter(Boolean) });
  const progress = lineChartSvg({ title: 'Progress against time, A and B', xLabel: 'time since CreateSnapshot (s)', yLabel: 'Progress (%)', yMax: 100, series: [...ca.progress, ...cb.progress] });
  const files = [join(outDir, 'compare-throughput.svg'), join(outDir, 'compare-progress.svg')];
  writeFileSync(files[0]!, throughput);
  writeFileSync(files[1]!, progress);
  const mdRows = rows.map((r) => `| ${r.name.trim()} | ${r.unit} | ${num(r.a)} | ${num(r.b)} | ${r.change === undefined ? '–' : r.change.toFixed(3)} |`);
  const markdown = [
    '# ebs-sim bench compare',
    '',
    `A: ${aFile} (${a.flags.preset}, ${a.startedAt}, ebs-sim ${a.versions.ebsSim}, ${a.machine.hostname})`,
    `B: ${bFile} (${b.flags.preset}, ${b.startedAt}, ebs-sim ${b.versions.ebsSim}, ${b.machine.hostname})`,
    '',
    '| figure | unit | A | B | B/A |',
    '|---|---|---|---|---|',
    ...mdRows,
    '',
    `![Copy throughput, A and B](${basename(files[0]!)})`,
    '',
    `![Progress, A and B](${basename(files[1]!)})`,
    '',
  ].join('\n');
  const md = join(outDir, 'compare.md');
  writeFileSync(md, markdown);
  return { markdown, files: [md, ...files] };
}

export function compareRuns(aFile: string, bFile: string, outDir = dirname(bFile)): { table: string; files: string[] } {
  const a = loadResults(aFile);
  const b = loadResults(bFile);
  const table = compareTable(compareFigures(a, b), `${a.flags.preset} ${a.startedAt.slice(0, 19)}`, `${b.flags.preset} ${b.startedAt.slice(0, 19)}`);
  const { files } = writeComparison(a, b, aFile, bFile, outDir);
  return { table, files };
}
