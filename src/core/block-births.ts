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
  // The epoch index sorts by birth, then block.
  for await (const key of db.keys(keys.prefixRange(keys.epochPrefix(volumeId)))) {
    const { birth, blk } = keys.parseEpochKey(key, volumeId);
    blks.push(blk);
    gens.push(birth);
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
