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

export async function volumeBlockBirths(db: Db, volumeId: string): Promise<BlockBirths> {
  const blks: number[] = [];
  const gens: number[] = [];
  // The epoch index sorts by birth, then block. Read in batches: one await per key costs more than the key.
  const it = db.keys(keys.prefixRange(keys.epochPrefix(volumeId)));
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
  // A stable sort by block keeps each block's births ascending.
  const order = blks.map((_, i) => i).sort((a, b) => blks[a]! - blks[b]!);
  return { blocks: Uint32Array.from(order, (i) => blks[i]!), births: Float64Array.from(order, (i) => gens[i]!) };
}

/** The volume's existing snapshots, oldest first, with the generation each froze. */
export async function volumeSnapshotGens(db: Db, volumeId: string): Promise<Array<{ snapshotId: string; gen: number }>> {
  const out: Array<{ snapshotId: string; gen: number }> = [];
  for await (const [key, value] of db.iterator(keys.prefixRange(keys.snapshotByGenPrefix(volumeId)))) {
    out.push({ snapshotId: value.toString(), gen: keys.parseSnapshotByGenKey(key, volumeId) });
  }
  return out;
}

/**
 * The last scan of each of a few volumes, reused while the volume has taken no new version: the
 * epoch index changes only when a version is born or freed, and then the volume's generation,
 * its count of versions since the last snapshot, or its list of snapshots changes. A scan is at
 * most `maxAgeMs` old, for the rare mix of changes that leaves all three as they were (a trim
 * freeing one version and a write adding another between two looks). Restored volumes still
 * loading are never cached: hydration adds versions without changing any of them.
 */
export class BirthsCache {
  private readonly entries = new Map<string, { stamp: string; at: number; births: BlockBirths }>();

  constructor(
    private readonly maxVolumes = 8,
    private readonly maxAgeMs = 2000,
  ) {}

  get(volumeId: string, stamp: string | undefined): BlockBirths | undefined {
    const e = this.entries.get(volumeId);
    if (!e || stamp === undefined || e.stamp !== stamp || performance.now() - e.at > this.maxAgeMs) return undefined;
    return e.births;
  }

  set(volumeId: string, stamp: string | undefined, births: BlockBirths): void {
    if (stamp === undefined) return;
    this.entries.delete(volumeId);
    this.entries.set(volumeId, { stamp, at: performance.now(), births });
    if (this.entries.size > this.maxVolumes) this.entries.delete(this.entries.keys().next().value!);
  }
}
