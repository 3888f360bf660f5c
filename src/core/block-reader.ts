/**
 * The read path, shared by live volumes (read at the newest generation) and snapshots (read at
 * the snapshot's generation). Each read runs against one LevelDB snapshot, so it sees one
 * consistent state even while writes and the chunk sweeper go on.
 */
import type { ClassicLevel } from 'classic-level';
import type { ChunkFileRange } from './chunk-bytes.js';
import type { ChunkStore } from './chunk-store.js';
import * as keys from './keys.js';
import { decodeHead, type BackingRef } from './records.js';
import { isZeroHead, isZeroVersion, materialize, MissingChunkError, readVersionAt, type DbSnapshot } from './version-map.js';

export interface ReaderContext {
  db: ClassicLevel<Buffer, Buffer>;
  chunks: ChunkStore;
  /** With `into` (a block long), the bytes go there and a view of it is returned. */
  readBacking(backing: BackingRef, blk: number, into?: Buffer): Promise<Buffer | null>;
}

/** What to read: a volume at a generation. */
export interface ReadView {
  volumeId: string;
  /** Number.MAX_SAFE_INTEGER reads the live volume. */
  gen: number;
  size: number;
  blockSize: number;
  backing?: BackingRef | undefined;
}

export const LIVE = Number.MAX_SAFE_INTEGER;

/** How many blocks one read fetches at once. */
const READ_AHEAD = 8;

/**
 * Bytes [offset, offset + length) of the view. With `into` (at least `length` long), they are
 * read there, whole blocks straight into their place, and a view of it is returned; nothing
 * writes to it once this has settled, so the caller may reuse it then, even after a failure.
 */
export async function readRange(ctx: ReaderContext, view: ReadView, offset: number, length: number, into?: Buffer): Promise<Buffer> {
  // Not zero-filled: every byte is either copied below or zeroed there (holes, short content).
  const out = into ? into.subarray(0, length) : Buffer.allocUnsafe(length);
  if (length === 0) return out;
  const { blockSize } = view;
  const first = Math.floor(offset / blockSize);
  const last = Math.floor((offset + length - 1) / blockSize);
  const snapshot = ctx.db.snapshot();
  try {
    for (let start = first; start <= last; start += READ_AHEAD) {
      const blocks: number[] = [];
      for (let b = start; b <= Math.min(last, start + READ_AHEAD - 1); b++) blocks.push(b);
      // Every read of the batch settles before a failure is thrown: none writes to `out` later.
      const results = await Promise.allSettled(
        blocks.map(async (blk) => {
          const blockStart = blk * blockSize;
          const from = Math.max(offset, blockStart);
          const to = Math.min(offset + length, blockStart + blockSize);
          const place = to - from === blockSize ? out.subarray(from - offset, to - offset) : undefined;
          const content = await readBlockWith(ctx, view, blk, snapshot, place);
          const inPlace = content !== null && place !== undefined && content.buffer === place.buffer && content.byteOffset === place.byteOffset;
          const copied = !content ? 0 : inPlace ? content.length : content.copy(out, from - offset, from - blockStart, to - blockStart);
          if (copied < to - from) out.fill(0, from - offset + copied, to - offset); // a hole
        }),
      );
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    }
  } finally {
    await snapshot.close();
  }
  return out;
}

/** A whole block's content, or null when it reads as zeros; built in `into` when given (a backing snapshot's block too, where its source can). */
export async function readBlock(ctx: ReaderContext, view: ReadView, blk: number, into?: Buffer): Promise<Buffer | null> {
  const snapshot = ctx.db.snapshot();
  try {
    return await readBlockWith(ctx, view, blk, snapshot, into);
  } finally {
    await snapshot.close();
  }
}

/** A version a listing named (block and birth), looked up once. */
export interface KnownVersion {
  /** SHA-256 (hex) and length of its content, when it is exactly one stored chunk and the chunk layout keeps digests. */
  digest: { sha256: string; length: number } | undefined;
  /** Its content, or null for zeros. Built in `into` when given (the result then a view of it). */
  read(into?: Buffer): Promise<Buffer | null>;
  /**
   * When it is exactly one stored chunk kept in a file: where, held until released. The bytes
   * are those `digest` names. Undefined otherwise (then use read).
   */
  fileRange(): Promise<ChunkFileRange | undefined>;
}

/**
 * A block version whose birth is known (listings give it): a point lookup of its head instead of
 * a seek, for bulk streaming into a buffer the caller reuses. Only for versions that no longer
 * change, i.e. those a snapshot sees.
 */
export function knownVersion(ctx: ReaderContext, view: ReadView, blk: number, birth: number): KnownVersion {
  const raw = ctx.db.getSync(keys.versionKey(view.volumeId, blk, birth));
  const head = raw === undefined ? undefined : decodeHead(birth, raw);
  const chunk = head && head.deltaCount === 0 && head.inherits === 0 ? head.base : undefined;
  const d = chunk ? ctx.chunks.digest(chunk) : undefined;
  return {
    digest: d && { sha256: d.sha256.toString('hex'), length: d.length },
    async read(into) {
      if (!head || (!chunk && !isZeroHead(head))) return readBlock(ctx, view, blk, into);
      if (!chunk) return null;
      return (await ctx.chunks.get(chunk, into)) ?? readBlock(ctx, view, blk, into); // swept under us: take the careful path
    },
    async fileRange() {
      return chunk && d ? ctx.chunks.fileRange(chunk) : undefined;
    },
  };
}

async function readBlockWith(ctx: ReaderContext, view: ReadView, blk: number, snapshot: DbSnapshot, into?: Buffer) {
  for (let attempt = 1; ; attempt++) {
    const version = await readVersionAt(ctx.db, view.volumeId, blk, view.gen, attempt === 1 ? snapshot : undefined);
    if (!version) return view.backing ? ctx.readBacking(view.backing, blk, into) : null;
    if (isZeroVersion(version)) return null;
    try {
      return await materialize(version, ctx.chunks, view.blockSize, into);
    } catch (err) {
      // Chunk bytes are outside the LevelDB snapshot: a long read can see the sweeper delete
      // bytes that only its older view still references. Read the block again, from now.
      if (!(err instanceof MissingChunkError) || attempt === 3) throw err;
    }
  }
}
