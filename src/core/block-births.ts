/**
 * What a block map shows (the console): every version a volume holds, as (block, birth) pairs,
 * and the snapshots of the volume by generation. One range scan of the epoch index, keys only,
 * so it costs what was written, never the volume's size: a 16 TiB volume with 20,000 written
 * blocks reads 20,000 keys.
 */
import type { ClassicLevel } from 'classic-level';
import * as keys from './keys.js';

type Db = ClassicLevel<Buffer, Buffer>;

/** Every stored version of a volume: `blocks[i]` was written in generation `births[i]`. Sorted by block, then birth. */
export interface BlockBirths {
  blocks: Uint32Array;
  births: Float64Array;
}

/** The versions born in generation `fromGen` or later (all of them by default). */
export async function volumeBlockBirths(db: Db, volumeId: string, fromGen = 0): Promise<BlockBirths> {
  const blks: number[] = [];
  const gens: number[] = [];
  // The epoch index sorts by birth, then block. Read in batches: one await per key costs more than the key.
  const all = keys.prefixRange(keys.epochPrefix(volumeId));
  const it = db.keys(fromGen > 0 ? { gte: keys.epochGenPrefix(volumeId, fromGen), lt: all.lt } : all);
  try {
    for (;;) {
      const batch = await it.nextv(8192);
      if (batch.length === 0) break;
      for (const key of batch) {
        const { birth, blk } = keys.parseEpochKey(key, volumeId);
        blks.push(blk);
        gens.push(birth);
      }
    }
  } finally {
    await it.close();
  }
  return sortedBirths(blks, gens);
}

/** Below 2^20 generations, (block, birth) packs into one exact double: a native numeric sort. */
const PACK = 2 ** 20;

/** The pairs sorted by block, then birth. */
function sortedBirths(blks: number[], gens: number[]): BlockBirths {
  const n = blks.length;
  const blocks = new Uint32Array(n);
  const births = new Float64Array(n);
  if (gens.every((g) => g < PACK)) {
    const packed = new Float64Array(n);
    for (let i = 0; i < n; i++) packed[i] = blks[i]! * PACK + gens[i]!;
    packed.sort();
    for (let i = 0; i < n; i++) {
      const blk = Math.floor(packed[i]! / PACK);
      blocks[i] = blk;
      births[i] = packed[i]! - blk * PACK;
    }
    return { blocks, births };
  }
  const order = blks.map((_, i) => i).sort((a, b) => blks[a]! - blks[b]! || gens[a]! - gens[b]!);
  for (let i = 0; i < n; i++) {
    blocks[i] = blks[order[i]!]!;
    births[i] = gens[order[i]!]!;
  }
  return { blocks, births };
}

/** The volume's existing snapshots, oldest first, with the generation each froze. */
export async function volumeSnapshotGens(db: Db, volumeId: string): Promise<Array<{ snapshotId: string; gen: number }>> {
  const out: Array<{ snapshotId: string; gen: number }> = [];
  for await (const [key, value] of db.iterator(keys.prefixRange(keys.snapshotByGenPrefix(volumeId)))) {
    out.push({ snapshotId: value.toString(), gen: keys.parseSnapshotByGenKey(key, volumeId) });
  }
  return out;
}

/** `older`'s versions born before `fromGen`, with `newer` (versions born from `fromGen` on), sorted by block then birth. */
export function mergeBirths(older: BlockBirths, fromGen: number, newer: BlockBirths): BlockBirths {
  const blks: number[] = [];
  const gens: number[] = [];
  for (let i = 0; i < older.blocks.length; i++) {
    if (older.births[i]! >= fromGen) continue;
    blks.push(older.blocks[i]!);
    gens.push(older.births[i]!);
  }
  for (let i = 0; i < newer.blocks.length; i++) {
    blks.push(newer.blocks[i]!);
    gens.push(newer.births[i]!);
  }
  return sortedBirths(blks, gens);
}

/**
 * The last scan of each of a few volumes, so a block map costs what changed since the last look.
 * Versions born before the volume's first generation no snapshot froze yet (lastSnapGen + 1) change
 * only when a snapshot is deleted or the volume purged: every one of them is seen by a snapshot,
 * so writes add versions instead of replacing them. While the volume's snapshot list is the same,
 * a look rescans only the generations from there on; a volume with no commit that added or removed
 * an epoch entry since (the store's per-volume count) is not rescanned at all.
 */
export interface CachedBirths {
  /** The volume's state and snapshot list when scanned: any change means a full scan. */
  snapshotsKey: string;
  /** The volume's generation, and its count of epoch-changing commits, read before the scan. */
  gen: number;
  changes: number;
  births: BlockBirths;
}

export class BirthsCache {
  private readonly entries = new Map<string, CachedBirths>();

  constructor(private readonly maxVolumes = 8) {}

  get(volumeId: string): CachedBirths | undefined {
    return this.entries.get(volumeId);
  }

  set(volumeId: string, entry: CachedBirths): void {
    this.entries.delete(volumeId);
    this.entries.set(volumeId, entry);
    if (this.entries.size > this.maxVolumes) this.entries.delete(this.entries.keys().next().value!);
  }
}
