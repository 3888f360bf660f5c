/**
 * The write path: turns a write of one block's bytes into version-map changes inside a tx.
 *
 * ZFS's rule with generations as birth times: the newest version of a block is *mutable* when it
 * was born after the last snapshot (no snapshot can see it) and is then changed in place;
 * otherwise it is *frozen*, kept, and superseded by a new version born in the current
 * generation, with the old one recorded on the deadlist under the new one's birth.
 *
 * Small writes do not rewrite the block: they are logged as deltas of the version (a 4 KiB write
 * costs a 4 KiB log record, not 512 KiB) and merged into a new base chunk once a version holds
 * more than `maxDeltas` of them or `maxDeltaBytes` of delta bytes. A small write superseding a
 * frozen version that has deltas *inherits* it (the new version's base is the frozen one's
 * content, read through the chain), up to MAX_INHERIT_DEPTH deep; deeper, it is merged.
 */
import type { ClassicLevel } from 'classic-level';
import type { ChunkStore } from './chunk-store.js';
import type { HeadCache } from './head-cache.js';
import * as keys from './keys.js';
import { encodeDelta, encodeHead, MAX_INHERIT_DEPTH, type ChunkRef, type Delta, type VersionHead, type VolumeRecord } from './records.js';
import { materialize, readNewestHead, readVersion, type Version } from './version-map.js';
import type { BatchOp, WriteTx } from './write-tx.js';
import { CoreError } from './errors.js';
import { isZero } from './zero.js';

export interface WriterContext {
  db: ClassicLevel<Buffer, Buffer>;
  chunks: ChunkStore;
  heads: HeadCache;
  /** Content of a block of the backing snapshot of a restored volume (null: a hole). */
  readBacking(vol: VolumeRecord, blk: number): Promise<Buffer | null>;
  maxDeltas: number;
  /** Delta bytes a version may hold, as a fraction of the block size. */
  maxDeltaFraction: number;
  /** Called after a commit that added or removed an epoch-index entry of the volume (block maps rescan). */
  epochChanged(volumeId: string): void;
}

export class BlockWriter {
  /** Heads this tx sets (null: the block became a hole); they reach the cache after commit. */
  private readonly updates = new Map<number, VersionHead | null>();
  volumeChanged = false;
  /** This tx adds or removes an epoch-index entry: a version born or gone. */
  private epochChanged = false;

  constructor(
    private readonly ctx: WriterContext,
    /** A private copy of the record: this tx's changes land in the cache only after commit. */
    readonly vol: VolumeRecord,
    private readonly tx: WriteTx,
  ) {
    tx.afterCommit(() => {
      for (const [blk, head] of this.updates) ctx.heads.set(vol.id, blk, head);
      if (this.epochChanged) ctx.epochChanged(vol.id);
    });
  }

  /**
   * Writes `data` at `offset` inside block `blk`; `data` never crosses the block's end.
   * `sha256`, if given, is the SHA-256 of `data` as a whole block (computed by the caller).
   */
  async write(blk: number, offset: number, data: Buffer, sha256?: Buffer): Promise<void> {
    const head = await this.newestHead(blk);
    const mutable = head !== undefined && head.birth > this.vol.lastSnapGen;
    if (offset === 0 && data.length >= this.logicalLength(blk)) {
      const whole = this.padded(data);
      return this.putContent(blk, head, mutable, whole, whole === data ? sha256 : undefined);
    }
    if (head === undefined) return this.writeIntoUnwritten(blk, offset, data);
    if (mutable && this.fitsAsDelta(head, data.length)) return this.appendDelta(blk, head, { offset, data });
    if (!mutable && data.length <= this.vol.blockSize * this.ctx.maxDeltaFraction) {
      // Supersede a frozen version with a delta: share its base chunk if that is all it is,
      // otherwise inherit its content.
      if (head.deltaCount === 0 && head.inherits === 0) {
        if (head.base) this.ctx.chunks.addRef(this.tx, head.base);
        return this.newVersion(blk, head, head.base, [{ offset, data }], 0);
      }
      if (head.inherits < MAX_INHERIT_DEPTH) return this.newVersion(blk, head, null, [{ offset, data }], head.inherits + 1);
    }
    const content = await materialize(await this.version(blk, head), this.ctx.chunks, this.vol.blockSize);
    data.copy(content, offset);
    return this.putContent(blk, head, mutable, content);
  }

  /** Stores a hydrated block of a restored volume as generation 0, beneath any write. */
  async hydrate(blk: number, content: Buffer, sha256?: Buffer): Promise<boolean> {
    if ((await this.newestHead(blk)) !== undefined) return false;
    const whole = this.padded(content);
    const base = isZero(content) ? null : await this.ctx.chunks.ref(this.tx, whole, whole === content ? sha256 : undefined);
    if (base === null) return false; // a hole of the backing snapshot: reads already see zeros
    const head: VersionHead = { birth: 0, base, deltaCount: 0, deltaBytes: 0, hidesOlder: true, inherits: 0 };
    this.tx.put(keys.versionKey(this.vol.id, blk, 0), encodeHead(head));
    this.tx.put(keys.epochKey(this.vol.id, 0, blk), Buffer.alloc(0));
    this.epochChanged = true;
    this.updates.set(blk, head);
    return true;
  }

  private async writeIntoUnwritten(blk: number, offset: number, data: Buffer): Promise<void> {
    // A restored volume's block not loaded yet: the write lands on the snapshot's bytes.
    const base = this.vol.backing ? await this.ctx.readBacking(this.vol, blk) : null;
    if (base) {
      const content = this.padded(base);
      data.copy(content, offset);
      return this.putContent(blk, undefined, false, content);
    }
    if (isZero(data)) return; // zeros into a hole: still a hole
    return this.newVersion(blk, undefined, null, [{ offset, data }], 0);
  }

  /** Makes `content` (a whole block, with its SHA-256 if known) the block's newest version. */
  private async putContent(blk: number, head: VersionHead | undefined, mutable: boolean, content: Buffer, sha256?: Buffer) {
    const zero = isZero(content);
    if (head && mutable) {
      this.dropDeltas(blk, head);
      if (head.base) this.ctx.chunks.unref(this.tx, head.base);
      if (zero && !head.hidesOlder && !this.vol.backing) {
        // Nothing beneath it: the block becomes a hole again, and leaves the epoch.
        this.tx.del(keys.versionKey(this.vol.id, blk, head.birth));
        this.tx.del(keys.epochKey(this.vol.id, head.birth, blk));
        this.epochChanged = true;
        this.vol.dirtyBlocks -= 1;
        this.volumeChanged = true;
        this.updates.set(blk, null);
        return;
      }
      const base = zero ? null : await this.ctx.chunks.ref(this.tx, content, sha256);
      this.setHead(blk, { ...head, base, deltaCount: 0, deltaBytes: 0, inherits: 0 });
      return;
    }
    if (zero && !head && !this.vol.backing) return;
    const base = zero ? null : await this.ctx.chunks.ref(this.tx, content, sha256);
    this.newVersion(blk, head, base, [], 0);
  }

  private appendDelta(blk: number, head: VersionHead, delta: Delta): void {
    const { ops, head: next } = deltaAppend(this.vol.id, blk, head, delta);
    this.tx.ops.push(...ops);
    this.updates.set(blk, next);
  }

  /** A new version born in the current generation, superseding `prev` (frozen) if any. */
  private newVersion(blk: number, prev: VersionHead | undefined, base: ChunkRef | null, deltas: Delta[], inherits: number): void {
    const gen = this.vol.gen;
    const { id } = this.vol;
    const head: VersionHead = {
      birth: gen,
      base,
      deltaCount: deltas.length,
      deltaBytes: deltas.reduce((n, d) => n + d.data.length, 0),
      hidesOlder: prev !== undefined || this.vol.backing !== undefined,
      inherits,
    };
    this.setHead(blk, head);
    deltas.forEach((d, i) => this.tx.put(keys.versionKey(id, blk, gen, i + 1), encodeDelta(d)));
    this.tx.put(keys.epochKey(id, gen, blk), Buffer.alloc(0));
    this.epochChanged = true;
    if (prev) this.tx.put(keys.deadKey(id, gen, prev.birth, blk), Buffer.alloc(0));
    this.vol.dirtyBlocks += 1;
    this.volumeChanged = true;
  }

  private setHead(blk: number, head: VersionHead): void {
    this.tx.put(keys.versionKey(this.vol.id, blk, head.birth), encodeHead(head));
    this.updates.set(blk, head);
  }

  private dropDeltas(blk: number, head: VersionHead): void {
    for (let seq = 1; seq <= head.deltaCount; seq++) this.tx.del(keys.versionKey(this.vol.id, blk, head.birth, seq));
  }

  private fitsAsDelta(head: VersionHead, length: number): boolean {
    return fitsAsDelta(this.ctx, this.vol, head, length);
  }

  private async newestHead(blk: number): Promise<VersionHead | undefined> {
    if (this.updates.has(blk)) return this.updates.get(blk) ?? undefined;
    const cached = this.ctx.heads.get(this.vol.id, blk);
    if (cached !== undefined) return cached ?? undefined;
    const head = await readNewestHead(this.ctx.db, this.vol.id, blk);
    this.ctx.heads.set(this.vol.id, blk, head ?? null);
    return head;
  }

  private async version(blk: number, head: VersionHead): Promise<Version> {
    if (head.deltaCount === 0 && head.inherits === 0) return { head, deltas: [] };
    const v = await readVersion(this.ctx.db, this.vol.id, blk, head.birth);
    if (!v) throw new CoreError('CORRUPTION', `version ${this.vol.id}/${blk}@${head.birth} vanished`);
    return v;
  }

  /** Bytes of the block that lie inside the volume (the last block may be partial). */
  private logicalLength(blk: number): number {
    return Math.min(this.vol.blockSize, this.vol.size - blk * this.vol.blockSize);
  }

  /** Chunks are always whole blocks; the tail of a partial last block is zeros. */
  private padded(data: Buffer): Buffer {
    if (data.length === this.vol.blockSize) return data;
    const full = Buffer.alloc(this.vol.blockSize);
    data.copy(full, 0, 0, Math.min(data.length, this.vol.blockSize));
    return full;
  }
}

export function fitsAsDelta(limits: Pick<WriterContext, 'maxDeltas' | 'maxDeltaFraction'>, vol: VolumeRecord, head: VersionHead, length: number) {
  return head.deltaCount + 1 <= limits.maxDeltas && head.deltaBytes + length <= vol.blockSize * limits.maxDeltaFraction;
}

/** The batch operations that append `delta` to a version, and the version's new head. */
export function deltaAppend(vol: string, blk: number, head: VersionHead, delta: Delta): { ops: BatchOp[]; head: VersionHead } {
  const seq = head.deltaCount + 1;
  const next = { ...head, deltaCount: seq, deltaBytes: head.deltaBytes + delta.data.length };
  return {
    head: next,
    ops: [
      { type: 'put', key: keys.versionKey(vol, blk, head.birth, seq), value: encodeDelta(delta) },
      { type: 'put', key: keys.versionKey(vol, blk, head.birth), value: encodeHead(next) },
    ],
  };
}

/**
 * The common small write: a delta appended to a block's newest version, which no snapshot sees,
 * whose head is cached and which has no commit in flight. Its batch is submitted without holding
 * the store's lock, so that concurrent small writes reach LevelDB together and share its log
 * writes (group commit). Every other mutation drains these commits first.
 */
export class FastAppends {
  /** Batches in flight, per volume and block. */
  private readonly inflight = new Map<string, Promise<void>>();
  /** The first failed batch: the cache already moved on, so nothing after it can be trusted. */
  failure: unknown;

  constructor(
    private readonly ctx: WriterContext,
    private readonly sync: boolean,
  ) {}

  /** Submits the write if it is such an append (call it under the store's lock); undefined otherwise. */
  tryAppend(vol: VolumeRecord, offset: number, data: Buffer): { committed: Promise<void> } | undefined {
    const blk = Math.floor(offset / vol.blockSize);
    const at = offset - blk * vol.blockSize;
    const logical = Math.min(vol.blockSize, vol.size - blk * vol.blockSize);
    if (at + data.length > vol.blockSize || (at === 0 && data.length >= logical)) return undefined;
    const key = `${vol.id}\0${blk}`;
    const head = this.ctx.heads.get(vol.id, blk);
    if (!head || head.birth <= vol.lastSnapGen || this.inflight.has(key) || !fitsAsDelta(this.ctx, vol, head, data.length)) {
      return undefined;
    }
    const append = deltaAppend(vol.id, blk, head, { offset: at, data });
    this.ctx.heads.set(vol.id, blk, append.head);
    const committed = this.ctx.db
      .batch(append.ops, { sync: this.sync })
      .catch((err: unknown) => {
        this.failure ??= err;
        throw new CoreError('STORE_FAILED', `a write failed, the store accepts no more: ${String(err)}`, { cause: err });
      })
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, committed.catch(() => undefined));
    return { committed };
  }

  /** Resolves once no append is in flight. */
  async drain(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all(this.inflight.values());
  }
}
