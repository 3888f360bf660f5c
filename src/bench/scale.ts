/**
 * The `scale` preset: how copy time, freeze time (the CreateSnapshot call) and the server's memory
 * grow with volume size at fixed written data, with written data, with the number of snapshots in
 * a chain, and with concurrent copies. Expected: copy time grows with changed blocks only, never
 * with volume size; freeze time is flat; the server stays under 300 MB resident.
 */
import { statfsSync } from 'node:fs';
import { dataPlaneWrite } from './baselines.js';
import type { BlockData } from './block-data.js';
import { BLOCK, GiB, MiB, type BenchConfig } from './config.js';
import type { ProgressDisplay } from './progress-display.js';
import type { PublicClient } from './public-client.js';
import type { SnapshotRun } from './results.js';
import { fmtBytes, watchSnapshots, type Started } from './snapshot-watch.js';

export interface ScalePoint {
  /** The curve's variable: volume bytes, written bytes, snapshot number or concurrent copies. */
  x: number;
  /** Mean CreateSnapshot call time, ms. */
  freezeMs: number;
  /** Mean copy time (CreateSnapshot until completed), ms. */
  copyMs: number;
  /** Bytes copied per second, over the point's copies together. */
  bytesPerSec: number;
  /** The server's largest resident memory seen during the point, own server only. */
  peakRssBytes?: number;
}

export interface ScaleCurve {
  key: 'volume-size' | 'written' | 'chain' | 'concurrency';
  title: string;
  xLabel: string;
  points: ScalePoint[];
  /** What the machine allowed, where it cut the curve short. */
  note?: string;
}

export interface ScaleContext {
  client: PublicClient;
  config: BenchConfig;
  data: BlockData;
  display: ProgressDisplay;
  runStart: number;
  nextBase: () => number;
  /** Largest server RSS sampled between two performance.now() instants. */
  peakRss: (fromMs: number, toMs: number) => number | undefined;
  /** The folder whose disk holds the server's data (for how much may be written). */
  dataDir: string;
  snapshots: SnapshotRun[];
  say: (line: string) => void;
}

const VOLUME_SIZES = [1, 16, 256, 4096, 16384].map((g) => g * GiB);
const WRITTEN = [256, 512, 1024, 2048, 4096, 8192].map((m) => m * MiB);
const CONCURRENCY = [1, 2, 4, 8, 16];

async function snapshotOnce(ctx: ScaleContext, volumes: Array<{ id: string; bytes: number }>, group: string, position: number, show: boolean): Promise<{ runs: SnapshotRun[]; freezeMs: number }> {
  let freezeTotal = 0;
  const started: Started[] = await Promise.all(volumes.map(async (v) => {
    const sentAt = performance.now();
    const snapshotId = await ctx.client.createSnapshot(v.id);
    freezeTotal += performance.now() - sentAt;
    return { snapshotId, volumeId: v.id, group, position, kind: position === 0 ? 'full' as const : 'incremental' as const, bytesWritten: v.bytes, sentAt };
  }));
  const runs = await watchSnapshots(ctx.client, started, ctx.display, ctx.config.pollMs, ctx.runStart, show);
  ctx.snapshots.push(...runs);
  return { runs, freezeMs: freezeTotal / volumes.length };
}

function pointOf(ctx: ScaleContext, x: number, from: number, runs: SnapshotRun[], freezeMs: number): ScalePoint {
  const start = Math.min(...runs.map((s) => s.startMs));
  const end = Math.max(...runs.map((s) => s.startMs + s.durationMs));
  const peak = ctx.peakRss(from - ctx.runStart, performance.now() - ctx.runStart);
  return {
    x, freezeMs, copyMs: runs.reduce((n, s) => n + s.durationMs, 0) / runs.length,
    bytesPerSec: runs.reduce((n, s) => n + s.bytesWritten, 0) / ((end - start) / 1000),
    ...(peak !== undefined ? { peakRssBytes: peak } : {}),
  };
}

/** A fresh volume of `volumeBytes` with `written` bytes of its own blocks at offset 0. */
async function writtenVolume(ctx: ScaleContext, volumeBytes: number, written: number): Promise<{ id: string; bytes: number }> {
  const id = await ctx.client.createVolume({ sizeBytes: volumeBytes });
  await dataPlaneWrite(ctx.client, id, ctx.data, written, { base: ctx.nextBase() });
  return { id, bytes: written };
}

export async function runScale(ctx: ScaleContext): Promise<ScaleCurve[]> {
  const curves: ScaleCurve[] = [];
  const fixed = Math.min(ctx.config.sizeBytes, 64 * MiB);

  // One copy first, not recorded: the first copy after the server starts also pays its warm-up
  // (JIT, first files), which would tilt the first point of the first curve.
  const warm = await writtenVolume(ctx, GiB, fixed);
  await watchSnapshots(ctx.client, [{ snapshotId: await ctx.client.createSnapshot(warm.id), volumeId: warm.id, group: 'scale:warm-up', position: 0, kind: 'full', bytesWritten: fixed, sentAt: performance.now() }], ctx.display, ctx.config.pollMs, ctx.runStart, false);

  // Volume size, at fixed written data.
  const bySize: ScalePoint[] = [];
  for (const size of VOLUME_SIZES) {
    const from = performance.now();
    const v = await writtenVolume(ctx, size, fixed);
    const { runs, freezeMs } = await snapshotOnce(ctx, [v], 'scale:volume-size', 0, true);
    bySize.push(pointOf(ctx, size / GiB, from, runs, freezeMs));
    ctx.say(`scale, volume size ${fmtBytes(size)} (${fmtBytes(fixed)} written): freeze ${freezeMs.toFixed(1)} ms, copy ${runs[0]!.durationMs.toFixed(0)} ms`);
  }
  curves.push({ key: 'volume-size', title: `Copy time against volume size (${fmtBytes(fixed)} written)`, xLabel: 'volume size (GiB, log scale)', points: bySize });

  // Written data: as far as the disk allows. Every step's data stays (deleting it would set the
  // server purging and collecting under the steps that follow, and into their memory), so each
  // step needs room for its chunks and its uploaded objects (2x what it writes, and 10%) on top
  // of the earlier steps, and room is kept for the curves after it. Checking each step against
  // the space free at the start instead filled a disk with 38 GB free at 8 GiB (its steps hold
  // 2 x 15.75 GiB), and the server's writes failed.
  const later = 2 * (fixed * (1 + CONCURRENCY.reduce((n, c) => n + c, 0)) + ctx.config.chainLength * BLOCK);
  const freeNow = () => {
    try {
      const s = statfsSync(ctx.dataDir);
      return s.bavail * s.bsize;
    } catch {
      return Number.POSITIVE_INFINITY;
    }
  };
  // 256 MiB upwards, to --size; a --size below that is the curve's one point.
  const cap = ctx.config.sizeBytes;
  const steps = WRITTEN.filter((w) => w <= cap);
  const byWritten: ScalePoint[] = [];
  const sizes: number[] = [];
  let free = Number.POSITIVE_INFINITY; // before the last step tried
  for (const written of steps.length > 0 ? steps : [cap]) {
    free = freeNow();
    if (2.2 * written + later >= free) break;
    sizes.push(written);
    const from = performance.now();
    const v = await writtenVolume(ctx, Math.max(8 * GiB, written), written);
    const { runs, freezeMs } = await snapshotOnce(ctx, [v], 'scale:written', 0, true);
    byWritten.push(pointOf(ctx, written / MiB, from, runs, freezeMs));
    ctx.say(`scale, ${fmtBytes(written)} written: freeze ${freezeMs.toFixed(1)} ms, copy ${runs[0]!.durationMs.toFixed(0)} ms`);
  }
  const aboveSize = WRITTEN.filter((w) => w > cap);
  const noRoom = WRITTEN.filter((w) => w <= cap && !sizes.includes(w));
  const reasons = [
    ...(aboveSize.length ? [`${aboveSize.map((w) => fmtBytes(w)).join(', ')}: above --size ${fmtBytes(cap)}`] : []),
    ...(noRoom.length ? [`${noRoom.map((w) => fmtBytes(w)).join(', ')}: the disk had ${fmtBytes(free)} free, less than 2.2x the step and ${fmtBytes(later)} kept for the curves after`] : []),
  ];
  curves.push({
    key: 'written', title: 'Copy time against written data', xLabel: 'data written before the snapshot (MiB)', points: byWritten,
    ...(reasons.length ? { note: `not run: ${reasons.join('; ')}` } : {}),
  });

  // A chain of snapshots of one volume, one block changed between two.
  const chainLength = ctx.config.chainLength;
  const volume = await writtenVolume(ctx, 8 * GiB, fixed);
  const base = ctx.nextBase();
  const byChain: ScalePoint[] = [];
  const fixedBlocks = fixed / BLOCK;
  ctx.say(`scale, a chain of ${chainLength} snapshots of ${volume.id}, one 512 KiB block changed between two`);
  for (let k = 0; k < chainLength; k++) {
    const from = performance.now();
    if (k > 0) await ctx.client.write(volume.id, (k % fixedBlocks) * BLOCK, Buffer.from(ctx.data.block(base + (k % fixedBlocks), k)));
    const { runs, freezeMs } = await snapshotOnce(ctx, [{ id: volume.id, bytes: k === 0 ? fixed : BLOCK }], 'scale:chain', k, k === 0 || k === chainLength - 1 || (k + 1) % 100 === 0);
    byChain.push(pointOf(ctx, k + 1, from, runs, freezeMs));
  }
  curves.push({ key: 'chain', title: 'Copy and freeze time along a chain of snapshots (1 block changed each)', xLabel: 'snapshot number in the chain', points: byChain });

  // Concurrent copies.
  const byConcurrency: ScalePoint[] = [];
  for (const n of CONCURRENCY) {
    const from = performance.now();
    const volumes = [];
    for (let i = 0; i < n; i++) volumes.push(await writtenVolume(ctx, 8 * GiB, fixed));
    const { runs, freezeMs } = await snapshotOnce(ctx, volumes, `scale:concurrency-${n}`, 0, true);
    byConcurrency.push(pointOf(ctx, n, from, runs, freezeMs));
    ctx.say(`scale, ${n} concurrent copies of ${fmtBytes(fixed)}: ${(byConcurrency.at(-1)!.bytesPerSec / 1e6).toFixed(0)} MB/s aggregate`);
  }
  curves.push({ key: 'concurrency', title: `Aggregate copy throughput against concurrent copies (${fmtBytes(fixed)} each)`, xLabel: 'copies at once', points: byConcurrency });
  return curves;
}

