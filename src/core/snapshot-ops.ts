/**
 * Freezing and deleting snapshots: ZFS's birth-time and deadlist scheme as LevelDB key ranges.
 *
 * Freeze: record the volume's generation and bump it. O(1): no map copy, no refcount walk.
 *
 * Delete S (previous snapshot P or none, next N or the live volume): a version S could see dies
 * with S only if nobody else sees it. Versions that died in (S.gen, N.gen] (deadlist) were
 * invisible to N; those born after P.gen were invisible to P. Exactly those are freed; the rest
 * stay. Cost: the deadlist entries of that range with birth in (P.gen, S.gen], found by seeking,
 * so it grows with what is freed, never with the volume's size.
 */
import type { ClassicLevel } from 'classic-level';
import type { ChunkStore } from './chunk-store.js';
import { CoreError } from './errors.js';
import * as keys from './keys.js';
import { isZero } from './zero.js';
import { decodeHead, decodeJson, encodeHead, encodeJson, type SnapshotRecord, type VersionHead, type VolumeRecord } from './records.js';
import { isZeroHead, materialize, readVersionAt } from './version-map.js';
import type { WriteTx } from './write-tx.js';

type Db = ClassicLevel<Buffer, Buffer>;

/** Stages the freeze of one volume; mutates `vol` (a private copy). */
export function stageFreeze(tx: WriteTx, vol: VolumeRecord, snapshotId: string, now: Date): SnapshotRecord {
  const snap: SnapshotRecord = {
    id: snapshotId,
    volumeId: vol.id,
    gen: vol.gen,
    parentId: vol.lastSnapId,
    entries: vol.dirtyBlocks,
    volumeSize: vol.size,
    blockSize: vol.blockSize,
    ...(vol.backing ? { backing: vol.backing } : {}),
    createdAt: now.toISOString(),
  };
  tx.put(keys.snapshotKey(snap.id), encodeJson(snap));
  tx.put(keys.snapshotByGenKey(vol.id, snap.gen), Buffer.from(snap.id));
  vol.lastSnapGen = vol.gen;
  vol.lastSnapId = snap.id;
  vol.gen += 1;
  vol.dirtyBlocks = 0;
  tx.put(keys.volumeKey(vol.id), encodeJson(vol));
  return snap;
}

/** Synchronous: a small record, most often in the memtable or block cache; a thread-pool round trip costs more. */
export function readSnapshotRecord(db: Db, id: string): SnapshotRecord | undefined {
  const v = db.getSync(keys.snapshotKey(id));
  return v === undefined ? undefined : decodeJson<SnapshotRecord>(v);
}

/** The oldest snapshot of `vol` born after generation `gen`. */
export async function nextSnapshot(db: Db, vol: string, gen: number): Promise<SnapshotRecord | undefined> {
  const it = db.values({ gt: keys.snapshotByGenKey(vol, gen), lt: keys.prefixEnd(keys.snapshotByGenPrefix(vol)), limit: 1 });
  const id = (await it.all())[0];
  if (id === undefined) return undefined;
  const snap = readSnapshotRecord(db, id.toString());
  if (!snap) throw new CoreError('CORRUPTION', `snapshot index names missing snapshot ${id.toString()}`);
  return snap;
}

export interface DeleteResult {
  freedVersions: number;
  /** Versions that inherited from a freed one and now hold their own content (their heads changed). */
  rebasedVersions: number;
  /** The volume was already deleted and this was its last snapshot: purge what remains. */
  volumeOrphaned: boolean;
}

/** Stages the deletion of `snap`; mutates `vol` (a private copy) when the live volume absorbs it. */
export async function stageSnapshotDelete(
  db: Db,
  chunks: ChunkStore,
  tx: WriteTx,
  vol: VolumeRecord,
  snap: SnapshotRecord,
): Promise<DeleteResult> {
  const parent = snap.parentId ? readSnapshotRecord(db, snap.parentId) : undefined;
  if (snap.parentId && !parent) throw new CoreError('CORRUPTION', `snapshot ${snap.id} names missing parent ${snap.parentId}`);
  const p = parent?.gen ?? 0;
  const next = await nextSnapshot(db, vol.id, snap.gen);
  const deathEnd = next ? keys.deadDeathPrefix(vol.id, next.gen + 1) : keys.prefixEnd(keys.deadPrefix(vol.id));

  const freed: Array<{ key: Buffer; blk: number; birth: number }> = [];
  const it = db.keys({ gte: keys.deadBirthFloor(vol.id, snap.gen + 1, p + 1), lt: deathEnd });
  try {
    for (;;) {
      const key = (await it.nextv(1))[0];
      if (!key) break;
      const d = keys.parseDeadKey(key, vol.id);
      if (d.birth <= p) {
        it.seek(keys.deadBirthFloor(vol.id, d.death, p + 1)); // still seen by the parent: keep
        continue;
      }
      if (d.birth > snap.gen) {
        it.seek(keys.deadBirthFloor(vol.id, d.death + 1, p + 1));
        continue;
      }
      freed.push({ key, blk: d.blk, birth: d.birth });
    }
  } finally {
    await it.close();
  }

  // A surviving version that inherits from a freed one must first take its own content: read
  // (through the chain, still whole before this batch) and store it as a chunk.
  const dying = new Set(freed.map((f) => `${f.blk}@${f.birth}`));
  let rebased = 0;
  for (const f of freed) {
    const newer = await newerVersionHead(db, vol.id, f.blk, f.birth);
    if (newer && newer.inherits > 0 && !dying.has(`${f.blk}@${newer.birth}`)) {
      await stageRebase(db, chunks, tx, vol, f.blk, newer);
      rebased++;
    }
  }
  for (const f of freed) {
    await stageFreeVersion(db, chunks, tx, vol.id, f.blk, f.birth);
    tx.del(f.key);
  }

  // The survivors of S's range now belong to the next snapshot's range (or the live volume's).
  const survivors = snap.entries - freed.length;
  if (next) {
    tx.put(keys.snapshotKey(next.id), encodeJson({ ...next, parentId: snap.parentId, entries: next.entries + survivors }));
  } else {
    vol.lastSnapGen = p;
    vol.lastSnapId = snap.parentId;
    if (vol.state === 'available') vol.dirtyBlocks += survivors;
  }
  tx.del(keys.snapshotKey(snap.id));
  tx.del(keys.snapshotByGenKey(vol.id, snap.gen));
  tx.put(keys.volumeKey(vol.id), encodeJson(vol));
  return { freedVersions: freed.length, rebasedVersions: rebased, volumeOrphaned: vol.state === 'deleted' && !parent && !next };
}

/** The head of the version of `blk` directly newer than the one born at `birth`, if any. */
async function newerVersionHead(db: Db, vol: string, blk: number, birth: number): Promise<VersionHead | undefined> {
  const it = db.keys({ gte: keys.blockPrefix(vol, blk), lt: keys.versionKey(vol, blk, birth), reverse: true, limit: 1 });
  const key = (await it.all())[0];
  if (!key) return undefined;
  const newer = keys.parseVersionKey(key, vol).birth; // its head, or its last delta
  const raw = await db.get(keys.versionKey(vol, blk, newer));
  if (raw === undefined) throw new CoreError('CORRUPTION', `version ${vol}/${blk}@${newer} has deltas but no head`);
  return decodeHead(newer, raw);
}

/** Gives an inheriting version its own content: one chunk (or zeros), no deltas. */
async function stageRebase(db: Db, chunks: ChunkStore, tx: WriteTx, vol: VolumeRecord, blk: number, head: VersionHead) {
  const version = await readVersionAt(db, vol.id, blk, head.birth);
  if (!version || version.head.birth !== head.birth) throw new CoreError('CORRUPTION', `version ${vol.id}/${blk}@${head.birth} vanished`);
  const content = await materialize(version, chunks, vol.blockSize);
  const base = isZero(content) ? null : await chunks.ref(tx, content);
  for (let seq = 1; seq <= head.deltaCount; seq++) tx.del(keys.versionKey(vol.id, blk, head.birth, seq));
  tx.put(keys.versionKey(vol.id, blk, head.birth), encodeHead({ ...head, base, deltaCount: 0, deltaBytes: 0, inherits: 0 }));
}

/** Removes one version (head, deltas, epoch entry) and drops its chunk reference. */
export async function stageFreeVersion(db: Db, chunks: ChunkStore, tx: WriteTx, vol: string, blk: number, birth: number) {
  const headKey = keys.versionKey(vol, blk, birth);
  const raw = await db.get(headKey);
  if (raw === undefined) throw new CoreError('CORRUPTION', `deadlist names missing version ${vol}/${blk}@${birth}`);
  const head = decodeHead(birth, raw);
  tx.del(headKey);
  for (let seq = 1; seq <= head.deltaCount; seq++) tx.del(keys.versionKey(vol, blk, birth, seq));
  tx.del(keys.epochKey(vol, birth, blk));
  if (head.base) chunks.unref(tx, head.base);
}

export interface SnapshotBlock {
  index: number;
  /** Birth of the version the snapshot sees: lets a reader fetch it with a point lookup. */
  birth: number;
  /** The block reads as zeros (a hole or a zero tombstone) at this snapshot. */
  zero: boolean;
}

/**
 * Blocks whose version at `snap` was born after its parent: what it holds that its parent does
 * not. Every version born in (parent.gen, snap.gen] that still exists is the one `snap` sees
 * (deletes free every version nobody sees), so this is a plain range scan of the epoch index.
 */
export async function* changedBlocks(db: Db, snap: SnapshotRecord): AsyncGenerator<SnapshotBlock> {
  // `entries` counts exactly those versions (fsck checks it): none, no scan. A snapshot of an
  // unchanged volume is common (a schedule, a set), and an iterator costs ~0.1 ms of the loop.
  if (snap.entries === 0) return;
  const parent = snap.parentId ? readSnapshotRecord(db, snap.parentId) : undefined;
  const from = (parent?.gen ?? 0) + 1;
  const range = { gte: keys.epochGenPrefix(snap.volumeId, from), lt: keys.epochGenPrefix(snap.volumeId, snap.gen + 1) };
  for await (const key of db.keys(range)) {
    const { birth, blk } = keys.parseEpochKey(key, snap.volumeId);
    const head = db.getSync(keys.versionKey(snap.volumeId, blk, birth)); // a few bytes: no thread-pool round trip
    if (head === undefined) throw new CoreError('CORRUPTION', `epoch index names missing version ${snap.volumeId}/${blk}@${birth}`);
    const h = decodeHead(birth, head);
    yield { index: blk, birth, zero: isZeroHead(h) };
  }
}

/**
 * The blocks, ascending, with a version born in (older.gen, newer.gen] of their volume: every
 * block whose content may differ between two snapshots of it (a write or a trim in between made
 * such a version, and the newer snapshot still sees it). A range scan of the epoch index, so it
 * costs what changed, not what the volume holds. Some may hold the same bytes again.
 */
export async function blocksBornBetween(db: Db, a: SnapshotRecord, b: SnapshotRecord): Promise<Uint32Array> {
  const [older, newer] = a.gen <= b.gen ? [a, b] : [b, a];
  const vol = newer.volumeId;
  const range = { gte: keys.epochGenPrefix(vol, older.gen + 1), lt: keys.epochGenPrefix(vol, newer.gen + 1) };
  const found: number[] = [];
  for await (const key of db.keys(range)) found.push(keys.parseEpochKey(key, vol).blk);
  const sorted = Uint32Array.from(found).sort();
  let n = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[n++] = sorted[i]!;
  return sorted.slice(0, n);
}

/** Every block with a version visible at `snap` (zero tombstones included, flagged), in block order. */
export async function* visibleBlocks(db: Db, snap: SnapshotRecord): AsyncGenerator<SnapshotBlock> {
  const vol = snap.volumeId;
  const it = db.iterator(keys.prefixRange(keys.versionPrefix(vol)));
  try {
    let entry = (await it.nextv(1))[0];
    while (entry) {
      const { blk } = keys.parseVersionKey(entry[0], vol);
      it.seek(keys.versionKey(vol, blk, snap.gen)); // skip versions born after the snapshot
      entry = (await it.nextv(1))[0];
      if (entry && keys.parseVersionKey(entry[0], vol).blk === blk) {
        const { birth } = keys.parseVersionKey(entry[0], vol);
        yield { index: blk, birth, zero: isZeroHead(decodeHead(birth, entry[1])) };
      }
      if (blk === 0xffffffff) break;
      it.seek(keys.blockPrefix(vol, blk + 1));
      entry = (await it.nextv(1))[0];
    }
  } finally {
    await it.close();
  }
}
