/**
 * What a bench run does to its volumes besides the first write: change blocks between snapshots,
 * keep writing while a snapshot is pending, and read a restored volume back.
 */
import type { BlockData } from './block-data.js';
import { BLOCK } from './config.js';
import { PublicClient, pool } from './public-client.js';
import type { ThroughputPhase } from './results.js';

export type BenchVolume = { id: string; base: number };

/** Changes `rate` of each volume's written blocks, spread evenly, at least one: blocks of version `version`. */
export async function changeBlocks(client: PublicClient, volumes: BenchVolume[], dirty: Set<number>[], data: BlockData, sizeBlocks: number, rate: number, version: number): Promise<void> {
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
export function writeWhilePending(client: PublicClient, volumes: BenchVolume[], dirty: Set<number>[], data: BlockData, sizeBlocks: number, position: number) {
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

export function mergePhases(a: ThroughputPhase | undefined, b: ThroughputPhase): ThroughputPhase {
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
export async function restoreRead(client: PublicClient, volumeId: string, bytes: number): Promise<ThroughputPhase> {
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
    name: 'restore read', description: `GET /data/volumes/${volumeId} of a volume restored from the snapshot (lazy load), 8 MiB per request, 4 at a time, each read into a reused buffer and dropped`,
    bytes: done, durationMs, bytesPerSec: done / (durationMs / 1000), points, latenciesMs, opBytes: step,
  };
}
