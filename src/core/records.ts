/**
 * Records the core keeps in LevelDB, and their encodings.
 *
 * Vocabulary (DESIGN.md): a volume's blocks are stored as *versions*. A version is born in the
 * volume's current *generation*; a snapshot freezes a generation. A version's content is its base
 * (a content-addressed chunk, or all zeros) with its *deltas* (small writes, logged instead of
 * rewriting 512 KiB) applied in order.
 */
import { CHUNK_ID_BYTES } from './keys.js';

export type VolumeState = 'available' | 'deleted';

export interface VolumeRecord {
  id: string;
  /** Bytes. */
  size: number;
  blockSize: number;
  /** Generation that writes are tagged with now. Starts at 1; 0 is reserved for hydrated data. */
  gen: number;
  /** Generation of the newest existing snapshot; 0 when there is none. */
  lastSnapGen: number;
  lastSnapId: string | null;
  /** Versions born after lastSnapGen (E entries), i.e. what the next snapshot will hold. */
  dirtyBlocks: number;
  state: VolumeState;
  /** Still freeing versions after deletion (resumed at open after a crash). */
  purging?: boolean;
  /** First block the purge has not handled yet. */
  purgeCursor?: number;
  /** Restored from a snapshot: blocks with no version are read from it (lazy loading). */
  backing?: BackingRef;
  createdAt: string;
}

export interface BackingRef {
  snapshotId: string;
  /**
   * Every block of the snapshot is stored in the volume (its hydration finished): blocks with no
   * version are the snapshot's holes, read as zeros, and the snapshot is no longer needed.
   */
  hydrated?: boolean;
}

/** True while reads of blocks with no version must go to the backing snapshot. */
export function loadsFromBacking(ref: BackingRef | undefined): ref is BackingRef {
  return ref !== undefined && ref.hydrated !== true;
}

export interface SnapshotRecord {
  id: string;
  volumeId: string;
  gen: number;
  /** The previous existing snapshot of the same volume, if any. */
  parentId: string | null;
  /** Versions born in (parent.gen, gen]: the blocks this snapshot holds that its parent does not. */
  entries: number;
  volumeSize: number;
  blockSize: number;
  /** The volume's backing at freeze time: blocks it never wrote come from there. */
  backing?: BackingRef;
  createdAt: string;
}

/** Where a chunk is: its content id (hash + probe byte) and the sequence number of its bytes. */
export interface ChunkRef {
  id: Buffer;
  seq: number;
}

/** A block version's head (seq 0). */
export interface VersionHead {
  birth: number;
  /** Base chunk, or null for an all-zero base. */
  base: ChunkRef | null;
  deltaCount: number;
  deltaBytes: number;
  /** An older version (or a backing snapshot) lies beneath: removing this one would expose it. */
  hidesOlder: boolean;
  /**
   * How many versions deep this one inherits: 0 for a version with its own base; n > 0 for one
   * whose base is the content of the version directly beneath it (itself inheriting n - 1 deep),
   * so that superseding a frozen version costs a delta, not a copy of its deltas or a rewrite.
   */
  inherits: number;
}

const FLAG_HAS_BASE = 1;
const FLAG_HIDES_OLDER = 2;
/** Bits 2-4 of the flags byte: the inherit depth (0-7). */
const INHERIT_SHIFT = 2;
const INHERIT_MASK = 0b11100;
export const MAX_INHERIT_DEPTH = 4;
const HEAD_BYTES = 1 + CHUNK_ID_BYTES + 8 + 2 + 4;
const SEQ_AT = 1 + CHUNK_ID_BYTES;
const COUNT_AT = SEQ_AT + 8;

export function encodeHead(h: VersionHead): Buffer {
  const b = Buffer.alloc(HEAD_BYTES);
  if (h.inherits < 0 || h.inherits > 7 || (h.inherits > 0 && h.base)) throw new Error(`bad inherit depth ${h.inherits}`);
  b[0] = (h.base ? FLAG_HAS_BASE : 0) | (h.hidesOlder ? FLAG_HIDES_OLDER : 0) | (h.inherits << INHERIT_SHIFT);
  if (h.base) {
    h.base.id.copy(b, 1);
    b.writeUInt32BE(Math.floor(h.base.seq / 2 ** 32), SEQ_AT);
    b.writeUInt32BE(h.base.seq % 2 ** 32, SEQ_AT + 4);
  }
  b.writeUInt16BE(h.deltaCount, COUNT_AT);
  b.writeUInt32BE(h.deltaBytes, COUNT_AT + 2);
  return b;
}

export function decodeHead(birth: number, b: Buffer): VersionHead {
  if (b.length !== HEAD_BYTES) throw new Error(`bad version head (${b.length} bytes)`);
  const flags = b[0]!;
  return {
    birth,
    base:
      flags & FLAG_HAS_BASE
        ? { id: Buffer.from(b.subarray(1, SEQ_AT)), seq: b.readUInt32BE(SEQ_AT) * 2 ** 32 + b.readUInt32BE(SEQ_AT + 4) }
        : null,
    deltaCount: b.readUInt16BE(COUNT_AT),
    deltaBytes: b.readUInt32BE(COUNT_AT + 2),
    hidesOlder: (flags & FLAG_HIDES_OLDER) !== 0,
    inherits: (flags & INHERIT_MASK) >> INHERIT_SHIFT,
  };
}

/** A delta: bytes written at an offset inside the block. */
export interface Delta {
  offset: number;
  data: Buffer;
}

export function encodeDelta(d: Delta): Buffer {
  const b = Buffer.allocUnsafe(4 + d.data.length);
  b.writeUInt32BE(d.offset, 0);
  d.data.copy(b, 4);
  return b;
}

export function decodeDelta(b: Buffer): Delta {
  return { offset: b.readUInt32BE(0), data: b.subarray(4) };
}

export const encodeJson = (value: unknown) => Buffer.from(JSON.stringify(value));
export const decodeJson = <T>(b: Buffer): T => JSON.parse(b.toString('utf8')) as T;
