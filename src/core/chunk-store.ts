/**
 * Content-addressed chunk storage with reference counts.
 *
 * A chunk is the bytes of one block, stored once however many versions (of however many
 * volumes) point at it. Refcounts count version heads and change in the same tx as the map.
 * A chunk whose count reaches zero is not deleted in that tx: it is queued and swept later
 * after a recheck, so a dedup hit in between simply revives it.
 */
import type { ClassicLevel } from 'classic-level';
import type { ChunkHasher } from './chunk-id.js';
import { CoreError } from './errors.js';
import * as keys from './keys.js';
import { encodeU32 } from './records.js';
import type { WriteTx } from './write-tx.js';

type Db = ClassicLevel<Buffer, Buffer>;
type ReadOptions = { snapshot?: ReturnType<Db['snapshot']> };

export interface ChunkStore {
  /** The chunk's bytes, or undefined when it is not stored. */
  get(id: Buffer, options?: ReadOptions): Promise<Buffer | undefined>;
  /** References `content` in `tx`: stores it if no equal chunk exists, bumps its refcount, returns its id. */
  ref(tx: WriteTx, content: Buffer): Promise<Buffer>;
  /** Adds a reference to a chunk known to exist (a version copied from another). */
  addRef(tx: WriteTx, id: Buffer): void;
  /** Drops a reference; at zero the chunk is queued for the sweeper. */
  unref(tx: WriteTx, id: Buffer): void;
  /** Turns the tx's pending refcount changes into batch operations. Call once, just before commit. */
  seal(tx: WriteTx): void;
  /** Deletes queued chunks whose refcount is still zero. Must run under the core's mutation lock. */
  sweep(): Promise<number>;
}

const MAX_PROBES = 256;

export class LevelChunkStore implements ChunkStore {
  constructor(
    private readonly db: Db,
    private readonly hash: ChunkHasher,
  ) {}

  async get(id: Buffer, options?: ReadOptions): Promise<Buffer | undefined> {
    return options ? this.db.get(keys.chunkKey(id), options) : this.db.get(keys.chunkKey(id));
  }

  async ref(tx: WriteTx, content: Buffer): Promise<Buffer> {
    const hash = this.hash(content);
    // Linear probing over a trailing byte: an xxhash collision moves to the next slot.
    for (let probe = 0; probe < MAX_PROBES; probe++) {
      const id = Buffer.concat([hash, Buffer.from([probe])]);
      const pending = tx.chunks.get(id.toString('hex'));
      if (pending) {
        const stored = pending.content ?? (await this.get(id));
        if (stored?.equals(content)) {
          pending.delta += 1;
          return id;
        }
        continue;
      }
      const before = this.refcount(id);
      if (before === undefined) {
        tx.chunks.set(id.toString('hex'), { id, before, delta: 1, content });
        return id;
      }
      const stored = await this.get(id);
      if (stored === undefined || stored.equals(content)) {
        // A refcount without bytes would be corruption; storing the bytes again heals it.
        tx.chunks.set(id.toString('hex'), { id, before, delta: 1, ...(stored ? {} : { content }) });
        return id;
      }
    }
    throw new CoreError('CORRUPTION', `more than ${MAX_PROBES} chunks share one hash`);
  }

  addRef(tx: WriteTx, id: Buffer): void {
    this.pending(tx, id).delta += 1;
  }

  unref(tx: WriteTx, id: Buffer): void {
    this.pending(tx, id).delta -= 1;
  }

  seal(tx: WriteTx): void {
    for (const c of tx.chunks.values()) {
      if (c.delta === 0 && !c.content) continue;
      const count = (c.before ?? 0) + c.delta;
      if (count < 0) throw new CoreError('CORRUPTION', `refcount of chunk ${c.id.toString('hex')} below zero`);
      tx.put(keys.refcountKey(c.id), encodeU32(count));
      if (c.content) tx.put(keys.chunkKey(c.id), c.content);
      if (count === 0) tx.put(keys.zeroRefKey(c.id), Buffer.alloc(0));
    }
  }

  async sweep(): Promise<number> {
    const ops: Array<{ type: 'del'; key: Buffer }> = [];
    let freed = 0;
    for await (const key of this.db.keys(keys.prefixRange(keys.zeroRefPrefix()))) {
      const id = Buffer.from(keys.chunkIdOfKey(key));
      ops.push({ type: 'del', key });
      if ((this.refcount(id) ?? 0) === 0) {
        ops.push({ type: 'del', key: keys.chunkKey(id) }, { type: 'del', key: keys.refcountKey(id) });
        freed++;
      }
    }
    if (ops.length > 0) await this.db.batch(ops);
    return freed;
  }

  private refcount(id: Buffer): number | undefined {
    const v = this.db.getSync(keys.refcountKey(id));
    return v === undefined ? undefined : v.readUInt32BE(0);
  }

  private pending(tx: WriteTx, id: Buffer) {
    const hex = id.toString('hex');
    let p = tx.chunks.get(hex);
    if (!p) {
      p = { id, before: this.refcount(id), delta: 0 };
      tx.chunks.set(hex, p);
    }
    return p;
  }
}
