/**
 * `ebs-sim bench`'s flags, presets and help. Kept apart from the run so that `--help` and flag
 * errors answer at once, without loading the AWS SDK.
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { GiB, MiB, PRESETS, type BenchConfig, type DataKind, type PresetName } from '../bench/config.js';
import { parseByteSize } from './byte-size.js';
import { UsageError } from './usage-error.js';

export const BENCH_HELP = `Usage: ebs-sim bench [options]
       ebs-sim bench compare A.json B.json [--out DIR]

Benchmarks snapshot copies as a user gets them: starts its own ebs-sim serve (or measures a running
one with --endpoint), writes real bytes through the data plane, takes snapshots with the EC2 API and
follows DescribeSnapshots' Progress live until they complete. Every figure is measured beside a
baseline in the same run: plain file writes of the same 512 KiB blocks on the same disk (fs), a raw
PutObject loop (s3), or a data-plane write (memory store, direct preset).

Writes results.json (machine, versions, flags, every sample) and report.md with SVG plots
(throughput and progress against time, per-block latency percentiles, restore reads) to --out.

Presets (the question each answers):
  full         How fast is the first snapshot of a full volume copied? (default)
  incremental  How long does a snapshot take after 1% of the volume changed? (3 snapshots)
  restore      How fast does a volume restored from a snapshot read (lazy load)?
  many         16 volumes snapshotted at once, aggregate vs one alone (--size is per volume: 64MiB)
  direct       EBS direct APIs: PutSnapshotBlock upload and GetSnapshotBlock download, 64 callers
  scale        How copy time, freeze time and server memory grow: with volume size (1 GiB to
               16 TiB, 64 MiB written), written data (256 MiB up to --size, disk permitting), a
               chain of --chain snapshots (default 1000) and 1 to 16 concurrent copies

Workload (override a preset's values):
  --volume-size <bytes>        Size of each volume (default 8GiB). Sizes: 64MiB, 1GiB, 1073741824...
  --size <bytes>               Bytes written to each volume before its first snapshot (default 1GiB)
  --data <kind>                random (default), zeros, or duplicate:<ratio> (e.g. duplicate:0.5:
                               that share of blocks repeat a few others)
  --change-rate <share>        Share changed between successive snapshots: 1% or 0.01 (default 1%)
  --chain <n>                  Snapshots per volume, the first full, the rest incremental
  --volumes <n>                Volumes snapshotted at once (above 1, one is also copied alone first)
  --copy-concurrency <n>       Blocks each copy uploads at once (own server only; default 8)
  --object-store <store>       fs (default, under --out), memory,
                               fs:<dir>[?direct=false&threads=<n>], or
                               s3://<bucket>[/<prefix>]?endpoint=<url>&region=<r>&forcePathStyle=true
                               (S3 credentials: the usual AWS_* environment variables)
  --copy-rate <bytes/s>        Upload bandwidth of the server's copier (own server only), e.g. 50MB
  --writes-during-pending      Keep writing to the volumes while their snapshots are pending
  --restore                    Also read a volume restored from the last snapshot
  --direct-workers <n>         Direct-API callers (default 64)

Where:
  --endpoint <url>             Measure a running server (started with --auth none and, for the
                               direct preset, --direct-rate-limits off) instead of starting one
  --keep                       With --endpoint: leave the volumes and snapshots the run made on
                               that server (by default it deletes them when it ends)
  --out <dir>                  Output folder (default ./ebs-sim-bench-<date>-<time>); an own server
                               keeps its data in <dir>/data while it runs (removed after)
  --profile                    Run the server under node --cpu-prof; the report says where its CPU
                               went (own server only)
  --poll <ms>                  Longest DescribeSnapshots polling interval (default 50; a young copy
                               is polled every 5 ms, then less often, up to this)
  -h, --help                   Show this help.

Examples:
  ebs-sim bench --preset full
  ebs-sim bench --preset incremental --size 4GiB --change-rate 1%
  ebs-sim bench --preset many --volumes 16 --object-store memory
  ebs-sim bench compare run-a/results.json run-b/results.json
`;

interface PresetDefaults {
  chainLength: number;
  volumes: number;
  restore: boolean;
  sizeBytes: number;
}

const PRESET_DEFAULTS: Record<PresetName, PresetDefaults> = {
  full: { chainLength: 1, volumes: 1, restore: false, sizeBytes: GiB },
  incremental: { chainLength: 3, volumes: 1, restore: false, sizeBytes: GiB },
  restore: { chainLength: 1, volumes: 1, restore: true, sizeBytes: GiB },
  many: { chainLength: 1, volumes: 16, restore: false, sizeBytes: 64 * MiB },
  direct: { chainLength: 0, volumes: 1, restore: false, sizeBytes: GiB },
  scale: { chainLength: 1000, volumes: 1, restore: false, sizeBytes: GiB },
};

/** `./ebs-sim-bench-20261205-211400`: a dated folder in the working directory. */
export function defaultOutDir(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return resolve(`ebs-sim-bench-${stamp}`);
}

function bytes(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = parseByteSize(raw);
  if (n === undefined || n <= 0) throw new UsageError(`${flag} must be a positive size such as 64MiB, 1GiB or 1073741824, got '${raw}'`);
  return n;
}

function whole(flag: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || n < min || n > max) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got '${raw}'`);
  return n;
}

function dataKind(raw: string | undefined): DataKind {
  if (raw === undefined || raw === 'random') return { kind: 'random' };
  if (raw === 'zeros') return { kind: 'zeros' };
  const m = /^duplicate(?::(\d*\.?\d+)(%?))?$/.exec(raw);
  if (m) {
    const ratio = m[1] === undefined ? 0.5 : Number(m[1]) / (m[2] ? 100 : 1);
    if (ratio >= 0 && ratio <= 1) return { kind: 'duplicate', ratio };
  }
  throw new UsageError(`--data must be random, zeros or duplicate:<ratio from 0 to 1> (e.g. duplicate:0.5), got '${raw}'`);
}

function share(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const m = /^(\d*\.?\d+)(%?)$/.exec(raw.trim());
  const n = m ? Number(m[1]) / (m[2] ? 100 : 1) : Number.NaN;
  if (!(n > 0 && n <= 1)) throw new UsageError(`--change-rate must be a share above 0 and at most 1 (e.g. 1% or 0.01), got '${raw}'`);
  return n;
}

function objectStore(raw: string | undefined): string {
  if (raw === undefined || raw === 'fs') return 'fs';
  if (raw === 'memory' || raw === 'memory:') return 'memory';
  if (raw.startsWith('fs:')) {
    const question = raw.indexOf('?');
    return question === -1 ? `fs:${resolve(raw.slice(3))}` : `fs:${resolve(raw.slice(3, question))}${raw.slice(question)}`;
  }
  if (raw.startsWith('s3://')) return raw;
  throw new UsageError(`--object-store must be fs, fs:<dir>, memory or s3://<bucket>?endpoint=<url>..., got '${raw}'`);
}

/** Parses and checks `bench`'s flags; throws UsageError with a message that says what to fix. */
export function parseBenchArgs(args: string[], now = new Date()): BenchConfig | 'help' {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      preset: { type: 'string' },
      'volume-size': { type: 'string' },
      size: { type: 'string' },
      data: { type: 'string' },
      'change-rate': { type: 'string' },
      chain: { type: 'string' },
      volumes: { type: 'string' },
      'copy-concurrency': { type: 'string' },
      'object-store': { type: 'string' },
      'copy-rate': { type: 'string' },
      'writes-during-pending': { type: 'boolean' },
      restore: { type: 'boolean' },
      'direct-workers': { type: 'string' },
      endpoint: { type: 'string' },
      keep: { type: 'boolean' },
      out: { type: 'string' },
      poll: { type: 'string' },
      profile: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  if (positionals.length > 0) throw new UsageError(`bench takes no arguments but 'compare A.json B.json', got '${positionals.join(' ')}'`);
  const preset = (values.preset ?? 'full') as PresetName;
  if (!PRESETS.includes(preset)) throw new UsageError(`--preset must be one of ${PRESETS.join(', ')}, got '${values.preset}'`);
  const defaults = PRESET_DEFAULTS[preset];
  const volumeSizeBytes = bytes('--volume-size', values['volume-size']) ?? 8 * GiB;
  const sizeBytes = bytes('--size', values.size) ?? Math.min(defaults.sizeBytes, volumeSizeBytes);
  if (sizeBytes > volumeSizeBytes) throw new UsageError(`--size (${values.size}) must fit in --volume-size (${values['volume-size'] ?? '8GiB'})`);
  if (sizeBytes % (512 * 1024) !== 0) throw new UsageError(`--size must be a whole number of 512 KiB blocks, got '${values.size}'`);
  if (volumeSizeBytes > 16 * 1024 * GiB) throw new UsageError(`--volume-size must be at most 16TiB (EBS's largest), got '${values['volume-size']}'`);
  const copyRate = values['copy-rate'] === undefined ? undefined : parseByteSize(values['copy-rate']);
  if (values['copy-rate'] !== undefined && !(copyRate !== undefined && copyRate > 0)) {
    throw new UsageError(`--copy-rate must be a positive rate such as 50MB, 20MiB or 1048576, got '${values['copy-rate']}'`);
  }
  if (values.endpoint !== undefined && !/^https?:\/\/[^/]+/.test(values.endpoint)) throw new UsageError(`--endpoint must be a URL such as http://127.0.0.1:7447, got '${values.endpoint}'`);
  if (values.endpoint !== undefined && (values['copy-rate'] !== undefined || values['copy-concurrency'] !== undefined || values.profile)) {
    throw new UsageError('--copy-rate, --copy-concurrency and --profile are about the server the bench starts: with --endpoint, give them to that server');
  }
  if (values.keep && values.endpoint === undefined) throw new UsageError('--keep is about a server the bench did not start (--endpoint): its own server\'s data is removed with it');
  const copyConcurrency = whole('--copy-concurrency', values['copy-concurrency'], 1, 1024);
  const outDir = resolve(values.out ?? defaultOutDir(now));
  const store = objectStore(values['object-store']);
  return {
    preset,
    volumeSizeBytes,
    sizeBytes,
    data: dataKind(values.data),
    changeRate: share(values['change-rate']) ?? 0.01,
    chainLength: preset === 'direct' ? 0 : whole('--chain', values.chain, 1, 1000) ?? defaults.chainLength,
    volumes: whole('--volumes', values.volumes, 1, 256) ?? defaults.volumes,
    ...(copyConcurrency !== undefined ? { copyConcurrency } : {}),
    objectStore: store === 'fs' && values.endpoint === undefined ? 'fs' : store === 'fs' ? `fs:${join(outDir, 'data', 'objects')}` : store,
    ...(copyRate !== undefined ? { copyRate } : {}),
    writesDuringPending: values['writes-during-pending'] === true,
    restore: values.restore === true || defaults.restore,
    directWorkers: whole('--direct-workers', values['direct-workers'], 1, 1024) ?? 64,
    ...(values.endpoint !== undefined ? { endpoint: values.endpoint.replace(/\/+$/, '') } : {}),
    keep: values.keep === true,
    outDir,
    pollMs: whole('--poll', values.poll, 1, 60_000) ?? 50,
    profile: values.profile === true,
  };
}

export const COMPARE_HELP = `Usage: ebs-sim bench compare A.json B.json [--out DIR]

Prints each figure of two bench runs side by side (B against A), and writes compare.md with plots
of both runs' copy throughput and progress to --out (default: the folder of B.json).
`;

export function parseCompareArgs(args: string[]): { a: string; b: string; outDir?: string } | 'help' {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) return 'help';
  if (positionals.length !== 2) throw new UsageError(`compare takes two results files, A.json and B.json, got ${positionals.length}`);
  return { a: resolve(positionals[0]!), b: resolve(positionals[1]!), ...(values.out !== undefined ? { outDir: resolve(values.out) } : {}) };
}
