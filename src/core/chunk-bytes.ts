/**
 * Where chunk bytes live, below the refcounting chunk store (chunk-store.ts), which decides
 * when bytes are stored and dropped. Bytes are addressed by their sequence number, given out in
 * the order chunks are first stored.
 *
 * Ordering contract with the meta database's batches (the commit points):
 *  - `store` writes the bytes before the batch that references them commits;
 *  - `drop` runs before the sweeper's batch that forgets the chunks, `dropped` after it.
 * So a crash never leaves a committed reference to bytes that were not written.
 */
import type { BatchOp, WriteTx } from './write-tx.js';

/**
 * A chunk's bytes as a range of a file open in this process, held in place (not moved by a
 * rewrite, not closed) until `release`, which must be called once. For copies that move bytes
 * from file to file without bringing them into JavaScript.
 */
export interface ChunkFileRange {
  fd: number;
  offset: number;
  length: number;
  release(): void;
}

/** Runs `fn` under the core's mutation lock. */
export type Exclusive = <T>(fn: () => Promise<T>) => Promise<T>;

export interface ChunkBytes {
  /** At open: clears what a crash left behind. `committedSeq` is the highest seq a committed batch references. */
  recover(committedSeq: number): Promise<void>;
  /**
   * Writes `content` as `seq` in `tx` (before its batch commits). `content` must not change until
   * then. `sha256`: its digest, when the caller already has it checked.
   */
  store(tx: WriteTx, seq: number, content: Buffer, sha256?: Buffer): void;
  /**
   * The bytes of `seq`, or undefined when they are not stored. With `into` (at least as long as
   * the chunk), they are read into it and a view of it is returned: no allocation.
   */
  read(seq: number, into?: Buffer): Promise<Buffer | undefined>;
  /**
   * SHA-256 of the bytes of `seq` and their length, when the layout keeps one (pack files
   * compute it once, when the chunk is stored), else undefined.
   */
  digest(seq: number): { sha256: Buffer; length: number } | undefined;
  /** Where the bytes of `seq` are, held until released; undefined when not stored, or the layout cannot say. */
  fileRange?(seq: number): Promise<ChunkFileRange | undefined>;
  /** Before the sweeper's batch: returns the operations that batch must carry. */
  drop(seqs: number[]): Promise<BatchOp[]>;
  /** After the sweeper's batch committed: reclaims space. */
  dropped(): Promise<void>;
  /**
   * After `dropped`, outside the core's lock: reclaims space that takes copying (pack rewrites).
   * `exclusive` runs a step under the lock.
   */
  compact?(exclusive: Exclusive): Promise<void>;
  /** Makes every stored byte durable (the core's flush barrier). */
  flush(): Promise<void>;
  /** The sequence numbers whose bytes are stored in full (for fsck). */
  stored(): AsyncIterable<number>;
  close(): Promise<void>;
}
