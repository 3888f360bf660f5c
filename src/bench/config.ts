/**
 * What one `ebs-sim bench` run does: the workload, where it runs and where its results go. The
 * command line (cli/bench-args.ts) fills it from a preset and the user's flags.
 */

export const BLOCK = 512 * 1024;
export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
/** Blocks of the largest volume (16 TiB): each volume's block numbers start at a multiple of it. */
export const VOLUME_BLOCKS = (16 * 1024 * GiB) / BLOCK;

export const PRESETS = ['full', 'incremental', 'restore', 'many', 'direct', 'scale'] as const;
export type PresetName = (typeof PRESETS)[number];

/** random: unique incompressible blocks; zeros: all-zero blocks (holes); duplicate: a share of blocks repeat others. */
export type DataKind = { kind: 'random' } | { kind: 'zeros' } | { kind: 'duplicate'; ratio: number };

export interface BenchConfig {
  preset: PresetName;
  /** Bytes of each volume (CreateVolume's Size, rounded up to GiB). */
  volumeSizeBytes: number;
  /** Bytes written to each volume before its first snapshot. */
  sizeBytes: number;
  data: DataKind;
  /** Share of the written bytes changed between two successive snapshots of a volume (0..1). */
  changeRate: number;
  /** Snapshots per volume: the first is full, the others incremental. */
  chainLength: number;
  /** Volumes snapshotted at once; above 1, one volume is also copied alone first, for the ratio. */
  volumes: number;
  /** Server's copy engine concurrency (own server only); undefined: its default. */
  copyConcurrency?: number;
  /** fs, memory, or s3://bucket[/prefix]?endpoint=…&region=…&forcePathStyle=true */
  objectStore: string;
  /** Upload bandwidth of the server's copier, bytes per second (own server only). */
  copyRate?: number;
  /** Keep writing to the volumes while their snapshots are pending. */
  writesDuringPending: boolean;
  /** Read a volume restored from the (last) snapshot through the data plane. */
  restore: boolean;
  /** direct preset: PutSnapshotBlock / GetSnapshotBlock callers. */
  directWorkers: number;
  /** A running server to measure; undefined: start one. */
  endpoint?: string;
  /** With `endpoint`: leave the volumes and snapshots the run made there (by default deleted at the end). */
  keep: boolean;
  /** Where results, the report and (own server) the data go. */
  outDir: string;
  /** How often DescribeSnapshots is polled, milliseconds. */
  pollMs: number;
  /** Profile the server's CPU (own server only) and say in the report where it went. */
  profile: boolean;
}

/** How the bench starts its own server: this node, with the running CLI's entry file. */
export interface ServerLauncher {
  execPath: string;
  /** Node flags of the running CLI (e.g. `--import tsx` when run from the sources). */
  execArgv: string[];
  mainFile: string;
}
