/**
 * Chunk bytes in a second LevelDB, one key per chunk, keyed by sequence number (the layout of
 * data directories made before pack files; selectable with `chunkBytes: 'level'`).
 *
 * Keyed in write order, its tables never overlap and compaction merely moves them (keyed by
 * hash, 512 KiB values were rewritten by every compaction and stalled writes). Its costs, which
 * pack files avoid: every read allocates a fresh buffer (a copy out of LevelDB), whose external
 * memory drives V8 into frequent major GCs during a copy, and LevelDB maps its tables into the
 * process, so read chunks count in its resident memory.
 */
import type { ClassicLevel } from 'classic-level';
import type { ChunkBytes } from './chunk-bytes.js';
import * as keys from './keys.js';
import type { BatchOp, WriteTx } from './write-tx.js';

type Db = ClassicLevel<Buffer, Buffer>;

export class LevelChunkBytes implements ChunkBytes {
  constructor(
    private readonly data: Db,
    private readonly sync: boolean,
  ) {}

  async recover(committedSeq: number): Promise<void> {
    // Bytes newer than the committed mark were written for a batch that never committed.
    const orphans: Buffer[] = [];
    for await (const key of this.data.keys({ gt: keys.chunkDataKey(committedSeq) })) orphans.push(key);
    if (orphans.length > 0) await this.data.batch(orphans.map((key) => ({ type: 'del' as const, key })));
  }

  store(tx: WriteTx, seq: number, content: Buffer): void {
    tx.beforeCommit(() => this.data.put(keys.chunkDataKey(seq), content, { sync: this.sync }));
  }

  async read(seq: number, into?: Buffer): Promise<Buffer | undefined> {
    // 512 KiB values would only churn LevelDB's small block cache.
    const value = await this.data.get(keys.chunkDataKey(seq), { fillCache: false });
    if (value === undefined || into === undefined) return value;
    value.copy(into);
    return into.subarray(0, value.length);
  }

  digest(): undefined {
    return undefined; // not kept: the copy engine hashes what it reads
  }

  async drop(seqs: number[]): Promise<BatchOp[]> {
    // Bytes first: a crash before the sweeper's batch leaves a zero refcount without bytes,
    // which the next sweep finishes (and a dedup hit heals by storing them again).
    if (seqs.length > 0) await this.data.batch(seqs.map((seq) => ({ type: 'del' as const, key: keys.chunkDataKey(seq) })), { sync: this.sync });
    return [];
  }

  async dropped(): Promise<void> {}

  async flush(): Promise<void> {
    await this.data.put(keys.flushKey(), Buffer.alloc(0), { sync: true });
  }

  async *stored(): AsyncIterable<number> {
    for await (const key of this.data.keys(keys.prefixRange(keys.chunkDataPrefix()))) yield keys.parseChunkDataKey(key);
  }

  async close(): Promise<void> {
    await this.data.close();
  }
}
