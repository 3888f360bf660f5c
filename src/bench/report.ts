/**
 * The report of a bench run: Markdown beside results.json, with an SVG per figure, each plotted
 * beside the baseline measured in the same run.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { quantile, rateSeries, snapshotPoints, type BenchResults, type Figure, type SnapshotRun, type ThroughputPhase } from './results.js';
import { barChartSvg, lineChartSvg, type Series } from './svg-chart.js';

/** At most this many snapshots are drawn one by one; the rest are summed up in the tables. */
const MAX_SERIES = 8;

/** A window for rates: about 40 points over the phase, at least 50 ms (DescribeSnapshots' granularity). */
const windowFor = (durationMs: number) => Math.max(50, durationMs / 40);

const snapshotName = (s: SnapshotRun) => `${s.snapshotId} (${s.kind}${s.group === 'alone' ? ', alone' : ''})`;

/** A phase's mean rate as a dashed level across `seconds`: a reference line however short the phase was. */
const phaseLevel = (p: ThroughputPhase, seconds: number, name = p.name): Series => ({
  name: `${name}: ${(p.bytesPerSec / 1e6).toFixed(0)} MB/s mean`, points: [[0, p.bytesPerSec / 1e6], [seconds, p.bytesPerSec / 1e6]], dashed: true,
});

/** The series, and the baseline's mean (and the disk baseline's, if measured) as dashed levels across their time span. */
const withLevel = (series: Series[], baseline: ThroughputPhase, disk?: ThroughputPhase): Series[] => {
  const span = Math.max(0.001, ...series.flatMap((s) => s.points.map((p) => p[0])));
  return [...series, phaseLevel(baseline, span, `baseline: ${baseline.name}`), ...(disk ? [phaseLevel(disk, span, `beside it: ${disk.name}`)] : [])];
};

const phaseProgress = (p: ThroughputPhase, name = p.name): Series => ({
  name, points: [[0, 0], ...p.points.map(([t, n]): [number, number] => [t / 1000, (100 * n) / p.bytes])], dashed: true,
});

export interface ReportFigure {
  file: string;
  title: string;
  caption: string;
  svg: string;
}

export function reportFigures(r: BenchResults): ReportFigure[] {
  const figs: ReportFigure[] = [];
  const shown = r.snapshots.filter((s) => s.kind !== 'direct').slice(0, MAX_SERIES);
  if (shown.length > 0) {
    figs.push({
      file: 'throughput.svg', title: 'Copy throughput over time',
      caption: `MB/s of each snapshot's copy (DescribeSnapshots Progress × bytes written, over windows), against time since its CreateSnapshot; dashed: the baseline's mean rate, ${r.baseline.description}${r.diskBaseline ? `, and beside it ${r.diskBaseline.description}` : ''}.`,
      svg: lineChartSvg({
        title: 'Copy throughput over time', xLabel: 'time since CreateSnapshot (s)', yLabel: 'throughput (MB/s)',
        series: withLevel(shown.map((s) => ({ name: snapshotName(s), points: rateSeries(snapshotPoints(s), windowFor(s.durationMs)) })), r.baseline, r.diskBaseline),
      }),
    });
    figs.push({
      file: 'progress.svg', title: 'Progress against time',
      caption: 'DescribeSnapshots Progress of each snapshot against time: a straight line means progress is honest (linear in bytes copied). Dashed: the baseline\'s share of bytes written against time.',
      svg: lineChartSvg({
        title: 'Progress against time', xLabel: 'time since CreateSnapshot (s)', yLabel: 'Progress (%)', yMax: 100,
        series: [...shown.map((s) => ({ name: snapshotName(s), points: s.samples.map((x): [number, number] => [x.t / 1000, x.progress]) })), phaseProgress(r.baseline, `baseline: ${r.baseline.name} (share written, from its first write)`)],
      }),
    });
  }
  const timed: Array<{ name: string; phase: ThroughputPhase }> = [{ name: `baseline: ${r.baseline.name}`, phase: r.baseline }];
  if (r.diskBaseline) timed.push({ name: `beside it: ${r.diskBaseline.name}`, phase: r.diskBaseline });
  if (r.direct) timed.push({ name: 'PutSnapshotBlock', phase: r.direct.upload }, { name: 'GetSnapshotBlock', phase: r.direct.download });
  if (r.writesDuringPending) timed.push({ name: 'data-plane write during pending', phase: r.writesDuringPending });
  const perBlock = timed.filter((t) => t.phase.latenciesMs && t.phase.latenciesMs.length > 0 && t.phase.opBytes === 512 * 1024);
  const copies = r.snapshots.filter((s) => s.blockCopyMs !== undefined).slice(0, MAX_SERIES);
  if (perBlock.length > 0 || copies.length > 0) {
    const qs = [0.5, 0.9, 0.99, 1];
    figs.push({
      file: 'latency.svg', title: 'Per-block latency percentiles',
      caption: 'Latency of each 512 KiB block: the copy engine\'s, inside the server, from each block read to it being stored (or found stored already), as the server\'s `GET /_ebs-sim/stats` gives them (within 5%: a histogram); and those of the block operations a client times through the public interfaces.',
      svg: barChartSvg({
        title: 'Per-block (512 KiB) latency percentiles', yLabel: 'latency (ms)', categories: ['p50', 'p90', 'p99', 'max'],
        series: [
          ...copies.map((s) => ({ name: `copy engine: ${snapshotName(s)} (${s.blockCopyMs!.count} blocks)`, values: [s.blockCopyMs!.p50Ms, s.blockCopyMs!.p90Ms, s.blockCopyMs!.p99Ms, s.blockCopyMs!.maxMs] })),
          ...perBlock.map((t) => ({ name: t.name, values: qs.map((q) => quantile(t.phase.latenciesMs!, q)) })),
        ],
      }),
    });
  }
  if (r.restore) {
    const from = r.snapshots.find((s) => s.kind === 'full');
    figs.push({
      file: 'restore.svg', title: 'Restore read throughput',
      caption: `MB/s reading a volume restored from the snapshot (${r.restore.description}); dashed: the copy of that snapshot, and the baseline.`,
      svg: lineChartSvg({
        title: 'Restore read throughput', xLabel: 'time since the first read (s)', yLabel: 'throughput (MB/s)',
        series: withLevel([
          { name: 'restore read', points: rateSeries(r.restore.points, windowFor(r.restore.durationMs)) },
          ...(from ? [{ name: `copy: ${snapshotName(from)}`, points: rateSeries(snapshotPoints(from), windowFor(from.durationMs)), dashed: true }] : []),
        ], r.baseline),
      }),
    });
  }
  if (r.direct) {
    figs.push({
      file: 'direct.svg', title: 'Direct API throughput',
      caption: `MB/s of PutSnapshotBlock and GetSnapshotBlock callers (${r.flags.directWorkers}); dashed: the baseline, ${r.baseline.description}.`,
      svg: lineChartSvg({
        title: 'EBS direct APIs throughput', xLabel: 'time since the first call (s)', yLabel: 'throughput (MB/s)',
        series: withLevel([
          { name: 'upload (PutSnapshotBlock)', points: rateSeries(r.direct.upload.points, windowFor(r.direct.upload.durationMs)) },
          { name: 'download (GetSnapshotBlock)', points: rateSeries(r.direct.download.points, windowFor(r.direct.download.durationMs)) },
        ], r.baseline),
      }),
    });
  }
  for (const curve of r.scale ?? []) {
    const concurrency = curve.key === 'concurrency';
    const series: Series[] = concurrency
      ? [{ name: 'aggregate copy throughput', points: curve.points.map((p): [number, number] => [p.x, p.bytesPerSec / 1e6]) },
        { name: 'one copy alone × copies (perfect scaling)', points: curve.points.map((p): [number, number] => [p.x, (p.x * curve.points[0]!.bytesPerSec) / 1e6]), dashed: true }]
      : [{ name: 'copy time (CreateSnapshot until completed)', points: curve.points.map((p): [number, number] => [p.x, p.copyMs]) },
        { name: 'freeze time (the CreateSnapshot call)', points: curve.points.map((p): [number, number] => [p.x, p.freezeMs]) }];
    figs.push({
      file: `scale-${curve.key}.svg`, title: curve.title,
      caption: `${curve.title}. Server peak RSS over these steps: ${Math.max(0, ...curve.points.map((p) => p.peakRssBytes ?? 0)) / 1e6 > 0 ? `${(Math.max(...curve.points.map((p) => p.peakRssBytes ?? 0)) / 1e6).toFixed(0)} MB` : 'not measured'}.${curve.note ? ` ${curve.note}.` : ''}`,
      svg: lineChartSvg({
        title: curve.title, xLabel: curve.xLabel, yLabel: concurrency ? 'throughput (MB/s)' : 'time (ms)', series, ...(curve.key === 'volume-size' ? { xLog: true } : {}),
      }),
    });
  }
  if (r.server.rss.length > 1) {
    figs.push({
      file: 'memory.svg', title: 'Server memory',
      caption: 'Resident memory of the ebs-sim serve process against time, from /proc; dashed: the 300 MB ceiling the issue sets.',
      svg: lineChartSvg({
        title: 'ebs-sim serve resident memory', xLabel: 'time since the run began (s)', yLabel: 'resident memory (MB)',
        series: [
          { name: 'server RSS', points: r.server.rss.map(([t, b]): [number, number] => [t / 1000, b / 1e6]) },
          { name: '300 MB', points: [[0, 300], [r.server.rss.at(-1)![0] / 1000, 300]], dashed: true },
        ],
      }),
    });
  }
  return figs;
}

const num = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(2));

export function figureRow(f: Figure): string {
  const met = f.met === undefined ? '' : f.met ? 'met' : '**missed**';
  return `| ${f.name} | ${num(f.value)} ${f.unit} | ${f.baseline ? `${num(f.baseline.value)} ${f.unit === 'ms' ? 'ms' : f.unit} (${f.baseline.name})` : ''} | ${f.ratio === undefined ? '' : f.ratio.toFixed(3)} | ${f.target ?? ''} | ${met} |`;
}

export function reportMarkdown(r: BenchResults, figs: ReportFigure[]): string {
  const f = r.flags;
  const lines = [
    `# ebs-sim bench: ${f.preset}`,
    '',
    `${r.startedAt} to ${r.finishedAt}, on ${r.machine.hostname} (${r.machine.cpus} × ${r.machine.cpuModel}, ${(r.machine.totalMemBytes / 2 ** 30).toFixed(1)} GiB, ${r.machine.platform} ${r.machine.release}${r.machine.dataFilesystem ? `; data on ${r.machine.dataFilesystem}` : ''}).`,
    `ebs-sim ${r.versions.ebsSim}, Node ${r.versions.node}; server ${r.server.own ? `started by the bench: \`ebs-sim ${r.server.args?.join(' ')}\`` : `at ${r.server.endpoint}`}.`,
    '',
    `Command: \`ebs-sim ${r.argv.join(' ')}\``,
    '',
    `Workload: ${f.volumes} volume(s) of ${(f.volumeSizeBytes / 2 ** 30).toFixed(2)} GiB, ${(f.sizeBytes / 2 ** 20).toFixed(0)} MiB written to each (${f.data.kind === 'duplicate' ? `${f.data.ratio * 100}% duplicate blocks` : f.data.kind}), ` +
      `${f.chainLength} snapshot(s) per volume, ${(f.changeRate * 100).toFixed(2)}% changed between them, object store ${f.objectStore}` +
      `${f.copyRate ? `, copy rate ${f.copyRate} B/s` : ''}${f.copyConcurrency ? `, copy concurrency ${f.copyConcurrency}` : ''}, writes during pending ${f.writesDuringPending ? 'on' : 'off'}.`,
    '',
    '## Figures',
    '',
    'Each beside the baseline measured in the same run: ' + r.baseline.description + '.' +
      (r.diskBaseline ? ` Beside that baseline, not instead of it: ${r.diskBaseline.description}. The copy writes its blocks that way, so that ratio is the copy against the disk; plain file writes stop in the page cache, and the targets keep them.` : ''),
    '',
    '| figure | measured | baseline | ratio | target | |',
    '|---|---|---|---|---|---|',
    ...r.figures.map(figureRow),
    '',
    '## Moonshot targets',
    '',
    '| figure | target | measured | |',
    '|---|---|---|---|',
    ...r.moonshots.map((m) => `| ${m.figure} | ${m.target} | ${m.measured === undefined ? '–' : m.measured.toFixed(3)} | ${m.met === undefined ? m.note : m.met ? 'met' : '**missed**'}${m.met !== undefined && m.note ? ` (${m.note})` : ''} |`),
    '',
    'A missed target is reported as measured, not lowered.',
    '',
    '## Plots',
    '',
    ...figs.flatMap((g) => [`### ${g.title}`, '', `![${g.title}](${g.file})`, '', g.caption, '']),
    '## Snapshots',
    '',
    '| snapshot | volume | group | kind | bytes written | copy time | MB/s | mean time per block | samples |',
    '|---|---|---|---|---|---|---|---|---|',
    ...r.snapshots.slice(0, 60).map((s) => `| ${s.snapshotId} | ${s.volumeId ?? '(direct)'} | ${s.group} | ${s.kind} | ${(s.bytesWritten / 2 ** 20).toFixed(1)} MiB | ${(s.durationMs / 1000).toFixed(3)} s | ${(s.bytesPerSec / 1e6).toFixed(1)} | ${s.bytesWritten > 0 ? `${(s.durationMs / (s.bytesWritten / (512 * 1024))).toFixed(2)} ms` : '–'} | ${s.samples.length} |`),
    '',
    ...(r.snapshots.length > 60 ? [`(${r.snapshots.length - 60} more snapshots in results.json)`, ''] : []),
    ...(r.scale ? scaleTables(r) : []),
    ...(r.server.cpuProfile ? profileSection(r.server.cpuProfile) : []),
    '## Phases',
    '',
    '| phase | bytes | time | MB/s | what |',
    '|---|---|---|---|---|',
    ...[r.baseline, ...(r.diskBaseline ? [r.diskBaseline] : []), ...r.writes, ...(r.writesDuringPending ? [r.writesDuringPending] : []), ...(r.restore ? [r.restore] : []), ...(r.direct ? [r.direct.upload, r.direct.download] : [])]
      .map((p) => `| ${p.name} | ${(p.bytes / 2 ** 20).toFixed(1)} MiB | ${(p.durationMs / 1000).toFixed(3)} s | ${(p.bytesPerSec / 1e6).toFixed(1)} | ${p.description} |`),
    '',
    `Every sample is in [results.json](results.json). Machines are shared and noisy: compare ratios, not absolute figures.`,
    '',
  ];
  return lines.join('\n');
}

function profileSection(p: NonNullable<BenchResults['server']['cpuProfile']>): string[] {
  return [
    '## Where the server\'s CPU went',
    '',
    `From \`node --cpu-prof\`, the samples taken during ${p.scope} (${(p.durationMs / 1000).toFixed(1)} s) (${p.file}; open it in Chrome DevTools or speedscope). The main thread, idle ${(p.idleShare * 100).toFixed(1)}% of its samples:`,
    '',
    '| function | where | self time |',
    '|---|---|---|',
    ...p.top.map((f) => `| ${f.name} | ${f.where || '(native)'} | ${(f.share * 100).toFixed(1)}% |`),
    '',
    'Worker threads (hashing, the fs store\'s I/O) are not in it: a main thread mostly idle during the copies says the limit is in them or the disk.',
    '',
  ];
}

function scaleTables(r: BenchResults): string[] {
  return ['## Scale', '', ...(r.scale ?? []).flatMap((c) => {
    const shown = c.key === 'chain' ? c.points.filter((p, i) => i < 3 || (p.x % 100 === 0) || i === c.points.length - 1) : c.points;
    return [
      `### ${c.title}`, '', ...(c.note ? [c.note, ''] : []),
      `| ${c.xLabel} | freeze (ms) | copy (ms) | MB/s | server peak RSS (MB) |`, '|---|---|---|---|---|',
      ...shown.map((p) => `| ${p.x} | ${p.freezeMs.toFixed(1)} | ${p.copyMs.toFixed(1)} | ${(p.bytesPerSec / 1e6).toFixed(1)} | ${p.peakRssBytes ? (p.peakRssBytes / 1e6).toFixed(0) : '–'} |`),
      '',
    ];
  })];
}

/** Writes the SVGs and report.md into `outDir`; returns the report's path. */
export function writeReport(r: BenchResults, outDir: string): string {
  const figs = reportFigures(r);
  for (const g of figs) writeFileSync(join(outDir, g.file), g.svg);
  const file = join(outDir, 'report.md');
  writeFileSync(file, reportMarkdown(r, figs));
  return file;
}
