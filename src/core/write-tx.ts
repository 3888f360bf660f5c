/**
 * One atomic mutation: the LevelDB batch plus what must change in memory once it is committed.
 * Everything a write, a snapshot or a delete changes (map entries, indexes, refcounts, chunks)
 * goes into one tx, so a crash can never split them.
 */
export type BatchOp = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };

import type { ChunkRef } from './records.js';

/** Per-tx view of a chunk whose refcount changes in this tx. */
export interface PendingChunk {
  ref: ChunkRef;
  /** Refcount before this tx (undefined: no R key). */
  before: number | undefined;
  delta: number;
  /** Set when this tx stores the chunk's bytes. */
  content?: Buffer;
}

export class WriteTx {
  readonly ops: BatchOp[] = [];
  readonly chunks = new Map<string, PendingChunk>();
  /** Set when sealing queued a chunk whose refcount reached zero: a sweep is due. */
  queuedChunks = false;
  private readonly afterCommitFns: Array<() => void> = [];
  private readonly beforeCommitFns: Array<() => Promise<void>> = [];

  put(key: Buffer, value: Buffer): void {
    this.ops.push({ type: 'put', key, value });
  }

  del(key: Buffer): void {
    this.ops.push({ type: 'del', key });
  }

  /** Runs (concurrently with the others) before the batch is written: what the batch will reference. */
  beforeCommit(fn: () => Promise<void>): void {
    this.beforeCommitFns.push(fn);
  }

  async prepared(): Promise<void> {
    await Promise.all(this.beforeCommitFns.map((fn) => fn()));
  }

  /** Runs once the batch is durable in the log; never runs if the batch fails. */
  afterCommit(fn: () => void): void {
    this.afterCommitFns.push(fn);
  }

  committed(): void {
    for (const fn of this.afterCommitFns) fn();
  }
}
