/**
 * The headline figures of a run, each beside its same-run baseline, and the moonshot
 * targets with what this run measured of them.
 */
import type { BenchResults, Figure, Moonshot, SnapshotRun } from './results.js';

const MB = 1e6;

/** Aggregate bytes per second of snapshots taken together: their bytes over first start to last end. */
export function aggregateRate(runs: SnapshotRun[]): number {
  const start = Math.min(...runs.map((s) => s.startMs));
  const end = Math.max(...runs.map((s) => s.startMs + s.durationMs));
  return runs.reduce((n, s) => n + s.bytesWritten, 0) / ((end - start) / 1000);
}

export function figuresOf(r: BenchResults): Figure[] {
  const figures: Figure[] = [];
  const fs = r.baseline.name === 'plain file writes';
  // The scale preset's snapshots are steps of its curves, figured below, not one workload.
  const volumeSnapshots = r.scale ? [] : r.snapshots.filter((s) => s.kind !== 'direct');
  const firstFull = volumeSnapshots.find((s) => s.kind === 'full');
  if (firstFull) {
    const ratio = firstFull.bytesPerSec / r.baseline.bytesPerSec;
    figures.push({
      key: 'copy.full', name: `full copy of ${(firstFull.bytesWritten / 2 ** 20).toFixed(0)} MiB, CreateSnapshot until completed`,
      value: firstFull.bytesPerSec / MB, unit: 'MB/s', baseline: { name: r.baseline.name, value: r.baseline.bytesPerSec / MB }, ratio,
      ...(fs ? { target: '≥ 1.0', met: ratio >= 1 } : {}),
    });
    if (r.diskBaseline) {
      // Beside the target's figure, no target of its own: the copy against the disk it writes to.
      figures.push({
        key: 'copy.full.disk', name: 'the same copy, beside direct writes to the same disk',
        value: firstFull.bytesPerSec / MB, unit: 'MB/s', baseline: { name: r.diskBaseline.name, value: r.diskBaseline.bytesPerSec / MB },
        ratio: firstFull.bytesPerSec / r.diskBaseline.bytesPerSec,
      });
    }
  }
  const chainGroup = volumeSnapshots.filter((s) => s.group !== 'alone');
  const fulls = chainGroup.filter((s) => s.kind === 'full');
  const incrementals = chainGroup.filter((s) => s.kind === 'incremental');
  if (fulls.length > 0 && incrementals.length > 0) {
    const fullMs = fulls.reduce((n, s) => n + s.durationMs, 0) / fulls.length;
    const incMs = incrementals.reduce((n, s) => n + s.durationMs, 0) / incrementals.length;
    const ratio = incMs / fullMs;
    figures.push({
      key: 'copy.incremental', name: `incremental copy (${(r.flags.changeRate * 100).toFixed(2)}% changed) time, mean of ${incrementals.length}`,
      value: incMs, unit: 'ms', baseline: { name: 'the full copy\'s time', value: fullMs }, ratio,
      ...(Math.abs(r.flags.changeRate - 0.01) < 1e-9 ? { target: '≤ 0.02', met: ratio <= 0.02 } : {}),
    });
  }
  const alone = volumeSnapshots.filter((s) => s.group === 'alone' && s.position === 0);
  const together = volumeSnapshots.filter((s) => s.group === 'concurrent' && s.position === 0);
  if (alone.length > 0 && together.length > 1) {
    const aloneRate = aggregateRate(alone);
    const ratio = aggregateRate(together) / aloneRate;
    figures.push({
      key: 'copy.concurrent', name: `${together.length} concurrent full copies, aggregate`,
      value: aggregateRate(together) / MB, unit: 'MB/s', baseline: { name: 'one copy alone', value: aloneRate / MB }, ratio,
      ...(together.length >= 16 ? { target: '≥ 0.9', met: ratio >= 0.9 } : {}),
    });
  }
  if (r.restore && firstFull) {
    // The restored volume reads what the first volume's full copy uploaded.
    const copyRate = (chainGroup.find((s) => s.kind === 'full') ?? firstFull).bytesPerSec;
    const ratio = r.restore.bytesPerSec / copyRate;
    figures.push({
      key: 'restore.read', name: 'restore read (lazy load through the data plane)', value: r.restore.bytesPerSec / MB, unit: 'MB/s',
      baseline: { name: 'the full copy', value: copyRate / MB }, ratio, target: '≥ 0.7', met: ratio >= 0.7,
    });
  }
  if (r.writesDuringPending) {
    const first = r.writes[0];
    figures.push({
      key: 'writes.pending', name: 'data-plane writes during pending (512 KiB, one at a time per volume)', value: r.writesDuringPending.bytesPerSec / MB, unit: 'MB/s',
      ...(first ? { baseline: { name: 'the first data-plane write (8 MiB requests, 4 at a time)', value: first.bytesPerSec / MB }, ratio: r.writesDuringPending.bytesPerSec / first.bytesPerSec } : {}),
    });
  }
  if (r.direct) {
    for (const [key, phase] of [['direct.upload', r.direct.upload], ['direct.download', r.direct.download]] as const) {
      figures.push({
        key, name: phase.description, value: phase.bytesPerSec / MB, unit: 'MB/s',
        baseline: { name: r.baseline.name, value: r.baseline.bytesPerSec / MB }, ratio: phase.bytesPerSec / r.baseline.bytesPerSec,
      });
    }
  }
  const curve = (key: string) => r.scale?.find((c) => c.key === key);
  const bySize = curve('volume-size');
  if (bySize && bySize.points.length > 1) {
    const first = bySize.points[0]!;
    const last = bySize.points.at(-1)!;
    const ratio = last.copyMs / first.copyMs;
    figures.push({
      key: 'scale.volumeSize', name: `copy time of a ${last.x} GiB volume vs a ${first.x} GiB one, same data written`, value: last.copyMs, unit: 'ms',
      baseline: { name: `the ${first.x} GiB volume`, value: first.copyMs }, ratio, target: '≤ 1.5 (flat)', met: ratio <= 1.5,
    });
  }
  const freezes = (r.scale ?? []).flatMap((c) => c.points.map((p) => p.freezeMs));
  if (freezes.length > 1) {
    const median = [...freezes].sort((a, b) => a - b)[Math.floor(freezes.length / 2)]!;
    const p99 = [...freezes].sort((a, b) => a - b)[Math.min(freezes.length - 1, Math.floor(freezes.length * 0.99))]!;
    figures.push({
      key: 'scale.freeze', name: `freeze time (CreateSnapshot call), p99 of ${freezes.length} across every curve`, value: p99, unit: 'ms',
      baseline: { name: 'their median', value: median }, ratio: p99 / median,
    });
  }
  const chain = curve('chain');
  if (chain && chain.points.length >= 20) {
    const inc = chain.points.slice(1);
    const tenth = Math.max(1, Math.floor(inc.length / 10));
    const mean = (ps: typeof inc) => ps.reduce((n, p) => n + p.copyMs, 0) / ps.length;
    const ratio = mean(inc.slice(-tenth)) / mean(inc.slice(0, tenth));
    figures.push({
      key: 'scale.chain', name: `incremental copy time at the end of a ${chain.points.length}-snapshot chain (last tenth, mean)`, value: mean(inc.slice(-tenth)), unit: 'ms',
      baseline: { name: 'the first tenth', value: mean(inc.slice(0, tenth)) }, ratio, target: '≤ 1.5 (flat)', met: ratio <= 1.5,
    });
  }
  const conc = curve('concurrency');
  if (conc && conc.points.length > 1) {
    const last = conc.points.at(-1)!;
    const ratio = last.bytesPerSec / conc.points[0]!.bytesPerSec;
    figures.push({
      key: 'scale.concurrency', name: `${last.x} concurrent copies, aggregate`, value: last.bytesPerSec / MB, unit: 'MB/s',
      baseline: { name: 'one copy alone', value: conc.points[0]!.bytesPerSec / MB }, ratio, ...(last.x >= 16 ? { target: '≥ 0.9', met: ratio >= 0.9 } : {}),
    });
  }
  if (r.server.peakRssBytes !== undefined) {
    figures.push({ key: 'server.peakRss', name: 'server peak resident memory', value: r.server.peakRssBytes / 1e6, unit: 'MB', target: '< 300 MB', met: r.server.peakRssBytes < 300e6 });
  }
  return figures;
}

export function moonshotsOf(r: BenchResults): Moonshot[] {
  const byKey = new Map(r.figures.map((f) => [f.key, f]));
  const row = (figure: string, target: string, key: string, preset: string, applies: boolean, why: string): Moonshot => {
    const f = byKey.get(key) ?? (key === 'copy.concurrent' ? byKey.get('scale.concurrency') : undefined);
    if (!f || f.ratio === undefined) return { figure, target, note: `not measured by this run: \`ebs-sim bench --preset ${preset}\`` };
    return { figure, target, measured: f.ratio, ...(applies && f.met !== undefined ? { met: f.met } : {}), note: applies ? '' : why };
  };
  return [
    row('fs copy vs plain file writes', '≥ 1.0', 'copy.full', 'full', r.baseline.name === 'plain file writes', 'the store is not fs: the ratio is against its own baseline'),
    row('restore read vs the copy', '≥ 0.7', 'restore.read', 'restore', true, ''),
    row('16 concurrent copies, aggregate vs one copy alone', '≥ 0.9', 'copy.concurrent', 'many', (byKey.get('copy.concurrent') ?? byKey.get('scale.concurrency'))?.target !== undefined, 'fewer than 16 volumes'),
    row('incremental 1% vs the full copy\'s time', '≤ 0.02', 'copy.incremental', 'incremental', (byKey.get('copy.incremental')?.target) !== undefined, 'change rate is not 1%'),
  ];
}
