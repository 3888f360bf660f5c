/**
 * Reading the per-block version map (M keys).
 *
 * The version of block `blk` visible at generation G is the first key at or after
 * M|vol|blk|~G: keys sort newest first, so that is the newest version born at or before G.
 * Its deltas follow it directly, so a read at any generation is one seek plus a short scan.
 */
import type { ClassicLevel } from 'classic-level';
import type { ChunkStore } from './chunk-store.js';
import { CoreError } from './errors.js';
import * as keys from './keys.js';
import { decodeDelta, decodeHead, type ChunkRef, type Delta, type VersionHead } from './records.js';

type Db = ClassicLevel<Buffer, Buffer>;
export type DbSnapshot = ReturnType<Db['snapshot']>;

export interface Version {
  head: VersionHead;
  deltas: Delta[];
  /** For an inheriting version: the version directly beneath it, whose content is its base. */
  below?: Version;
}

/**
 * The version of a block visible at `gen` (with its deltas, and the versions it inherits
 * from), or undefined if none. An inheriting version's base sorts right after its deltas, so
 * the whole chain is one seek and a scan.
 */
export async function readVersionAt(
  db: Db,
  vol: string,
  blk: number,
  gen: number,
  snapshot?: DbSnapshot,
): Promise<Version | undefined> {
  const it = db.iterator({
    gte: keys.versionKey(vol, blk, gen, 0),
    lt: keys.prefixEnd(keys.blockPrefix(vol, blk)),
    ...(snapshot ? { snapshot } : {}),
  });
  // nextv may return fewer entries than asked for: take them one at a time from a small buffer.
  let buffered: Array<[Buffer, Buffer]> = [];
  const next = async (want: number) => {
    if (buffered.length === 0) buffered = await it.nextv(Math.max(1, want));
    return buffered.shift();
  };
  const readOne = async (what: string): Promise<Version | undefined> => {
    const entry = await next(1);
    if (!entry) return undefined;
    const parts = keys.parseVersionKey(entry[0], vol);
    if (parts.seq !== 0) throw new CoreError('CORRUPTION', `${what} of ${vol} block ${blk} is a delta without head`);
    const head = decodeHead(parts.birth, entry[1]);
    const deltas: Delta[] = [];
    while (deltas.length < head.deltaCount) {
      const d = await next(head.deltaCount - deltas.length + 1);
      const p = d && keys.parseVersionKey(d[0], vol);
      if (!d || !p || p.birth !== head.birth || p.seq !== deltas.length + 1) {
        throw new CoreError('CORRUPTION', `version ${vol}/${blk}@${head.birth} lists ${head.deltaCount} deltas, found ${deltas.length}`);
      }
      deltas.push(decodeDelta(d[1]));
    }
    return { head, deltas };
  };
  try {
    const top = await readOne('version');
    for (let v = top; v && v.head.inherits > 0; v = v.below) {
      v.below = await readOne('inherited version');
      if (!v.below) throw new CoreError('CORRUPTION', `version ${vol}/${blk}@${v.head.birth} inherits from nothing`);
    }
    return top;
  } finally {
    await it.close();
  }
}

/** The newest version's head of a block (no deltas), or undefined. */
export async function readNewestHead(db: Db, vol: string, blk: number): Promise<VersionHead | undefined> {
  const it = db.iterator({ ...keys.prefixRange(keys.blockPrefix(vol, blk)), limit: 1 });
  try {
    const entry = (await it.nextv(1))[0];
    if (!entry) return undefined;
    return decodeHead(keys.parseVersionKey(entry[0], vol).birth, entry[1]);
  } finally {
    await it.close();
  }
}

/** A version's head with its deltas read by point lookups (the birth is known). */
export async function readVersion(db: Db, vol: string, blk: number, birth: number): Promise<Version | undefined> {
  return readVersionAt(db, vol, blk, birth).then((v) => (v && v.head.birth === birth ? v : undefined));
}

/** Thrown when a version's chunk bytes are gone: corruption, or a read that raced the sweeper. */
export class MissingChunkError extends CoreError {
  constructor(ref: ChunkRef) {
    super('CORRUPTION', `missing chunk ${ref.id.toString('hex')} (bytes #${ref.seq})`);
  }
}

/** The full content of a version: its base (a chunk, zeros, or what it inherits) with its deltas applied in order. */
/** A version's content; built in `into` (at least blockSize long) when given, the result then a view of it. */
export async function materialize(version: Version, chunks: ChunkStore, blockSize: number, into?: Buffer): Promise<Buffer> {
  const { head, deltas } = version;
  let content: Buffer;
  // Every buffer here is this call's own (chunk reads return fresh buffers): deltas apply in place.
  if (version.below) {
    content = await materialize(version.below, chunks, blockSize, into);
  } else if (head.base) {
    const stored = await chunks.get(head.base, into);
    if (!stored) throw new MissingChunkError(head.base);
    content = stored;
  } else {
    content = into ? into.subarray(0, blockSize).fill(0) : Buffer.alloc(blockSize);
  }
  for (const d of deltas) d.data.copy(content, d.offset);
  return content;
}

/** True when the version reads as all zeros without looking at chunk bytes. */
export const isZeroVersion = (v: Version) => isZeroHead(v.head);
export const isZeroHead = (h: VersionHead) => h.base === null && h.deltaCount === 0 && h.inherits === 0;

/** Blocks in [first, last] that hold a newest version with data (not a zero tombstone). */
export async function allocatedBlocks(db: Db, vol: string, first: number, last: number): Promise<Set<number>> {
  const allocated = new Set<number>();
  const end = last >= 0xffffffff ? keys.prefixEnd(keys.versionPrefix(vol)) : keys.blockPrefix(vol, last + 1);
  const it = db.iterator({ gte: keys.blockPrefix(vol, first), lt: end });
  try {
    for (let entry = (await it.nextv(1))[0]; entry; entry = (await it.nextv(1))[0]) {
      const { blk, birth } = keys.parseVersionKey(entry[0], vol);
      const head = decodeHead(birth, entry[1]);
      if (!isZeroHead(head)) allocated.add(blk);
      if (blk >= last) break;
      it.seek(keys.blockPrefix(vol, blk + 1)); // past this block's older versions and deltas
    }
  } finally {
    await it.close();
  }
  return allocated;
}
