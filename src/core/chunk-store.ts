/**
 * Content-addressed chunk storage with reference counts.
 *
 * A chunk is the bytes of one block, stored once however many versions (of however many
 * volumes) point at it. Its identity is a 128-bit hash (plus a probe byte for collisions); its
 * refcount (R|id, which also gives the sequence number of its bytes) counts version heads and
 * changes in the same batch as the map. A chunk whose count reaches zero is queued and swept
 * later, after a recheck, so a dedup hit in between simply revives it.
 *
 * The bytes themselves are kept by a ChunkBytes (chunk-bytes.ts): append-only pack files by
 * default, or a second LevelDB. Its ordering contract keeps the two consistent across a crash.
 */
import type { ClassicLevel } from 'classic-level';
import type { ChunkBytes, ChunkFileRange } from './chunk-bytes.js';
import type { ChunkHasher } from './chunk-id.js';
import { CoreError } from './errors.js';
import * as keys from './keys.js';
import type { ChunkRef } from './records.js';
import type { BatchOp, WriteTx } from './write-tx.js';

type Db = ClassicLevel<Buffer, Buffer>;

export interface ChunkStore {
  /** The chunk's bytes, or undefined when they are not stored; read into `into` if given (see ChunkBytes.read). */
  get(ref: ChunkRef, into?: Buffer): Promise<Buffer | undefined>;
  /** SHA-256 and length of the chunk's bytes, if the byte layout keeps them. */
  digest(ref: ChunkRef): { sha256: Buffer; length: number } | undefined;
  /** Where the chunk's bytes are in a file, held until released (see ChunkBytes.fileRange). */
  fileRange(ref: ChunkRef): Promise<ChunkFileRange | undefined>;
  /**
   * References `content` in `tx`: stores it if no equal chunk exists, bumps its refcount.
   * `sha256`, if given, is the caller's checked SHA-256 of `content` (saves hashing it again).
   */
  ref(tx: WriteTx, content: Buffer, sha256?: Buffer): Promise<ChunkRef>;
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

export class RefcountChunkStore implements ChunkStore {
  private nextSeq = 1;

  constructor(
    private readonly meta: Db,
    private readonly bytes: ChunkBytes,
    private readonly hash: ChunkHasher,
    private readonly sync: boolean,
  ) {}

  /** Drops bytes a crash left unreferenced and finds where the sequence resumes. */
  async recover(): Promise<void> {
    const mark = this.meta.getSync(keys.chunkSeqMarkKey());
    const committed = mark ? mark.readUInt32BE(0) * 2 ** 32 + mark.readUInt32BE(4) : 0;
    await this.bytes.recover(committed);
    this.nextSeq = committed + 1;
  }

  get(ref: ChunkRef, into?: Buffer): Promise<Buffer | undefined> {
    return this.bytes.read(ref.seq, into);
  }

  digest(ref: ChunkRef): { sha256: Buffer; length: number } | undefined {
    return this.bytes.digest(ref.seq);
  }

  async fileRange(ref: ChunkRef): Promise<ChunkFileRange | undefined> {
    return this.bytes.fileRange?.(ref.seq);
  }

  async ref(tx: WriteTx, content: Buffer, sha256?: Buffer): Promise<ChunkRef> {
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
      if (before === undefined) return this.store(tx, id, content, undefined, sha256);
      const same = sha256 && this.sameDigest({ id, seq: before.seq }, content.length, sha256);
      if (same === false) continue; // an xxhash collision, told apart without reading the bytes
      if (same) {
        tx.chunks.set(hex, { ref: { id, seq: before.seq }, before: before.count, delta: 1 });
        return { id, seq: before.seq };
      }
      const stored = await this.get({ id, seq: before.seq });
      if (stored === undefined) return this.store(tx, id, content, before.count, sha256); // bytes swept: store again
      if (stored.equals(content)) {
        tx.chunks.set(hex, { ref: { id, seq: before.seq }, before: before.count, delta: 1 });
        return { id, seq: before.seq };
      }
    }
    throw new CoreError('CORRUPTION', `more than ${MAX_PROBES} chunks share one hash`);
  }

  /**
   * Whether a stored chunk holds the bytes whose checked SHA-256 is `sha256`, told by the digest
   * the byte layout keeps: a dedup hit (a restored block that other volumes hold, for one) then
   * costs no read of 512 KiB and no buffer for it. Undefined when no digest is kept.
   */
  private sameDigest(ref: ChunkRef, length: number, sha256: Buffer): boolean | undefined {
    const d = this.digest(ref);
    return d ? d.length === length && d.sha256.equals(sha256) : undefined;
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
    const meta: BatchOp[] = [];
    const seqs: number[] = [];
    for await (const key of this.meta.keys(keys.prefixRange(keys.zeroRefPrefix()))) {
      const id = Buffer.from(keys.chunkIdOfKey(key));
      meta.push({ type: 'del', key });
      const rc = this.refcount(id);
      if (rc && rc.count === 0) {
        seqs.push(rc.seq);
        meta.push({ type: 'del', key: keys.refcountKey(id) });
      }
    }
    meta.push(...(await this.bytes.drop(seqs)));
    if (meta.length > 0) await this.meta.batch(meta, { sync: this.sync });
    await this.bytes.dropped();
    return seqs.length;
  }

  private store(tx: WriteTx, id: Buffer, content: Buffer, before: number | undefined, sha256: Buffer | undefined): ChunkRef {
    const ref = { id, seq: this.nextSeq++ };
    tx.chunks.set(id.toString('hex'), { ref, before, delta: 1, content });
    this.bytes.store(tx, ref.seq, content, sha256);
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
