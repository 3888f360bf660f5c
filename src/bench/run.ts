/**
 * One `ebs-sim bench` run: a server (its own, or --endpoint), the baseline, the workload through
 * the public interfaces, then the results file and the report under the output folder.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, hostname, release, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { CompleteSnapshotCommand, GetSnapshotBlockCommand, ListSnapshotBlocksCommand, PutSnapshotBlockCommand, StartSnapshotCommand } from '@aws-sdk/client-ebs';
import { dataPlaneWrite, plainFileWrites, rawPutObjects } from './baselines.js';
import { BlockData } from './block-data.js';
import { BLOCK, GiB, VOLUME_BLOCKS, type BenchConfig, type ServerLauncher } from './config.js';
import { figuresOf, moonshotsOf } from './figures.js';
import { summarizeCpuProfile } from './cpu-profile.js';
import { startOwnServer, type OwnServer } from './own-server.js';
import { fmtRate, progressDisplay, type ProgressDisplay } from './progress-display.js';
import { PublicClient, pool } from './public-client.js';
import { writeReport } from './report.js';
import { runScale, type ScaleCurve } from './scale.js';
import { RESULTS_FORMAT, type BenchResults, type SnapshotRun, type ThroughputPhase } from './results.js';
import { fmtBytes, watchSnapshots, type Started } from './snapshot-watch.js';

export interface BenchOutput {
  results: BenchResults;
  resultsFile: string;
  reportFile: string;
}

/** The object store's spec as `serve --object-store` takes it, under `dataDir` for fs. */
export function objectStoreSpec(store: string, dataDir: string): string {
  if (store === 'fs') return `fs:${join(dataDir, 'objects')}`;
  if (store === 'memory') return 'memory:';
  return store;
}

const storeKind = (store: string): 'fs' | 'memory' | 's3' => (store === 'memory' || store === 'memory:' ? 'memory' : store.startsWith('s3://') ? 's3' : 'fs');

export async function runBench(config: BenchConfig, launcher: ServerLauncher, argv: string[], stdout: NodeJS.WriteStream = process.stdout): Promise<BenchOutput> {
  const startedAt = new Date();
  const runStart = performance.now();
  // performance.now() in µs of the monotonic clock, which the server's CPU profile is stamped with.
  const hrOffsetUs = Number(process.hrtime.bigint() / 1000n) - performance.now() * 1000;
  const outDir = resolve(config.outDir);
  const dataDir = join(outDir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const display = progressDisplay(stdout);
  const say = (line: string) => display.log(line);

  let server: OwnServer | undefined;
  const rss: Array<[number, number]> = [];
  let rssTimer: NodeJS.Timeout | undefined;
  const objectStore = objectStoreSpec(config.objectStore, dataDir);
  if (config.endpoint === undefined) {
    const args = ['--data-dir', join(dataDir, 'leveldb'), '--object-store', objectStore, '--direct-rate-limits', 'off'];
    if (config.copyRate !== undefined) args.push('--copy-rate', String(config.copyRate));
    if (config.copyConcurrency !== undefined) args.push('--copy-concurrency', String(config.copyConcurrency));
    server = await startOwnServer(launcher, args, config.profile ? { profileDir: join(outDir, 'profile') } : {});
    say(`ebs-sim bench: started ebs-sim serve (pid ${server.pid}) at ${server.endpoint}, object store ${objectStore}`);
    rssTimer = setInterval(() => {
      const r = server!.rssBytes();
      if (r !== undefined) rss.push([performance.now() - runStart, r]);
    }, 100);
    rssTimer.unref();
  } else {
    say(`ebs-sim bench: measuring ${config.endpoint}`);
  }
  const endpoint = server?.endpoint ?? config.endpoint!;
  const client = new PublicClient(endpoint, Math.max(64, config.directWorkers));
  const data = new BlockData(config.data);
  const sizeBlocks = Math.ceil(config.sizeBytes / BLOCK);
  // Each volume (and the direct upload) gets blocks of its own: the store keeps each distinct
  // block once, so volumes with the same bytes would copy in no time. Ordinal 0 is the baseline's.
  let ordinals = 0;
  const nextBase = () => ++ordinals * VOLUME_BLOCKS;

  try {
    const writes: ThroughputPhase[] = [];
    const snapshots: SnapshotRun[] = [];
    let writesDuringPending: ThroughputPhase | undefined;
    let restore: ThroughputPhase | undefined;
    let direct: BenchResults['direct'];
    let scale: ScaleCurve[] | undefined;

    // The baseline, first: the same blocks, written as plainly as the store allows.
    const kind = storeKind(objectStore);
    // The scale preset writes up to --size in one step: its baseline is of at most 1 GiB.
    const baselineBytes = config.preset === 'scale' ? Math.min(config.sizeBytes, GiB) : config.sizeBytes;
    const baselineBlocks = Math.ceil(baselineBytes / BLOCK);
    let baseline: ThroughputPhase;
    if (config.preset === 'direct') {
      // The same 512 KiB blocks, as many at a time as the direct API's callers.
      const volumeId = await client.createVolume({ sizeBytes: config.volumeSizeBytes });
      baseline = await dataPlaneWrite(client, volumeId, data, baselineBytes, { name: 'data-plane write', base: 0, requestBytes: BLOCK, inFlight: config.directWorkers });
    } else if (kind === 'memory') {
      const volumeId = await client.createVolume({ sizeBytes: config.volumeSizeBytes });
      baseline = await dataPlaneWrite(client, volumeId, data, baselineBytes, { name: 'data-plane write', base: 0 });
    } else if (kind === 's3') {
      baseline = await rawPutObjects(objectStore, data, baselineBlocks);
    } else {
      const objectsDir = objectStore.slice('fs:'.length);
      baseline = await plainFileWrites(join(resolve(objectsDir), '..', `baseline-${process.pid}`), data, baselineBlocks);
    }
    say(`baseline: ${baseline.name}, ${fmtBytes(baseline.bytes)} in ${(baseline.durationMs / 1000).toFixed(2)} s: ${fmtRate(baseline.bytesPerSec)}`);

    if (config.preset === 'scale') {
      const peakRss = (fromMs: number, toMs: number) => {
        const seen = rss.filter(([t]) => t >= fromMs && t <= toMs).map(([, b]) => b);
        // A step shorter than the sampling interval: the server's memory now.
        return seen.length > 0 ? Math.max(...seen) : server?.rssBytes();
      };
      scale = await runScale({ client, config, data, display, runStart, nextBase, peakRss, dataDir, snapshots, say });
    } else if (config.preset === 'direct') {
      direct = await directUploadAndDownload(client, config, data, nextBase(), display, runStart, snapshots);
      say(`direct: upload ${fmtRate(direct.upload.bytesPerSec)}, download ${fmtRate(direct.download.bytesPerSec)} (${config.directWorkers} callers)`);
    } else {
      const chain = async (group: string, count: number) => {
        const volumes: Array<{ id: string; base: number }> = [];
        for (let v = 0; v < count; v++) {
          const volumeId = await client.createVolume({ sizeBytes: config.volumeSizeBytes });
          const base = nextBase();
          const w = await dataPlaneWrite(client, volumeId, data, config.sizeBytes, { name: `data-plane write (${group} volume ${v + 1})`, base });
          writes.push(w);
          volumes.push({ id: volumeId, base });
        }
        say(`${group}: ${count} volume(s) of ${fmtBytes(config.volumeSizeBytes)}, ${fmtBytes(config.sizeBytes)} written to each (${fmtRate(writes[writes.length - 1]!.bytesPerSec)})`);
        const dirty = volumes.map(() => new Set<number>(Array.from({ length: sizeBlocks }, (_, i) => i)));
        let last: SnapshotRun[] = [];
        for (let position = 0; position < config.chainLength; position++) {
          if (position > 0) await changeBlocks(client, volumes, dirty, data, sizeBlocks, config.changeRate, position);
          const started: Started[] = await Promise.all(volumes.map(async ({ id: volumeId }, v) => {
            const sentAt = performance.now();
            const snapshotId = await client.createSnapshot(volumeId);
            const bytesWritten = dirty[v]!.size * BLOCK;
            dirty[v]!.clear();
            return { snapshotId, volumeId, group, position, kind: position === 0 ? 'full' as const : 'incremental' as const, bytesWritten, sentAt };
          }));
          const pendingWriter = config.writesDuringPending ? writeWhilePending(client, volumes, dirty, data, sizeBlocks, position) : undefined;
          last = await watchSnapshots(client, started, display, config.pollMs, runStart).finally(() => pendingWriter?.stop());
          if (pendingWriter) {
            const phase = await pendingWriter.done;
            writesDuringPending = mergePhases(writesDuringPending, phase);
          }
          snapshots.push(...last);
          const aggregate = last.reduce((n, s) => n + s.bytesWritten, 0) / (Math.max(...last.map((s) => s.startMs + s.durationMs)) - Math.min(...last.map((s) => s.startMs))) * 1000;
          say(`${group} snapshot ${position + 1}/${config.chainLength}: ${last.length} completed, ${fmtRate(aggregate)} aggregate`);
        }
        return last;
      };
      if (config.volumes > 1) await chain('alone', 1);
      const last = await chain(config.volumes > 1 ? 'concurrent' : 'chain', config.volumes);
      if (config.restore) {
        const from = last[0]!;
        const volumeId = await client.createVolume({ snapshotId: from.snapshotId });
        restore = await restoreRead(client, volumeId, config.sizeBytes);
        say(`restore: ${volumeId} from ${from.snapshotId}, ${fmtBytes(restore.bytes)} read in ${(restore.durationMs / 1000).toFixed(2)} s: ${fmtRate(restore.bytesPerSec)}`);
      }
    }

    display.stop();
    if (rssTimer) clearInterval(rssTimer);
    const peakRssBytes = server?.peakRssBytes(); // from /proc: before the server exits
    if (server) await server.stop(); // and writes its CPU profile, under --profile
    const copyWindows = snapshots.map((s): [number, number] => [hrOffsetUs + (runStart + s.startMs) * 1000, hrOffsetUs + (runStart + s.startMs + s.durationMs) * 1000]);
    const cpuProfile = config.profile ? summarizeCpuProfile(join(outDir, 'profile'), copyWindows) : undefined;
    const finishedAt = new Date();
    const results: BenchResults = {
      format: RESULTS_FORMAT,
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      machine: machineOf(outDir),
      versions: versionsOf(),
      flags: config,
      argv,
      server: {
        endpoint,
        own: server !== undefined,
        ...(server ? { args: server.args } : {}),
        rss,
        ...(peakRssBytes !== undefined ? { peakRssBytes } : {}),
        ...(cpuProfile ? { cpuProfile } : {}),
      },
      baseline,
      writes,
      snapshots,
      ...(writesDuringPending ? { writesDuringPending } : {}),
      ...(restore ? { restore } : {}),
      ...(direct ? { direct } : {}),
      ...(scale ? { scale } : {}),
      figures: [],
      moonshots: [],
    };
    results.figures = figuresOf(results);
    results.moonshots = moonshotsOf(results);
    const resultsFile = join(outDir, 'results.json');
    writeFileSync(resultsFile, `${JSON.stringify(results, null, 1)}\n`);
    const reportFile = writeReport(results, outDir);
    return { results, resultsFile, reportFile };
  } finally {
    display.stop();
    if (rssTimer) clearInterval(rssTimer);
    client.destroy();
    if (server) {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    } else {
      rmdirIfEmpty(dataDir); // where the fs baseline wrote its files, beside a server elsewhere
    }
  }
}

function rmdirIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not empty, or not there: keep it
  }
}

type BenchVolume = { id: string; base: number };

/** Changes `rate` of each volume's written blocks, spread evenly, at least one: blocks of version `version`. */
async function changeBlocks(client: PublicClient, volumes: BenchVolume[], dirty: Set<number>[], data: BlockData, sizeBlocks: number, rate: number, version: number): Promise<void> {
  const count = Math.min(sizeBlocks, Math.max(1, Math.round(rate * sizeBlocks)));
  const step = sizeBlocks / count;
  const blocks = Array.from({ length: count }, (_, i) => (Math.floor(i * step) + version) % sizeBlocks);
  for (const [v, { id: volumeId, base }] of volumes.entries()) {
    await pool(blocks, 8, async (b) => {
      await client.write(volumeId, b * BLOCK, Buffer.from(data.block(base + b, version)));
      dirty[v]!.add(b);
    });
  }
}

/** Writes blocks to the volumes, one at a time per volume, until stopped: what a busy application does during `pending`. */
function writeWhilePending(client: PublicClient, volumes: BenchVolume[], dirty: Set<number>[], data: BlockData, sizeBlocks: number, position: number) {
  let stopped = false;
  const points: Array<[number, number]> = [];
  const latenciesMs: number[] = [];
  let bytes = 0;
  const start = performance.now();
  const done = Promise.all(volumes.map(async ({ id: volumeId, base }, v) => {
    for (let i = 0; !stopped; i++) {
      const b = (i * 7919 + position) % sizeBlocks;
      const t = performance.now();
      await client.write(volumeId, b * BLOCK, Buffer.from(data.block(base + b, 1_000_000 + position * sizeBlocks + i)));
      latenciesMs.push(performance.now() - t);
      dirty[v]!.add(b);
      bytes += BLOCK;
      points.push([performance.now() - start, bytes]);
    }
  })).then((): ThroughputPhase => {
    const durationMs = performance.now() - start;
    return {
      name: 'writes during pending', description: 'data-plane writes of single 512 KiB blocks, one at a time per volume, while its snapshot is pending',
      bytes, durationMs, bytesPerSec: bytes / (durationMs / 1000), points, latenciesMs, opBytes: BLOCK,
    };
  });
  return { stop: () => { stopped = true; }, done };
}

function mergePhases(a: ThroughputPhase | undefined, b: ThroughputPhase): ThroughputPhase {
  if (!a) return b;
  const shift = a.durationMs;
  const bytes = a.bytes + b.bytes;
  const durationMs = a.durationMs + b.durationMs;
  return {
    ...a, bytes, durationMs, bytesPerSec: bytes / (durationMs / 1000),
    points: [...a.points, ...b.points.map(([t, n]): [number, number] => [t + shift, n + a.bytes])],
    latenciesMs: [...(a.latenciesMs ?? []), ...(b.latenciesMs ?? [])],
  };
}

/** Reads a restored volume through the data plane, 8 MiB per request, 4 at a time: lazy loads from the store. */
async function restoreRead(client: PublicClient, volumeId: string, bytes: number): Promise<ThroughputPhase> {
  const step = 8 * 1024 * 1024;
  const offsets = Array.from({ length: Math.ceil(bytes / step) }, (_, i) => i * step);
  const points: Array<[number, number]> = [];
  const latenciesMs: number[] = [];
  let done = 0;
  const start = performance.now();
  await pool(offsets, 4, async (offset) => {
    const length = Math.min(step, bytes - offset);
    const t = performance.now();
    const got = await client.read(volumeId, offset, length);
    if (got !== length) throw new Error(`restore read at ${offset}: ${got} bytes, not ${length}`);
    latenciesMs.push(performance.now() - t);
    done += got;
    points.push([performance.now() - start, done]);
  });
  const durationMs = performance.now() - start;
  return {
    name: 'restore read', description: `GET /data/volumes/${volumeId} of a volume restored from the snapshot (lazy load), 8 MiB per request, 4 at a time`,
    bytes: done, durationMs, bytesPerSec: done / (durationMs / 1000), points, latenciesMs, opBytes: step,
  };
}

/** StartSnapshot, PutSnapshotBlock by `directWorkers` callers, CompleteSnapshot until completed; then every block read back. */
async function directUploadAndDownload(
  client: PublicClient, config: BenchConfig, data: BlockData, base: number, display: ProgressDisplay, runStart: number, snapshots: SnapshotRun[],
): Promise<{ upload: ThroughputPhase; download: ThroughputPhase }> {
  const blocks = Math.ceil(config.sizeBytes / BLOCK);
  const indexes = Array.from({ length: blocks }, (_, i) => i);
  // Checksums first, off the clock: what is timed is the server, not this client's hashing.
  const checksums = indexes.map((i) => createHash('sha256').update(data.block(base + i)).digest('base64'));
  const sentAt = performance.now();
  const snapshotId = (await client.ebs.send(new StartSnapshotCommand({ VolumeSize: Math.max(1, Math.ceil(config.volumeSizeBytes / GiB)), Timeout: 60 }))).SnapshotId!;
  const upPoints: Array<[number, number]> = [];
  const upLatencies: number[] = [];
  let done = 0;
  await pool(indexes, config.directWorkers, async (i) => {
    const block = Buffer.from(data.block(base + i));
    const t = performance.now();
    await client.ebs.send(new PutSnapshotBlockCommand({ SnapshotId: snapshotId, BlockIndex: i, BlockData: block, DataLength: BLOCK, Checksum: checksums[i]!, ChecksumAlgorithm: 'SHA256' }));
    upLatencies.push(performance.now() - t);
    done += BLOCK;
    upPoints.push([performance.now() - sentAt, done]);
  });
  await client.ebs.send(new CompleteSnapshotCommand({ SnapshotId: snapshotId, ChangedBlocksCount: blocks }));
  const [run] = await watchSnapshots(client, [{ snapshotId, group: 'direct', position: 0, kind: 'direct', bytesWritten: blocks * BLOCK, sentAt }], display, config.pollMs, runStart);
  snapshots.push(run!);
  const upload: ThroughputPhase = {
    name: 'direct upload', description: `StartSnapshot, PutSnapshotBlock by ${config.directWorkers} callers, CompleteSnapshot, until DescribeSnapshots says completed`,
    bytes: done, durationMs: run!.durationMs, bytesPerSec: done / (run!.durationMs / 1000), points: upPoints, latenciesMs: upLatencies, opBytes: BLOCK,
  };

  const start = performance.now();
  const tokens: Array<{ index: number; token: string }> = [];
  let next: string | undefined;
  do {
    const page = await client.ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: snapshotId, MaxResults: 10_000, NextToken: next }));
    for (const b of page.Blocks ?? []) tokens.push({ index: b.BlockIndex!, token: b.BlockToken! });
    next = page.NextToken;
  } while (next);
  const downPoints: Array<[number, number]> = [];
  const downLatencies: number[] = [];
  let got = 0;
  await pool(tokens, config.directWorkers, async ({ index, token }) => {
    const t = performance.now();
    const out = await client.ebs.send(new GetSnapshotBlockCommand({ SnapshotId: snapshotId, BlockIndex: index, BlockToken: token }));
    const bytes = await out.BlockData!.transformToByteArray();
    downLatencies.push(performance.now() - t);
    got += bytes.length;
    downPoints.push([performance.now() - start, got]);
  });
  const downMs = performance.now() - start;
  const download: ThroughputPhase = {
    name: 'direct download', description: `ListSnapshotBlocks (every page first), then GetSnapshotBlock by ${config.directWorkers} callers`,
    bytes: got, durationMs: downMs, bytesPerSec: got / (downMs / 1000), points: downPoints, latenciesMs: downLatencies, opBytes: BLOCK,
  };
  return { upload, download };
}

function machineOf(outDir: string): BenchResults['machine'] {
  let dataFilesystem: string | undefined;
  try {
    // The mount holding the output folder: the longest mount point that prefixes it.
    const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')).filter((f) => f.length > 2);
    const best = mounts.filter((f) => outDir === f[1] || outDir.startsWith(f[1] === '/' ? '/' : `${f[1]}/`)).sort((a, b) => b[1]!.length - a[1]!.length)[0];
    if (best) dataFilesystem = `${best[2]} on ${best[1]} (${best[0]})`;
  } catch {
    // not Linux: no /proc/mounts
  }
  const list = cpus();
  return {
    hostname: hostname(), platform: process.platform, release: release(), arch: process.arch, cpus: list.length, cpuModel: list[0]?.model ?? 'unknown',
    totalMemBytes: totalmem(), ...(dataFilesystem ? { dataFilesystem } : {}),
  };
}

function versionsOf(): BenchResults['versions'] {
  // package.json sits two folders up from both src/bench and dist/bench.
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string; dependencies?: Record<string, string> };
  return {
    ebsSim: pkg.version,
    node: process.version,
    ...(pkg.dependencies?.['@aws-sdk/client-ec2'] ? { awsSdkEc2: pkg.dependencies['@aws-sdk/client-ec2'] } : {}),
    ...(pkg.dependencies?.['cli-progress'] ? { cliProgress: pkg.dependencies['cli-progress'] } : {}),
  };
}
