/**
 * How restored volumes read what they have not loaded yet: from their backing snapshot, through
 * a source the copy engine provides (the object store, in practice). A first read of a block
 * also keeps it, as EBS does, so neither that reader nor the hydration fetches it again.
 */
import type { ClassicLevel } from 'classic-level';
import { CoreError } from './errors.js';
import * as keys from './keys.js';
import { loadsFromBacking, type BackingRef, type VolumeRecord } from './records.js';
import { readSnapshotRecord } from './snapshot-ops.js';

/** Where restored volumes load blocks they have not hydrated yet (the object store, in practice). */
export interface BackingSource {
  /**
   * Block `index` of snapshot `snapshotId`, or null when the snapshot holds zeros there. With
   * `into` (the caller's, at least a block long), the bytes go there and a view of it is returned.
   */
  readBlock(snapshotId: string, index: number, into?: Buffer): Promise<Buffer | null>;
  /** Its SHA-256 (hex), checked, when known without reading it (saves hashing it again). */
  digest?(snapshotId: string, index: number): string | undefined;
}

/** Blocks that first reads of restored volumes are storing in the background, at most. */
const MAX_READ_HYDRATIONS = 16;

type Db = ClassicLevel<Buffer, Buffer>;

/** Stores a block a read fetched, beneath any write (BlockStore.hydrate); keeps nothing of `content` once settled. */
export type KeepBlock = (index: number, content: Buffer, sha256?: string) => Promise<unknown>;

export class BackingReads {
  /** Background stores of blocks that reads fetched. */
  private keeping = 0;
  /** Buffers the background stores copy into (a read's own buffer is its caller's), reused. */
  private readonly keepBuffers: Buffer[] = [];

  constructor(private source: BackingSource | undefined) {}

  /** Set once the copy engine exists. */
  setSource(source: BackingSource): void {
    this.source = source;
  }

  /**
   * Block `blk` of the backing snapshot; null for its holes, and for every block once hydrated.
   * With `into`, read there (see BackingSource.readBlock).
   */
  read(backing: BackingRef, blk: number, into?: Buffer): Promise<Buffer | null> {
    if (!loadsFromBacking(backing)) return Promise.resolve(null); // hydrated: a block it lacks is a hole
    if (!this.source) {
      return Promise.reject(new CoreError('BACKING_UNAVAILABLE', `no backing source to read snapshot ${backing.snapshotId}`));
    }
    return this.source.readBlock(backing.snapshotId, blk, into);
  }

  /**
   * read(), keeping what it fetched through `keep` in the background (best effort: the
   * hydration stores it later). What is kept is a copy when the bytes are in the caller's `into`,
   * which is theirs again once this returns.
   */
  async readKeeping(backing: BackingRef, blk: number, keep: KeepBlock, into?: Buffer): Promise<Buffer | null> {
    const content = await this.read(backing, blk, into);
    if (content && this.keeping < MAX_READ_HYDRATIONS) {
      this.keeping++;
      const own = into && content.buffer === into.buffer ? this.keepBuffer(content) : undefined;
      keep(blk, own ?? content, this.source?.digest?.(backing.snapshotId, blk))
        .catch(() => undefined)
        .finally(() => {
          this.keeping--;
          if (own && this.keepBuffers.length < MAX_READ_HYDRATIONS) this.keepBuffers.push(own);
        });
    }
    return content;
  }

  private keepBuffer(content: Buffer): Buffer {
    const i = this.keepBuffers.findIndex((b) => b.length === content.length);
    const buffer = i >= 0 ? this.keepBuffers.splice(i, 1)[0]! : Buffer.allocUnsafeSlow(content.length);
    content.copy(buffer);
    return buffer;
  }
}

/**
 * True while a live volume restored from `snapshotId`, or a snapshot frozen from one before
 * its hydration ended, may still read blocks from it. Costs a pass over the volume records in
 * memory, then reads only the snapshots of the volumes restored from it.
 */
export async function readsFromSnapshot(db: Db, volumes: Iterable<VolumeRecord>, snapshotId: string): Promise<boolean> {
  for (const vol of volumes) {
    if (vol.backing?.snapshotId !== snapshotId) continue;
    if (vol.state === 'available' && loadsFromBacking(vol.backing)) return true;
    for await (const value of db.values(keys.prefixRange(keys.snapshotByGenPrefix(vol.id)))) {
      const snap = readSnapshotRecord(db, value.toString());
      if (snap?.backing?.snapshotId === snapshotId && loadsFromBacking(snap.backing)) return true;
    }
  }
  return false;
}

/** True when volume `id` holds a version of block `index` of its own (written or hydrated). */
export async function holdsBlock(db: Db, id: string, index: number): Promise<boolean> {
  const range = { gte: keys.blockPrefix(id, index), lt: keys.blockPrefix(id, index + 1), limit: 1 };
  for await (const _ of db.keys(range)) return true;
  return false;
}
