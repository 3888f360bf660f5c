/**
 * The LevelDB key layout. This is the only file that knows it.
 *
 * Integers are fixed-width big-endian so that byte order is numeric order; strings are
 * length-prefixed so that no id is a prefix of another id's keys.
 *
 *   V|vol                      volume record (JSON)
 *   M|vol|blk|~birth|seq       version of a block: seq 0 is the head (base chunk), seq 1.. its deltas;
 *                              ~birth = 2^64-1-birth, so the newest version of a block sorts first
 *   E|vol|birth|blk            epoch index: versions born in a generation
 *   D|vol|death|birth|blk      deadlist: versions superseded at generation `death`
 *   S|snap                     snapshot record (JSON)
 *   N|vol|gen                  snapshot id, per volume in generation order
 *   R|chunk                    refcount (u32) and where the bytes are (u64 sequence number)
 *   Q|chunk                    zero-refcount queue, swept later after a recheck
 *   K                          highest chunk sequence number a committed batch references
 *   P|seq                      where chunk bytes #seq are: pack file, offset, length (pack-chunk-bytes.ts)
 *   X|namespace|id             opaque records of the layers above (catalog, copy progress)
 *   F                          flush marker, written with sync to force the log to disk
 *
 * Data directories that keep chunk bytes in a second LevelDB (level-chunk-bytes.ts) hold there:
 *
 *   C|seq                      chunk bytes, in the order they were first stored
 *   F                          flush marker
 */

export const CHUNK_ID_BYTES = 17; // 16 bytes of hash + 1 collision-probe byte

const TAG = {
  volume: 0x56, // V
  version: 0x4d, // M
  epoch: 0x45, // E
  dead: 0x44, // D
  snapshot: 0x53, // S
  snapshotByGen: 0x4e, // N
  chunkData: 0x43, // C (in the chunk database)
  chunkSeqMark: 0x4b, // K
  packIndex: 0x50, // P
  refcount: 0x52, // R
  zeroRefQueue: 0x51, // Q
  record: 0x58, // X
  flush: 0x46, // F
} as const;

const U32_MAX = 0xffffffff;
const TWO_32 = 0x1_0000_0000;

class KeyBuilder {
  private readonly parts: Buffer[] = [];

  tag(t: number): this {
    this.parts.push(Buffer.from([t]));
    return this;
  }

  str(s: string): this {
    const bytes = Buffer.from(s, 'utf8');
    if (bytes.length > 255) throw new RangeError(`key component too long: ${s.slice(0, 40)}…`);
    this.parts.push(Buffer.from([bytes.length]), bytes);
    return this;
  }

  u16(n: number): this {
    const b = Buffer.allocUnsafe(2);
    b.writeUInt16BE(n);
    this.parts.push(b);
    return this;
  }

  u32(n: number): this {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32BE(n);
    this.parts.push(b);
    return this;
  }

  /** A generation (a safe integer) as a u64. */
  u64(n: number): this {
    const b = Buffer.allocUnsafe(8);
    b.writeUInt32BE(Math.floor(n / TWO_32), 0);
    b.writeUInt32BE(n % TWO_32, 4);
    this.parts.push(b);
    return this;
  }

  /** 2^64-1-n: newest first. */
  inv64(n: number): this {
    const b = Buffer.allocUnsafe(8);
    b.writeUInt32BE(U32_MAX - Math.floor(n / TWO_32), 0);
    b.writeUInt32BE(U32_MAX - (n % TWO_32), 4);
    this.parts.push(b);
    return this;
  }

  raw(b: Buffer): this {
    this.parts.push(b);
    return this;
  }

  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}

const k = () => new KeyBuilder();

/** The smallest key greater than every key that starts with `prefix`. */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0xff, 0xff, 0xff, 0xff]);
}

export const volumeKey = (vol: string) => k().tag(TAG.volume).str(vol).build();
export const volumePrefix = () => Buffer.from([TAG.volume]);

/** Prefix of everything a volume holds in one of the per-volume families. */
const volFamily = (tag: number, vol: string) => k().tag(tag).str(vol).build();

export const versionPrefix = (vol: string) => volFamily(TAG.version, vol);
export const blockPrefix = (vol: string, blk: number) => k().tag(TAG.version).str(vol).u32(blk).build();
export const versionKey = (vol: string, blk: number, birth: number, seq = 0) =>
  k().tag(TAG.version).str(vol).u32(blk).inv64(birth).u16(seq).build();

export interface VersionKeyParts {
  blk: number;
  birth: number;
  seq: number;
}

export function parseVersionKey(key: Buffer, vol: string): VersionKeyParts {
  const base = 2 + Buffer.byteLength(vol, 'utf8');
  const blk = key.readUInt32BE(base);
  const hi = U32_MAX - key.readUInt32BE(base + 4);
  const lo = U32_MAX - key.readUInt32BE(base + 8);
  return { blk, birth: hi * TWO_32 + lo, seq: key.readUInt16BE(base + 12) };
}

/** Every volume's epoch index, or deadlist. */
export const epochFamily = () => Buffer.from([TAG.epoch]);
export const deadFamily = () => Buffer.from([TAG.dead]);
export const epochPrefix = (vol: string) => volFamily(TAG.epoch, vol);
export const epochGenPrefix = (vol: string, birth: number) => k().tag(TAG.epoch).str(vol).u64(birth).build();
export const epochKey = (vol: string, birth: number, blk: number) =>
  k().tag(TAG.epoch).str(vol).u64(birth).u32(blk).build();

export function parseEpochKey(key: Buffer, vol: string): { birth: number; blk: number } {
  const base = 2 + Buffer.byteLength(vol, 'utf8');
  return { birth: readU64(key, base), blk: key.readUInt32BE(base + 8) };
}

export const deadPrefix = (vol: string) => volFamily(TAG.dead, vol);
export const deadDeathPrefix = (vol: string, death: number) => k().tag(TAG.dead).str(vol).u64(death).build();
export const deadKey = (vol: string, death: number, birth: number, blk: number) =>
  k().tag(TAG.dead).str(vol).u64(death).u64(birth).u32(blk).build();
/** Lower bound for deadlist entries of one death generation with birth >= `birth`. */
export const deadBirthFloor = (vol: string, death: number, birth: number) =>
  k().tag(TAG.dead).str(vol).u64(death).u64(birth).build();

export function parseDeadKey(key: Buffer, vol: string): { death: number; birth: number; blk: number } {
  const base = 2 + Buffer.byteLength(vol, 'utf8');
  return { death: readU64(key, base), birth: readU64(key, base + 8), blk: key.readUInt32BE(base + 16) };
}

export const snapshotKey = (snap: string) => k().tag(TAG.snapshot).str(snap).build();
export const snapshotPrefix = () => Buffer.from([TAG.snapshot]);

export const snapshotByGenPrefix = (vol: string) => volFamily(TAG.snapshotByGen, vol);
export const snapshotByGenKey = (vol: string, gen: number) => k().tag(TAG.snapshotByGen).str(vol).u64(gen).build();
export function parseSnapshotByGenKey(key: Buffer, vol: string): number {
  return readU64(key, 2 + Buffer.byteLength(vol, 'utf8'));
}

export const chunkDataKey = (seq: number) => k().tag(TAG.chunkData).u64(seq).build();
export const chunkDataPrefix = () => Buffer.from([TAG.chunkData]);
export const parseChunkDataKey = (key: Buffer) => readU64(key, 1);
export const packIndexKey = (seq: number) => k().tag(TAG.packIndex).u64(seq).build();
export const packIndexPrefix = () => Buffer.from([TAG.packIndex]);
export const parsePackIndexKey = (key: Buffer) => readU64(key, 1);
export const chunkSeqMarkKey = () => Buffer.from([TAG.chunkSeqMark]);
export const refcountKey = (id: Buffer) => k().tag(TAG.refcount).raw(id).build();
export const refcountPrefix = () => Buffer.from([TAG.refcount]);
export const zeroRefKey = (id: Buffer) => k().tag(TAG.zeroRefQueue).raw(id).build();
export const zeroRefPrefix = () => Buffer.from([TAG.zeroRefQueue]);
/** The chunk id inside an R or Q key. */
export const chunkIdOfKey = (key: Buffer) => key.subarray(1);

export const recordKey = (namespace: string, id: string) => k().tag(TAG.record).str(namespace).str(id).build();
export const recordPrefix = (namespace: string) => k().tag(TAG.record).str(namespace).build();
export function parseRecordKey(key: Buffer, namespace: string): string {
  const base = 2 + Buffer.byteLength(namespace, 'utf8');
  const len = key[base]!;
  return key.subarray(base + 1, base + 1 + len).toString('utf8');
}

export const flushKey = () => Buffer.from([TAG.flush]);

/** Range options for an iterator over every key that starts with `prefix`. */
export const prefixRange = (prefix: Buffer) => ({ gte: prefix, lt: prefixEnd(prefix) });

/** The string id inside a V or S key. */
export function parseIdKey(key: Buffer): string {
  return key.subarray(2, 2 + key[1]!).toString('utf8');
}

/** A safe integer as 8 big-endian bytes (for values, too). */
export const u64 = (n: number) => k().u64(n).build();

function readU64(key: Buffer, at: number): number {
  return key.readUInt32BE(at) * TWO_32 + key.readUInt32BE(at + 4);
}
