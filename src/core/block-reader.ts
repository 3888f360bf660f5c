/**
 * The read path, shared by live volumes (read at the newest generation) and snapshots (read at
 * the snapshot's generation). Each read runs against one LevelDB snapshot, so it sees one
 * consistent state even while writes and the chunk sweeper go on.
 */
import type { ClassicLevel } from 'classic-level';
import type { ChunkStore } from './chunk-store.js';
import * as keys from './keys.js';
import { decodeHead, type BackingRef } from './records.js';
import { isZeroVersion, materialize, MissingChunkError, readVersionAt, type DbSnapshot } from './version-map.js';

export interface ReaderContext {
  db: ClassicLevel<Buffer, Buffer>;
  chunks: ChunkStore;
  readBacking(backing: BackingRef, blk: number): Promise<Buffer | null>;
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

export async function readRange(ctx: ReaderContext, view: ReadView, offset: number, length: number): Promise<Buffer> {
  // Not zero-filled: every byte is either copied below or zeroed there (holes, short content).
  const out = Buffer.allocUnsafe(length);
  if (length === 0) return out;
  const { blockSize } = view;
  const first = Math.floor(offset / blockSize);
  const last = Math.floor((offset + length - 1) / blockSize);
  const snapshot = ctx.db.snapshot();
  try {
    for (let start = first; start <= last; start += READ_AHEAD) {
      const blocks: number[] = [];
      for (let b = start; b <= Math.min(last, start + READ_AHEAD - 1); b++) blocks.push(b);
      await Promise.all(
        blocks.map(async (blk) => {
          const content = await readBlockWith(ctx, view, blk, snapshot);
          const blockStart = blk * blockSize;
          const from = Math.max(offset, blockStart);
          const to = Math.min(offset + length, blockStart + blockSize);
          const copied = content ? content.copy(out, from - offset, from - blockStart, to - blockStart) : 0;
          if (copied < to - from) out.fill(0, from - offset + copied, to - offset); // a hole
        }),
      );
    }
  } finally {
    await snapshot.close();
  }
  return out;
}

/** A whole block's content, or null when it reads as zeros. */
export async function readBlock(ctx: ReaderContext, view: ReadView, blk: number): Promise<Buffer | null> {
  const snapshot = ctx.db.snapshot();
  try {
    return await readBlockWith(ctx, view, blk, snapshot);
  } finally {
    await snapshot.close();
  }
}

/**
 * A block's content when the version's birth is known (listings give it): a point lookup of
 * its head instead of a seek, for bulk streaming. Only for versions that no longer change,
 * i.e. those a snapshot sees. A plain chunk is read into `into` when given (the result is then a
 * view of it), so a streaming caller allocates nothing per block.
 */
export async function readKnownVersion(ctx: ReaderContext, view: ReadView, blk: number, birth: number, into?: Buffer): Promise<Buffer | null> {
  const raw = ctx.db.getSync(keys.versionKey(view.volumeId, blk, birth));
  if (raw === undefined) return readBlock(ctx, view, blk);
  const head = decodeHead(birth, raw);
  if (head.deltaCount > 0 || head.inherits > 0) return readBlock(ctx, view, blk);
  if (!head.base) return null;
  const content = await ctx.chunks.get(head.base, into);
  return content ?? readBlock(ctx, view, blk); // swept under us: take the careful path
}

/**
 * SHA-256 (hex) and length of a known version's content, without reading it: only for a version
 * that is exactly one stored chunk (no deltas, nothing inherited) and a layout that keeps chunk
 * digests; undefined otherwise.
 */
export function knownVersionDigest(ctx: ReaderContext, view: ReadView, blk: number, birth: number): { sha256: string; length: number } | undefined {
  const raw = ctx.db.getSync(keys.versionKey(view.volumeId, blk, birth));
  if (raw === undefined) return undefined;
  const head = decodeHead(birth, raw);
  if (!head.base || head.deltaCount > 0 || head.inherits > 0) return undefined;
  const d = ctx.chunks.digest(head.base);
  return d && { sha256: d.sha256.toString('hex'), length: d.length };
}

async function readBlockWith(ctx: ReaderContext, view: ReadView, blk: number, snapshot: DbSnapshot) {
  for (let attempt = 1; ; attempt++) {
    const version = await readVersionAt(ctx.db, view.volumeId, blk, view.gen, attempt === 1 ? snapshot : undefined);
    if (!version) return view.backing ? ctx.readBacking(view.backing, blk) : null;
    if (isZeroVersion(version)) return null;
    try {
      return await materialize(version, ctx.chunks, view.blockSize);
    } catch (err) {
      // Chunk bytes are outside the LevelDB snapshot: a long read can see the sweeper delete
      // bytes that only its older view still references. Read the block again, from now.
      if (!(err instanceof MissingChunkError) || attempt === 3) throw err;
    }
  }
}
