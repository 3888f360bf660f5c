/**
 * Deleting a volume frees what only the live volume could see; what its snapshots still see stays
 * until they go (EBS: snapshots outlive their volume).
 *
 * Per block, in one batch each (so a crash between batches leaves a consistent map, and the
 * cursor in the volume record says where to resume):
 *  - with snapshots: the newest version is freed if born after the last snapshot; otherwise it
 *    dies now (a deadlist entry at the volume's generation), exactly as if overwritten;
 *  - without snapshots: every version is freed.
 * When nothing is left to keep, the indexes and the volume record go too.
 */
import type { ClassicLevel } from 'classic-level';
import type { ChunkStore } from './chunk-store.js';
import * as keys from './keys.js';
import { encodeJson, type VolumeRecord } from './records.js';
import { stageFreeVersion } from './snapshot-ops.js';
import { WriteTx } from './write-tx.js';

type Db = ClassicLevel<Buffer, Buffer>;

/** Blocks handled per batch. */
const BLOCKS_PER_BATCH = 512;

export interface PurgeDeps {
  db: Db;
  chunks: ChunkStore;
  commit(tx: WriteTx): Promise<void>;
}

/** Runs the purge of a deleted volume to its end. Call under the mutation lock. */
export async function purgeVolume(deps: PurgeDeps, start: VolumeRecord): Promise<VolumeRecord | undefined> {
  let vol = { ...start };
  const keepSnapshots = vol.lastSnapId !== null;
  for (;;) {
    const batch = await readBlocks(deps.db, vol.id, vol.purgeCursor ?? 0, BLOCKS_PER_BATCH);
    const tx = new WriteTx();
    for (const { blk, births } of batch.blocks) {
      const newest = births[0]!;
      if (!keepSnapshots) {
        for (const birth of births) await stageFreeVersion(deps.db, deps.chunks, tx, vol.id, blk, birth);
      } else if (newest > vol.lastSnapGen) {
        await stageFreeVersion(deps.db, deps.chunks, tx, vol.id, blk, newest);
      } else {
        tx.put(keys.deadKey(vol.id, vol.gen, newest, blk), Buffer.alloc(0));
      }
    }
    if (batch.next === undefined) {
      if (!keepSnapshots) {
        await stageDropIndexes(deps.db, tx, vol.id);
        tx.del(keys.volumeKey(vol.id));
        await deps.commit(tx);
        return undefined;
      }
      vol = { ...vol, purging: false };
      delete vol.purgeCursor;
    } else {
      vol = { ...vol, purgeCursor: batch.next };
    }
    tx.put(keys.volumeKey(vol.id), encodeJson(vol));
    await deps.commit(tx);
    if (batch.next === undefined) return vol;
  }
}

/** Deletes the epoch index, deadlist and snapshot index of a volume that keeps nothing. */
async function stageDropIndexes(db: Db, tx: WriteTx, vol: string): Promise<void> {
  for (const prefix of [keys.epochPrefix(vol), keys.deadPrefix(vol), keys.snapshotByGenPrefix(vol)]) {
    for await (const key of db.keys(keys.prefixRange(prefix))) tx.del(key);
  }
}

/** Up to `max` written blocks from `fromBlk` on, each with its versions' births, newest first. */
async function readBlocks(db: Db, vol: string, fromBlk: number, max: number) {
  const blocks: Array<{ blk: number; births: number[] }> = [];
  let next: number | undefined;
  for await (const key of db.keys({ gte: keys.blockPrefix(vol, fromBlk), lt: keys.prefixEnd(keys.versionPrefix(vol)) })) {
    const { blk, birth, seq } = keys.parseVersionKey(key, vol);
    if (seq !== 0) continue;
    const last = blocks[blocks.length - 1];
    if (last?.blk === blk) {
      last.births.push(birth);
    } else if (blocks.length === max) {
      next = blk;
      break;
    } else {
      blocks.push({ blk, births: [birth] });
    }
  }
  return { blocks, next };
}
