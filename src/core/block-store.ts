/**
 * The storage core: volumes as content-addressed chunks in LevelDB, with O(1) copy-on-write
 * snapshots. It knows nothing of HTTP, XML or object stores.
 */
import { ClassicLevel } from 'classic-level';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BackingReads, holdsBlock, readsFromSnapshot, type BackingSource } from './backing-reads.js';
import { knownVersion, readRange, LIVE, type KnownVersion, type ReadView } from './block-reader.js';
import { BlockWriter, FastAppends, type WriterContext } from './block-writer.js';
import { loadChunkHasher, type ChunkHasher } from './chunk-id.js';
import { RefcountChunkStore } from './chunk-store.js';
import type { ChunkBytes } from './chunk-bytes.js';
import { LevelChunkBytes } from './level-chunk-bytes.js';
import { PackChunkBytes } from './pack-chunk-bytes.js';
import { CoreError, invalidArgument, snapshotNotFound, volumeNotFound } from './errors.js';
import { runFsck, type FsckReport } from './fsck.js';
import { HeadCache } from './head-cache.js';
import { newSnapshotId, newVolumeId } from './ids.js';
import * as keys from './keys.js';
import { Mutex, type LockTimes } from './mutex.js';
import { RecordStore, type RecordPut } from './record-store.js';
import { decodeJson, encodeJson, loadsFromBacking, type BackingRef, type SnapshotRecord, type VolumeRecord } from './records.js';
import {
  changedBlocks,
  readSnapshotRecord,
  blocksBornBetween,
  stageFreeze,
  stageSnapshotDelete,
  visibleBlocks,
  type SnapshotBlock,
} from './snapshot-ops.js';
import { volumeExtents, type Extent } from './extents.js';
import { BirthsCache, mergeBirths, volumeBlockBirths, volumeSnapshotGens, type BlockBirths } from './block-births.js';
import { checkRange, checkVolumeGeometry, DEFAULT_BLOCK_SIZE, MAX_VOLUME_SIZE } from './geometry.js';
import { allocatedBlocks } from './version-map.js';
import { purgeVolume } from './volume-purge.js';
import { WriteTx } from './write-tx.js';
import { isZero } from './zero.js';

export { DEFAULT_BLOCK_SIZE, GiB, MAX_VOLUME_SIZE, MIN_VOLUME_SIZE, TiB } from './geometry.js';
export type { Extent } from './extents.js';
export type { BackingSource } from './backing-reads.js';
export type { BlockBirths } from './block-births.js';

export interface BlockStoreOptions {
  /** fsync every acknowledged mutation (survives a machine crash, at a latency cost). */
  sync?: boolean;
  /**
   * Where chunk bytes live in a new data directory: append-only pack files (`pack`, the
   * default) or a second LevelDB (`level`, the layout before pack files). An existing directory
   * keeps the layout it was made with.
   */
  chunkBytes?: 'pack' | 'level';
  /** Size at which a pack file is closed and a new one started (default 256 MiB). */
  packBytes?: number;
  /**
   * Memtable size of the `level` chunk database: big sequential writes want it large, memory
   * wants it small (LevelDB holds up to two). Default 32 MiB.
   */
  writeBufferSize?: number;
  /** Newest-version heads cached for the write path, over all volumes. */
  headCacheBlocks?: number;
  /** A version holding more deltas than this is merged into a new chunk. */
  maxDeltas?: number;
  /** ...or more delta bytes than this fraction of the block size. */
  maxDeltaFraction?: number;
  backing?: BackingSource;
  /** Replaces the chunk hash (tests force collisions with it). */
  hasher?: ChunkHasher;
  /** Sweep zero-refcount chunks this long after they were queued; 0 leaves it to gc(). */
  sweepDelayMs?: number;
}

export interface SnapshotBlockReader {
  /** Block `index` as the listing named it (with its birth): its digest if known, and its content. */
  version(index: number, birth: number): KnownVersion;
}


export interface CreateVolumeInput {
  id?: string;
  size: number;
  blockSize?: number;
  backing?: BackingRef;
  records?: RecordPut[];
}

/**
 * Volumes and snapshots, with this durability contract:
 *
 * Every method that changes state resolves only once its change is one atomic LevelDB batch in
 * the write-ahead log (chunk bytes, which live beside it, are written before the batch that
 * references them). A process killed at any moment (kill -9) loses nothing that was
 * acknowledged and never shows half of a write, a snapshot or a delete. With `sync: true` each
 * batch is also fsynced, so acknowledged changes survive a machine crash too; without it,
 * `flush()` is the barrier that makes everything acknowledged before it survive a machine crash
 * (a disk with a volatile write cache, as dm-thin documents its model).
 */
export class BlockStore {
  private readonly lock = new Mutex({ timed: true });
  private readonly heads: HeadCache;
  private readonly volumes = new Map<string, VolumeRecord>();
  private readonly chunks: RefcountChunkStore;
  readonly records: RecordStore;
  /** What the write path works with; built once (small writes must not allocate it each time). */
  private readonly writer: WriterContext;
  private sweepTimer: NodeJS.Timeout | undefined;
  /** Small writes committed without the lock (group commit). */
  private readonly fast: FastAppends;
  private closed = false;
  /** The latest space reclamation, run one at a time and awaited by `close`. */
  private compacting: Promise<void> = Promise.resolve();
  private readonly backing: BackingReads;
  private readonly births = new BirthsCache();
  /** Per volume: commits that added or removed an epoch-index entry (what a cached block-births scan is keyed on). */
  private readonly epochChanges = new Map<string, number>();

  private constructor(
    /** Volumes, versions, indexes, refcounts and records: small values, one atomic batch per change. */
    private readonly db: ClassicLevel<Buffer, Buffer>,
    /** Chunk bytes, by sequence number (see chunk-bytes.ts). */
    private readonly chunkBytes: ChunkBytes,
    hasher: ChunkHasher,
    private readonly opts: BlockStoreOptions,
  ) {
    this.opts = { ...opts };
    this.backing = new BackingReads(opts.backing);
    this.heads = new HeadCache(opts.headCacheBlocks ?? 262_144);
    this.chunks = new RefcountChunkStore(db, chunkBytes, hasher, opts.sync ?? false);
    this.records = new RecordStore(db, (fn) => this.exclusive(fn), (tx) => this.commit(tx));
    this.writer = {
      db,
      chunks: this.chunks,
      heads: this.heads,
      readBacking: (vol, blk) => this.readBacking(vol.backing!, blk),
      maxDeltas: opts.maxDeltas ?? 32,
      maxDeltaFraction: opts.maxDeltaFraction ?? 0.25,
      epochChanged: (volumeId) => this.epochChanges.set(volumeId, (this.epochChanges.get(volumeId) ?? 0) + 1),
    };
    this.fast = new FastAppends(this.writer, opts.sync ?? false);
  }

  /**
   * Opens (creating if needed) the store in `dir`: the LevelDB `dir/meta`, and the chunk bytes
   * in pack files under `dir/packs` (or in the LevelDB `dir/chunks`, see `chunkBytes`).
   */
  static async open(dir: string, opts: BlockStoreOptions = {}): Promise<BlockStore> {
    mkdirSync(dir, { recursive: true });
    const level = (name: string, writeBufferSize: number) =>
      new ClassicLevel<Buffer, Buffer>(join(dir, name), { keyEncoding: 'buffer', valueEncoding: 'buffer', writeBufferSize });
    const db = level('meta', 8 * 1024 * 1024);
    await openLevel(db, dir);
    const sync = opts.sync ?? false;
    let chunkBytes: ChunkBytes;
    try {
      const layout = existsSync(join(dir, 'chunks')) ? 'level' : existsSync(join(dir, 'packs')) ? 'pack' : opts.chunkBytes ?? 'pack';
      if (layout === 'level') {
        const chunkDb = level('chunks', opts.writeBufferSize ?? 32 * 1024 * 1024);
        await openLevel(chunkDb, dir);
        chunkBytes = new LevelChunkBytes(chunkDb, sync);
      } else {
        chunkBytes = new PackChunkBytes(db, join(dir, 'packs'), sync, opts.packBytes);
      }
    } catch (err) {
      await db.close();
      throw err;
    }
    const store = new BlockStore(db, chunkBytes, opts.hasher ?? (await loadChunkHasher()), opts);
    await store.chunks.recover();
    for await (const value of db.values(keys.prefixRange(keys.volumePrefix()))) {
      const vol = decodeJson<VolumeRecord>(value);
      store.volumes.set(vol.id, vol);
    }
    // A crash mid-purge left a cursor: finish the job.
    for (const vol of store.volumes.values()) {
      if (vol.purging) await store.lock.run(() => store.purge(vol));
    }
    return store;
  }

  // ---- volumes ----

  async createVolume(input: CreateVolumeInput): Promise<VolumeRecord> {
    const blockSize = input.blockSize ?? DEFAULT_BLOCK_SIZE;
    checkVolumeGeometry(input.size, blockSize);
    return this.exclusive(async () => {
      const id = input.id ?? newVolumeId();
      if (this.volumes.has(id)) throw new CoreError('VOLUME_EXISTS', `The volume '${id}' already exists.`);
      const vol: VolumeRecord = {
        id,
        size: input.size,
        blockSize,
        gen: 1,
        lastSnapGen: 0,
        lastSnapId: null,
        dirtyBlocks: 0,
        state: 'available',
        ...(input.backing ? { backing: input.backing } : {}),
        createdAt: new Date().toISOString(),
      };
      const tx = new WriteTx();
      tx.put(keys.volumeKey(id), encodeJson(vol));
      this.records.stage(tx, input.records);
      tx.afterCommit(() => this.volumes.set(id, vol));
      await this.commit(tx);
      return { ...vol };
    });
  }

  /** A live (not deleted) volume; throws VOLUME_NOT_FOUND otherwise. */
  getVolume(id: string): VolumeRecord {
    const vol = this.volumes.get(id);
    if (!vol || vol.state !== 'available') throw volumeNotFound(id);
    return { ...vol };
  }

  listVolumes(): VolumeRecord[] {
    return [...this.volumes.values()].filter((v) => v.state === 'available').map((v) => ({ ...v }));
  }

  /**
   * Grows a volume. Nothing moves: blocks past the old end were never written and read as
   * zeros, and the old last block's tail was stored as zeros. Snapshots keep their size.
   */
  async resizeVolume(id: string, size: number, records?: RecordPut[]): Promise<VolumeRecord> {
    return this.exclusive(async () => {
      const vol = { ...this.getVolume(id) };
      if (!Number.isSafeInteger(size) || size < vol.size || size > MAX_VOLUME_SIZE) {
        throw invalidArgument(`a volume can only grow, up to 64 TiB: ${vol.size} -> ${size} bytes`);
      }
      vol.size = size;
      const tx = new WriteTx();
      this.stageVolume(tx, vol);
      this.records.stage(tx, records);
      await this.commit(tx);
      return { ...vol };
    });
  }

  /** Frees what only the live volume sees; its snapshots stay readable. */
  async deleteVolume(id: string, records?: RecordPut[]): Promise<void> {
    await this.exclusive(async () => {
      const vol = { ...this.getVolume(id), state: 'deleted' as const, purging: true };
      const tx = new WriteTx();
      tx.put(keys.volumeKey(id), encodeJson(vol));
      this.records.stage(tx, records);
      await this.commit(tx);
      this.heads.dropVolume(id);
      await this.purge(vol);
    });
  }

  async write(id: string, offset: number, data: Buffer): Promise<void> {
    checkRange(this.getVolume(id), offset, data.length);
    if (data.length === 0) return;
    // Whole blocks are hashed outside the lock (the first few before it is queued, the rest while
    // it is waited for), and the lock is queued in this call, so writes apply in call order: under
    // contention the lock then covers only the pack write and the batch.
    const digests = wholeBlockDigests(this.getVolume(id), offset, data);
    digests.catch(() => undefined); // awaited below; a fast append never needs it
    const fast = await this.lock.run(async () => {
      this.checkHealthy();
      const quick = this.fast.tryAppend(this.getVolume(id), offset, data);
      if (quick) return quick;
      await this.drain();
      await this.writeSlow(id, offset, data, await digests);
      return undefined;
    });
    await fast?.committed;
  }

  private async writeSlow(id: string, offset: number, data: Buffer, digests: Map<number, Buffer>): Promise<void> {
    const vol = { ...this.getVolume(id) };
    const tx = new WriteTx();
    const writer = new BlockWriter(this.writer, vol, tx);
    const { blockSize } = vol;
    for (let at = offset; at < offset + data.length; ) {
      const blk = Math.floor(at / blockSize);
      const end = Math.min(offset + data.length, (blk + 1) * blockSize);
      await writer.write(blk, at - blk * blockSize, data.subarray(at - offset, end - offset), digests.get(blk));
      at = end;
    }
    if (writer.volumeChanged) this.stageVolume(tx, vol);
    await this.commit(tx);
  }

  /**
   * Writes zeros: whole blocks become holes (or zero tombstones), never chunks, without
   * allocating them (a 4 GiB discard costs no memory), in batches of whole blocks.
   */
  async writeZeroes(id: string, offset: number, length: number): Promise<void> {
    const vol = this.getVolume(id);
    checkRange(vol, offset, length);
    const B = vol.blockSize;
    const firstWhole = Math.ceil(offset / B);
    const endWhole = Math.floor(Math.min(offset + length, vol.size) / B);
    if (endWhole <= firstWhole) return this.write(id, offset, Buffer.alloc(length));
    if (offset < firstWhole * B) await this.write(id, offset, Buffer.alloc(firstWhole * B - offset));
    const zero = Buffer.alloc(B); // shared and never written to: the writer does not modify its input
    // Holes are already zeros: only blocks holding data need a zero version (all, if restored).
    const allocated = loadsFromBacking(vol.backing) ? undefined : [...(await allocatedBlocks(this.db, id, firstWhole, endWhole - 1))].sort((a, b) => a - b);
    const count = allocated ? allocated.length : endWhole - firstWhole;
    for (let i = 0; i < count; i += 256) {
      const group = Array.from({ length: Math.min(256, count - i) }, (_, j) => (allocated ? allocated[i + j]! : firstWhole + i + j));
      await this.exclusive(async () => {
        const current = { ...this.getVolume(id) };
        const tx = new WriteTx();
        const writer = new BlockWriter(this.writer, current, tx);
        for (const blk of group) await writer.write(blk, 0, zero);
        if (writer.volumeChanged) this.stageVolume(tx, current);
        await this.commit(tx);
      });
    }
    if (endWhole * B < offset + length) await this.write(id, endWhole * B, Buffer.alloc(offset + length - endWhole * B));
  }

  /** With `into`, read there (see readRange: the caller's again once this settles). */
  async read(id: string, offset: number, length: number, into?: Buffer): Promise<Buffer> {
    const vol = this.getVolume(id);
    checkRange(vol, offset, length);
    if (!loadsFromBacking(vol.backing)) return readRange(this.readerContext(), this.liveView(vol), offset, length, into);
    // A restored volume keeps what a first read fetched from its snapshot (backing-reads.ts).
    const ctx = {
      ...this.readerContext(),
      readBacking: (b: BackingRef, blk: number, place?: Buffer) =>
        this.backing.readKeeping(b, blk, (i, content, sha) => this.hydrate(id, i, content, sha), place),
    };
    return readRange(ctx, this.liveView(vol), offset, length, into);
  }

  /**
   * Which parts of [offset, offset + length) hold data and which are holes that read as zeros
   * (nothing stored). A restored volume's unwritten blocks count as data while it still loads
   * from its snapshot: they may hold the snapshot's bytes.
   */
  async allocation(id: string, offset: number, length: number): Promise<Extent[]> {
    const vol = this.getVolume(id);
    checkRange(vol, offset, length);
    return volumeExtents(this.db, vol, offset, length);
  }

  /** Makes everything acknowledged before it durable against a machine crash. */
  async flush(): Promise<void> {
    await this.exclusive(async () => {
      await this.chunkBytes.flush();
      await this.db.put(keys.flushKey(), Buffer.from(new Date().toISOString()), { sync: true });
    });
  }

  /**
   * Stores block `index` of a restored volume, read from its backing snapshot, beneath any write.
   * `sha256` (hex), if given, is the caller's checked digest of `content`.
   */
  async hydrate(id: string, index: number, content: Buffer, sha256?: string): Promise<boolean> {
    return this.exclusive(async () => {
      const vol = { ...this.getVolume(id) };
      if (!vol.backing) throw invalidArgument(`volume ${id} has no backing snapshot`);
      const tx = new WriteTx();
      const digest = sha256 === undefined ? undefined : Buffer.from(sha256, 'hex');
      const stored = await new BlockWriter(this.writer, vol, tx).hydrate(index, content, digest);
      await this.commit(tx);
      return stored;
    });
  }

  /**
   * Records that a restored volume holds every block of its backing snapshot (its hydration is
   * over), in one batch with `records`: from then on neither it nor its later snapshots read
   * from that snapshot, which may then be deleted (a clone flattened, as Ceph says).
   */
  async markHydrated(id: string, records?: RecordPut[]): Promise<void> {
    if (!records?.length && !loadsFromBacking(this.volumes.get(id)?.backing)) return; // nothing to write
    await this.exclusive(async () => {
      const current = this.volumes.get(id);
      const tx = new WriteTx();
      if (current?.state === 'available' && loadsFromBacking(current.backing)) {
        this.stageVolume(tx, { ...current, backing: { ...current.backing, hydrated: true } });
      }
      this.records.stage(tx, records);
      await this.commit(tx);
    });
  }

  /**
   * True while a live volume restored from `snapshotId`, or a snapshot frozen from one before
   * its hydration ended, may still read blocks from it. Costs a pass over the volume records in
   * memory, then reads only the snapshots of the volumes restored from it.
   */
  readsFromSnapshot(snapshotId: string): Promise<boolean> {
    return readsFromSnapshot(this.db, this.volumes.values(), snapshotId);
  }

  /** True when the volume holds a version of block `index` of its own (written or hydrated). */
  async holdsBlock(id: string, index: number): Promise<boolean> {
    this.getVolume(id);
    return holdsBlock(this.db, id, index);
  }

  // ---- snapshots ----

  /** Freezes one volume: O(1) whatever its size or written data. */
  async snapshot(volumeId: string, options: { id?: string; records?: RecordPut[] } = {}): Promise<SnapshotRecord> {
    const [snap] = await this.snapshotMany([{ volumeId, ...(options.id ? { id: options.id } : {}) }], options.records);
    return snap!;
  }

  /**
   * Freezes several volumes at one instant, in one batch: crash-consistent across them.
   * `recordsFor` may add records built from the frozen snapshots to that same batch.
   */
  async snapshotMany(
    targets: Array<{ volumeId: string; id?: string }>,
    records?: RecordPut[],
    recordsFor?: (snaps: SnapshotRecord[]) => RecordPut[],
  ): Promise<SnapshotRecord[]> {
    return this.exclusive(async () => {
      const tx = new WriteTx();
      const now = new Date();
      const seen = new Set<string>();
      const snaps = targets.map((t) => {
        if (seen.has(t.volumeId)) throw invalidArgument(`volume ${t.volumeId} listed twice`);
        seen.add(t.volumeId);
        const vol = { ...this.getVolume(t.volumeId) };
        const snap = stageFreeze(tx, vol, t.id ?? newSnapshotId(), now);
        tx.afterCommit(() => this.volumes.set(vol.id, vol));
        return snap;
      });
      for (const s of snaps) {
        if (this.db.getSync(keys.snapshotKey(s.id))) throw new CoreError('SNAPSHOT_EXISTS', `The snapshot '${s.id}' already exists.`);
      }
      this.records.stage(tx, records);
      this.records.stage(tx, recordsFor?.(snaps));
      await this.commit(tx);
      return snaps;
    });
  }

  async getSnapshot(id: string): Promise<SnapshotRecord> {
    const snap = readSnapshotRecord(this.db, id);
    if (!snap) throw snapshotNotFound(id);
    return snap;
  }

  async listSnapshots(volumeId?: string): Promise<SnapshotRecord[]> {
    const out: SnapshotRecord[] = [];
    for await (const value of this.db.values(keys.prefixRange(keys.snapshotPrefix()))) {
      const snap = decodeJson<SnapshotRecord>(value);
      if (volumeId === undefined || snap.volumeId === volumeId) out.push(snap);
    }
    return out;
  }

  /** How long mutations waited for the core's lock and held it, since the store opened. */
  lockTimes(): LockTimes {
    return this.lock.times();
  }

  /** Frees only what no other snapshot, and not the live volume, still sees. */
  async deleteSnapshot(id: string, records?: RecordPut[]): Promise<{ freedVersions: number }> {
    return this.exclusive(async () => {
      const snap = await this.getSnapshot(id);
      const current = this.volumes.get(snap.volumeId);
      if (!current) throw new CoreError('CORRUPTION', `snapshot ${id} names missing volume ${snap.volumeId}`);
      const vol = { ...current };
      const tx = new WriteTx();
      const result = await stageSnapshotDelete(this.db, this.chunks, tx, vol, snap);
      this.records.stage(tx, records);
      tx.afterCommit(() => this.volumes.set(vol.id, vol));
      // A rebased version may be a block's newest: its cached head is stale.
      if (result.rebasedVersions > 0) tx.afterCommit(() => this.heads.dropVolume(vol.id));
      await this.commit(tx);
      if (result.volumeOrphaned) await this.purge({ ...vol, purging: true });
      return { freedVersions: result.freedVersions };
    });
  }

  async readSnapshot(id: string, offset: number, length: number): Promise<Buffer> {
    const snap = await this.getSnapshot(id);
    checkRange({ id: snap.volumeId, size: snap.volumeSize }, offset, length);
    return readRange(this.readerContext(), snapshotView(snap), offset, length);
  }


  /** A reader of one snapshot's blocks for bulk streaming: pass the births its listings give. */
  /** Reads the blocks a listing of the snapshot gave (index and birth), for bulk streaming. */
  async snapshotReader(id: string): Promise<SnapshotBlockReader> {
    const view = snapshotView(await this.getSnapshot(id));
    const ctx = this.readerContext();
    return {
      version: (index, birth) => knownVersion(ctx, view, index, birth),
    };
  }

  /**
   * The snapshot's blocks: `changed` lists those new since its parent snapshot (zero flagged:
   * the block became zeros), `all` those with a local version visible to it. Blocks of a restored
   * volume that were never written or hydrated are in its backing snapshot, not listed here.
   */
  async *listSnapshotBlocks(id: string, which: 'changed' | 'all'): AsyncGenerator<SnapshotBlock> {
    const snap = await this.getSnapshot(id);
    yield* which === 'changed' ? changedBlocks(this.db, snap) : visibleBlocks(this.db, snap);
  }

  /**
   * For two snapshots of one volume, both still held here: the blocks whose content may differ
   * between them (blocksBornBetween). Undefined when either is not held or they are of two volumes.
   */
  async blocksChangedBetween(firstId: string, secondId: string): Promise<Uint32Array | undefined> {
    const a = readSnapshotRecord(this.db, firstId);
    const b = readSnapshotRecord(this.db, secondId);
    if (!a || !b || a.volumeId !== b.volumeId) return undefined;
    return blocksBornBetween(this.db, a, b);
  }

  /**
   * Every version a volume (live, or deleted but held for its snapshots) stores, as (block, birth):
   * what block maps draw. Costs what was written, never the volume's size.
   */
  async blockBirths(volumeId: string): Promise<BlockBirths> {
    const vol = this.volumes.get(volumeId);
    // A restored volume still loading gains versions (generation 0) with nothing else changing.
    if (!vol || loadsFromBacking(vol.backing)) return volumeBlockBirths(this.db, volumeId);
    const { gen, lastSnapGen } = vol;
    // Read before the scans: a commit during them bumps it, and the next look rescans.
    const changes = this.epochChanges.get(volumeId) ?? 0;
    const snapshotsKey = `${vol.state}|${(await volumeSnapshotGens(this.db, volumeId)).map((x) => `${x.snapshotId},`).join('')}`;
    const cached = this.births.get(volumeId);
    // A new snapshot (the list grew at its end) changes no version; a deleted one frees some.
    if (!cached || !snapshotsKey.startsWith(cached.snapshotsKey)) {
      const births = await volumeBlockBirths(this.db, volumeId);
      this.births.set(volumeId, { snapshotsKey, gen, changes, births });
      return births;
    }
    // Writes add or drop epoch entries only through the writer, which counts them: none, no rescan.
    if (cached.changes === changes) return cached.births;
    const fromGen = Math.min(cached.gen, lastSnapGen + 1);
    const births = mergeBirths(cached.births, fromGen, await volumeBlockBirths(this.db, volumeId, fromGen));
    this.births.set(volumeId, { snapshotsKey, gen, changes, births });
    return births;
  }

  /** The volume's existing snapshots, oldest first, with the generation each froze. */
  async snapshotGens(volumeId: string): Promise<Array<{ snapshotId: string; gen: number }>> {
    return volumeSnapshotGens(this.db, volumeId);
  }

  /** Where restored volumes read blocks they hold no version of (set once the copy engine exists). */
  setBackingSource(source: BackingSource): void {
    this.backing.setSource(source);
  }

  // ---- maintenance ----

  /**
   * Sweeps chunks whose refcount dropped to zero, then reclaims the space they held (pack
   * rewrites copy outside the lock: see pack-chunk-bytes.ts). Returns how many were deleted.
   */
  async gc(): Promise<number> {
    const swept = await this.exclusive(() => this.chunks.sweep());
    const compacting = this.compacting.catch(() => undefined).then(() => this.chunkBytes.compact?.((fn) => this.exclusive(fn)));
    this.compacting = compacting;
    await compacting;
    return swept;
  }

  /** Mark and sweep check of the whole store (read-only). */
  async fsck(): Promise<FsckReport> {
    return this.exclusive(() => runFsck(this.db, this.chunkBytes));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.sweepTimer);
    await this.compacting.catch(() => undefined); // its writes use the packs' descriptors
    await this.lock.run(() => this.drain());
    await this.chunkBytes.close();
    await this.db.close();
  }

  // ---- internals ----

  /** Runs a mutation alone: after the lock, and after every fast write still in flight. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.lock.run(async () => {
      await this.drain();
      this.checkHealthy();
      return fn();
    });
  }

  private drain(): Promise<void> {
    return this.fast.drain();
  }

  private checkHealthy(): void {
    if (this.fast.failure) throw new CoreError('STORE_FAILED', `an earlier write failed, the store accepts no more: ${String(this.fast.failure)}`);
  }

  private async commit(tx: WriteTx): Promise<void> {
    if (this.closed) throw new CoreError('STORE_CLOSED', 'the block store is closed');
    this.chunks.seal(tx);
    await tx.prepared();
    if (tx.ops.length > 0) await this.db.batch(tx.ops, { sync: this.opts.sync ?? false });
    tx.committed();
    if (tx.queuedChunks) this.scheduleSweep();
  }

  private scheduleSweep(): void {
    const delay = this.opts.sweepDelayMs ?? 1000;
    if (delay <= 0 || this.sweepTimer) return;
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = undefined;
      if (!this.closed) this.gc().catch(() => undefined);
    }, delay);
    this.sweepTimer.unref();
  }

  private stageVolume(tx: WriteTx, vol: VolumeRecord): void {
    tx.put(keys.volumeKey(vol.id), encodeJson(vol));
    tx.afterCommit(() => this.volumes.set(vol.id, vol));
  }

  private async purge(vol: VolumeRecord): Promise<void> {
    const result = await purgeVolume({ db: this.db, chunks: this.chunks, commit: (tx) => this.commit(tx) }, vol);
    if (result) this.volumes.set(vol.id, result);
    else this.volumes.delete(vol.id);
  }


  private readerContext() {
    return { db: this.db, chunks: this.chunks, readBacking: (b: BackingRef, blk: number, into?: Buffer) => this.readBacking(b, blk, into) };
  }

  private readBacking(backing: BackingRef, blk: number, into?: Buffer): Promise<Buffer | null> {
    return this.backing.read(backing, blk, into);
  }

  private liveView(vol: VolumeRecord): ReadView {
    return { volumeId: vol.id, gen: LIVE, size: vol.size, blockSize: vol.blockSize, backing: vol.backing };
  }
}

/** Blocks hashed per turn of the event loop (~0.35 ms each here): other calls run in between. */
const BLOCKS_HASHED_PER_TURN = 4;

/**
 * SHA-256 of each whole, non-zero block that `data` (written at `offset`) covers, by block index:
 * the digests a stored chunk records. On this thread, a few blocks per turn: WebCrypto's digest
 * (in the thread pool) copies its input into memory that is freed only once V8 collects the
 * job's object, and under sustained writes those copies held ~25 MB at the scale benchmark's
 * memory peak (heaptrack).
 */
async function wholeBlockDigests(vol: VolumeRecord, offset: number, data: Buffer): Promise<Map<number, Buffer>> {
  const digests = new Map<number, Buffer>();
  const B = vol.blockSize;
  const first = Math.ceil(offset / B);
  for (let blk = first; (blk + 1) * B <= offset + data.length; blk++) {
    if (blk > first && (blk - first) % BLOCKS_HASHED_PER_TURN === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    const block = data.subarray(blk * B - offset, (blk + 1) * B - offset);
    if (!isZero(block)) digests.set(blk, createHash('sha256').update(block).digest());
  }
  return digests;
}

function snapshotView(snap: SnapshotRecord): ReadView {
  return { volumeId: snap.volumeId, gen: snap.gen, size: snap.volumeSize, blockSize: snap.blockSize, backing: snap.backing };
}

/** Opens a LevelDB, turning "another process holds it" into an error that says so. */
async function openLevel(db: ClassicLevel<Buffer, Buffer>, dir: string): Promise<void> {
  try {
    await db.open();
  } catch (err) {
    if ((err as { cause?: { code?: string } }).cause?.code === 'LEVEL_LOCKED') {
      throw new CoreError('STORE_LOCKED', `the data directory ${dir} is in use by another process (another ebs-sim?)`, { cause: err });
    }
    throw err;
  }
}
