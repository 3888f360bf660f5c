/**
 * The results file of a bench run (JSON): the machine, versions, flags, and every sample taken,
 * from which the report, its plots and `compare` are made.
 */
import type { BenchConfig } from './config.js';
import type { CpuProfileSummary } from './cpu-profile.js';
import type { ScaleCurve } from './scale.js';

export const RESULTS_FORMAT = 'ebs-sim-bench/1';

/** DescribeSnapshots' Progress at `t` milliseconds after CreateSnapshot (or StartSnapshot) was sent. */
export interface ProgressSample {
  t: number;
  progress: number;
}

export interface SnapshotRun {
  snapshotId: string;
  /** The volume it is of; undefined for a snapshot written through the direct APIs. */
  volumeId?: string;
  /** Which part of the workload: 'alone', 'chain', 'concurrent', 'direct'. */
  group: string;
  /** 0 for a volume's first snapshot, k for its k-th incremental one. */
  position: number;
  kind: 'full' | 'incremental' | 'direct';
  /** Bytes written to the volume since its previous snapshot (what the copy has to look at). */
  bytesWritten: number;
  /** Milliseconds from the run's start to CreateSnapshot. */
  startMs: number;
  /** Milliseconds from CreateSnapshot until DescribeSnapshots first said completed. */
  durationMs: number;
  bytesPerSec: number;
  samples: ProgressSample[];
  /**
   * How long each non-zero block of the copy took to become stored, inside the server (its
   * `GET /_ebs-sim/stats`, which needs --allow-control: absent against a server without it).
   */
  blockCopyMs?: BlockCopyTimes;
}

/** Percentiles (ms) of a copy's per-block times, as the server's stats give them. */
export interface BlockCopyTimes {
  count: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** A timed stream of operations: bytes done against time, and each operation's latency. */
export interface ThroughputPhase {
  name: string;
  /** What it is, for the report (e.g. "plain file writes, one 512 KiB file per block"). */
  description: string;
  bytes: number;
  durationMs: number;
  bytesPerSec: number;
  /** [ms since the phase began, bytes done so far], one per completed operation. */
  points: Array<[number, number]>;
  /** Each operation's latency in ms, when operations are blocks (or requests) worth timing. */
  latenciesMs?: number[];
  /** Bytes per operation, to say what a latency is of. */
  opBytes?: number;
}

export interface Figure {
  /** Stable key, matched by `compare`. */
  key: string;
  name: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number };
  ratio?: number;
  target?: string;
  met?: boolean;
}

export interface Moonshot {
  figure: string;
  target: string;
  /** The ratio measured in this run, if its workload measures it. */
  measured?: number;
  met?: boolean;
  note: string;
}

export interface BenchResults {
  format: typeof RESULTS_FORMAT;
  startedAt: string;
  finishedAt: string;
  machine: {
    hostname: string;
    platform: string;
    release: string;
    arch: string;
    cpus: number;
    cpuModel: string;
    totalMemBytes: number;
    /** The filesystem holding the run's data, from /proc/mounts where known. */
    dataFilesystem?: string;
  };
  versions: { ebsSim: string; node: string; awsSdkEc2?: string; cliProgress?: string };
  flags: BenchConfig;
  argv: string[];
  server: {
    endpoint: string;
    own: boolean;
    args?: string[];
    /** [ms since the run's start, resident bytes], own server only. */
    rss: Array<[number, number]>;
    peakRssBytes?: number;
    /** Where its CPU went, under --profile. */
    cpuProfile?: CpuProfileSummary;
  };
  baseline: ThroughputPhase;
  /**
   * fs stores: the same blocks written with O_DIRECT, as the copy writes them, measured beside
   * the baseline (which the targets keep): plain writes stop at the page cache.
   */
  diskBaseline?: ThroughputPhase;
  writes: ThroughputPhase[];
  snapshots: SnapshotRun[];
  writesDuringPending?: ThroughputPhase;
  restore?: ThroughputPhase;
  direct?: { upload: ThroughputPhase; download: ThroughputPhase };
  /** The scale preset's curves. */
  scale?: ScaleCurve[];
  figures: Figure[];
  moonshots: Moonshot[];
}

export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Progress never goes back, within each snapshot. */
export const progressIsMonotonic = (s: SnapshotRun) => s.samples.every((x, i) => i === 0 || x.progress >= s.samples[i - 1]!.progress);

/**
 * Throughput against time from cumulative [t ms, bytes] points, over windows of at least
 * `windowMs`: [seconds, MB/s] at each window's end.
 */
export function rateSeries(points: ReadonlyArray<readonly [number, number]>, windowMs: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let from: readonly [number, number] = [0, 0];
  for (const p of points) {
    if (p[0] - from[0] < windowMs) continue;
    out.push([p[0] / 1000, (p[1] - from[1]) / 1e6 / ((p[0] - from[0]) / 1000)]);
    from = p;
  }
  // The tail, unless it is too short to say anything but noise (or it is all there is).
  const last = points[points.length - 1];
  if (last && last !== from && (last[0] - from[0] >= windowMs / 2 || out.length === 0)) out.push([last[0] / 1000, (last[1] - from[1]) / 1e6 / ((last[0] - from[0]) / 1000)]);
  return out;
}

/** A snapshot's progress samples as cumulative bytes (progress × bytes written). */
export const snapshotPoints = (s: SnapshotRun): Array<[number, number]> => s.samples.map((x) => [x.t, (x.progress / 100) * s.bytesWritten]);
