/**
 * One `ebs-sim bench` run: a server (its own, or --endpoint), the baseline, the workload through
 * the public interfaces, then the results file and the report under the output folder.
 */
import { mkdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { dataPlaneWrite, plainDirectWrites, plainFileWrites, rawPutObjects } from './baselines.js';
import { BlockData } from './block-data.js';
import { BLOCK, GiB, VOLUME_BLOCKS, type BenchConfig, type ServerLauncher } from './config.js';
import { summarizeCpuProfile } from './cpu-profile.js';
import { directUploadAndDownload } from './direct-phase.js';
import { figuresOf, moonshotsOf } from './figures.js';
import { machineOf, versionsOf } from './machine.js';
import { startOwnServer, type OwnServer } from './own-server.js';
import { fmtRate, progressDisplay } from './progress-display.js';
import { PublicClient } from './public-client.js';
import { writeReport } from './report.js';
import { RESULTS_FORMAT, type BenchResults, type SnapshotRun, type ThroughputPhase } from './results.js';
import { runScale, type ScaleCurve } from './scale.js';
import { fmtBytes, watchSnapshots, type Started } from './snapshot-watch.js';
import { changeBlocks, mergePhases, restoreRead, writeWhilePending } from './volume-phases.js';

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
  let baselineDir: string | undefined; // the fs baseline's files, kept until the run is over
  if (config.endpoint === undefined) {
    // --allow-control: the copies' per-block times are read from GET /_ebs-sim/stats at the end.
    const args = ['--data-dir', join(dataDir, 'leveldb'), '--object-store', objectStore, '--direct-rate-limits', 'off', '--allow-control'];
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
    let diskBaseline: ThroughputPhase | undefined;
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
      const objectsDir = objectStore.slice('fs:'.length).split('?')[0]!;
      baselineDir = join(resolve(objectsDir), '..', `baseline-${process.pid}`);
      baseline = await plainFileWrites(baselineDir, data, baselineBlocks);
    }
    say(`baseline: ${baseline.name}, ${fmtBytes(baseline.bytes)} in ${(baseline.durationMs / 1000).toFixed(2)} s: ${fmtRate(baseline.bytesPerSec)}`);
    if (baselineDir) {
      // Beside the baseline, not instead of it: the disk as the copy writes it (see baselines.ts).
      diskBaseline = await plainDirectWrites(join(baselineDir, 'direct'), data, baselineBlocks);
      say(diskBaseline
        ? `beside it: ${diskBaseline.name}, ${fmtBytes(diskBaseline.bytes)} in ${(diskBaseline.durationMs / 1000).toFixed(2)} s: ${fmtRate(diskBaseline.bytesPerSec)}`
        : 'beside it: no plain direct writes, this file system refuses O_DIRECT');
    }

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
    await addBlockCopyTimes(client, snapshots);
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
      ...(diskBaseline ? { diskBaseline } : {}),
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
    if (!server && !config.keep) {
      const removed = await client.removeMade();
      say(`removed what this run made on ${endpoint}: ${removed.volumes} volume(s), ${removed.snapshots} snapshot(s) (--keep leaves them)`);
      for (const f of removed.failures) say(`  could not remove ${f}`);
    }
    client.destroy();
    if (baselineDir) rmSync(baselineDir, { recursive: true, force: true });
    if (server) {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    } else {
      rmdirIfEmpty(dataDir); // where the fs baseline wrote its files, beside a server elsewhere
    }
  }
}

/** Each copy's per-block times inside the server, where it shows them (--allow-control). */
async function addBlockCopyTimes(client: PublicClient, snapshots: SnapshotRun[]): Promise<void> {
  const times = await client.blockCopyTimes();
  for (const s of snapshots) {
    const t = times?.[s.snapshotId];
    if (t && t.count > 0) s.blockCopyMs = { count: t.count, p50Ms: t.p50Ms, p90Ms: t.p90Ms, p99Ms: t.p99Ms, maxMs: t.maxMs };
  }
}

function rmdirIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not empty, or not there: keep it
  }
}
