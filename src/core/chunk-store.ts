/**
 * Content-addressed chunk storage with reference counts.
 *
 * A chunk is the bytes of one block, stored once however many versions (of however many
 * volumes) point at it. Its identity is a 128-bit hash (plus a probe byte for collisions); its
 * refcount (R|id, which also says where the bytes are) counts version heads and changes in the
 * same batch as the map. A chunk whose count reaches zero is queued and swept later, after a
 * recheck, so a dedup hit in between simply revives it.
 *
 * The bytes live in a second LevelDB, keyed by a sequence number in the order they were
 * stored. Keyed by hash, 512 KiB values made LevelDB's compactions rewrite every chunk again
 * and again and stall writes (its L0 slowdown); keyed in write order, the tables of the chunk
 * database never overlap and compaction merely moves them. The order of writes keeps the two
 * databases consistent: bytes are written before the batch that references them (a crash in
 * between leaves bytes newer than the committed high-water mark, deleted at open), and are
 * deleted before the batch that forgets them (a crash in between leaves a zero refcount whose
 * bytes are gone, which the next sweep finishes and a dedup hit heals by storing them again).
 */
import type { ClassicLevel } from 'classic-level';
import type { ChunkHasher } from './chunk-id.js';
import { CoreError } from './errors.js';
import * as keys from './keys.js';
import type { ChunkRef } from './records.js';
import type { WriteTx } from './write-tx.js';

type Db = ClassicLevel<Buffer, Buffer>;

export interface ChunkStore {
  /** The chunk's bytes, or undefined when they are not stored. */
  get(ref: ChunkRef): Promise<Buffer | undefined>;
  /** References `content` in `tx`: stores it if no equal chunk exists, bumps its refcount. */
  ref(tx: WriteTx, content: Buffer): Promise<ChunkRef>;
  /** Adds a reference to a chunk known to exist (a version copied from another). */
  addRef(tx: WriteTx, ref: ChunkRef): void;
  /** Drops a reference; at zero the chunk is queued for the sweeper. */
  unref(tx: WriteTx, ref: ChunkRef): void;
  /** Turns the tx's pending refcount changes into batch operations. Call once, just before commit. */
  seal(tx: WriteTx): void;
  /** Deletes queued chunks whose refcount is still zero. Must run under the core's mutation lock. */
  sweep(): Promise<number>;
}

const MAX_PROBES = 256;

/** R|id value: refcount (u32) and the sequence number of the bytes (u64). */
function encodeRefcount(count: number, seq: number): Buffer {
  const b = Buffer.allocUnsafe(12);
  b.writeUInt32BE(count, 0);
  b.writeUInt32BE(Math.floor(seq / 2 ** 32), 4);
  b.writeUInt32BE(seq % 2 ** 32, 8);
  return b;
}

export function decodeRefcount(b: Buffer): { count: number; seq: number } {
  return { count: b.readUInt32BE(0), seq: b.readUInt32BE(4) * 2 ** 32 + b.readUInt32BE(8) };
}

export class LevelChunkStore implements ChunkStore {
  private nextSeq = 1;

  constructor(
    private readonly meta: Db,
    private readonly data: Db,
    private readonly hash: ChunkHasher,
    private readonly sync: boolean,
  ) {}

  /** Drops bytes a crash left unreferenced and finds where the sequence resumes. */
  async recover(): Promise<void> {
    const mark = this.meta.getSync(keys.chunkSeqMarkKey());
    const committed = mark ? mark.readUInt32BE(0) * 2 ** 32 + mark.readUInt32BE(4) : 0;
    const orphans: Buffer[] = [];
    for await (const key of this.data.keys({ gt: keys.chunkDataKey(committed) })) orphans.push(key);
    if (orphans.length > 0) await this.data.batch(orphans.map((key) => ({ type: 'del' as const, key })));
    this.nextSeq = committed + 1;
  }

  async get(ref: ChunkRef): Promise<Buffer | undefined> {
    // 512 KiB values would only churn LevelDB's small block cache.
    return this.data.get(keys.chunkDataKey(ref.seq), { fillCache: false });
  }

  async ref(tx: WriteTx, content: Buffer): Promise<ChunkRef> {
    const hash = this.hash(content);
    // Linear probing over a trailing byte: an xxhash collision moves to the next slot.
    for (let probe = 0; probe < MAX_PROBES; probe++) {
      const id = Buffer.concat([hash, Buffer.from([probe])]);
      const hex = id.toString('hex');
      const pending = tx.chunks.get(hex);
      if (pending) {
        const stored = pending.content ?? (await this.get(pending.ref));
        if (stored?.equals(content)) {
          pending.delta += 1;
          return pending.ref;
        }
        continue;
      }
      const before = this.refcount(id);
      if (before === undefined) return this.store(tx, id, content, undefined);
      const stored = await this.get({ id, seq: before.seq });
      if (stored === undefined) return this.store(tx, id, content, before.count); // bytes swept: store again
      if (stored.equals(content)) {
        tx.chunks.set(hex, { ref: { id, seq: before.seq }, before: before.count, delta: 1 });
        return { id, seq: before.seq };
      }
    }
    throw new CoreError('CORRUPTION', `more than ${MAX_PROBES} chunks share one hash`);
  }

  addRef(tx: WriteTx, ref: ChunkRef): void {
    this.pending(tx, ref).delta += 1;
  }

  unref(tx: WriteTx, ref: ChunkRef): void {
    this.pending(tx, ref).delta -= 1;
  }

  seal(tx: WriteTx): void {
    let highest = 0;
    for (const c of tx.chunks.values()) {
      if (c.delta === 0 && !c.content) continue;
      const count = (c.before ?? 0) + c.delta;
      if (count < 0) throw new CoreError('CORRUPTION', `refcount of chunk ${c.ref.id.toString('hex')} below zero`);
      tx.put(keys.refcountKey(c.ref.id), encodeRefcount(count, c.ref.seq));
      if (count === 0) {
        tx.put(keys.zeroRefKey(c.ref.id), Buffer.alloc(0));
        tx.queuedChunks = true;
      }
      if (c.content) highest = Math.max(highest, c.ref.seq);
    }
    if (highest > 0) tx.put(keys.chunkSeqMarkKey(), keys.u64(highest));
  }

  async sweep(): Promise<number> {
    const meta: Array<{ type: 'del'; key: Buffer }> = [];
    const bytes: Array<{ type: 'del'; key: Buffer }> = [];
    for await (const key of this.meta.keys(keys.prefixRange(keys.zeroRefPrefix()))) {
      const id = Buffer.from(keys.chunkIdOfKey(key));
      meta.push({ type: 'del', key });
      const rc = this.refcount(id);
      if (rc && rc.count === 0) {
        bytes.push({ type: 'del', key: keys.chunkDataKey(rc.seq) });
        meta.push({ type: 'del', key: keys.refcountKey(id) });
      }
    }
    // Bytes first: a crash in between leaves a refcount of zero without bytes, never the reverse.
    if (bytes.length > 0) await this.data.batch(bytes, { sync: this.sync });
    if (meta.length > 0) await this.meta.batch(meta, { sync: this.sync });
    return bytes.length;
  }

  private store(tx: WriteTx, id: Buffer, content: Buffer, before: number | undefined): ChunkRef {
    const ref = { id, seq: this.nextSeq++ };
    tx.chunks.set(id.toString('hex'), { ref, before, delta: 1, content });
    // Bytes before the batch that references them.
    tx.beforeCommit(() => this.data.put(keys.chunkDataKey(ref.seq), content, { sync: this.sync }));
    return ref;
  }

  private refcount(id: Buffer): { count: number; seq: number } | undefined {
    const v = this.meta.getSync(keys.refcountKey(id));
    return v === undefined ? undefined : decodeRefcount(v);
  }

  private pending(tx: WriteTx, ref: ChunkRef) {
    const hex = ref.id.toString('hex');
    let p = tx.chunks.get(hex);
    if (!p) {
      p = { ref, before: this.refcount(ref.id)?.count, delta: 0 };
      tx.chunks.set(hex, p);
    }
    return p;
  }
}
