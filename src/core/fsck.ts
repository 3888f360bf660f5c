/**
 * Offline check of the whole store, mark and sweep: recomputes every refcount from the version
 * map and reports missing chunks (referenced, not stored), leaked chunks (stored, referenced by
 * nothing, not queued for the sweeper), refcount mismatches, and index problems: epoch and
 * deadlist entries that do not match the map, versions nobody can see, counters that drifted.
 */
import type { ClassicLevel } from 'classic-level';
import type { ChunkBytes } from './chunk-bytes.js';
import { decodeRefcount } from './chunk-store.js';
import * as keys from './keys.js';
import { decodeHead, decodeJson, type SnapshotRecord, type VolumeRecord } from './records.js';

type Db = ClassicLevel<Buffer, Buffer>;

export interface FsckReport {
  /** No missing chunk, no refcount mismatch, no index problem. Leaks and queued chunks are not errors. */
  ok: boolean;
  volumes: number;
  snapshots: number;
  versions: number;
  /** Versions (map heads) per volume id. */
  versionsByVolume: Record<string, number>;
  chunks: number;
  missingChunks: string[];
  leakedChunks: string[];
  /** Zero-refcount chunks waiting for the sweeper. */
  queuedChunks: number;
  refcountMismatches: Array<{ chunk: string; stored: number; actual: number }>;
  problems: string[];
}

const MAX_LISTED = 100;

export async function runFsck(db: Db, bytes: ChunkBytes): Promise<FsckReport> {
  const problems: string[] = [];
  const problem = (p: string) => problems.length < MAX_LISTED && problems.push(p);

  const volumes = new Map<string, VolumeRecord>();
  for await (const v of db.values(keys.prefixRange(keys.volumePrefix()))) {
    const vol = decodeJson<VolumeRecord>(v);
    volumes.set(vol.id, vol);
  }
  const snapsByVol = new Map<string, SnapshotRecord[]>();
  const snapshots = new Map<string, SnapshotRecord>();
  for await (const v of db.values(keys.prefixRange(keys.snapshotPrefix()))) {
    const s = decodeJson<SnapshotRecord>(v);
    snapshots.set(s.id, s);
    if (!volumes.has(s.volumeId)) problem(`snapshot ${s.id} names missing volume ${s.volumeId}`);
    if (!snapsByVol.has(s.volumeId)) snapsByVol.set(s.volumeId, []);
    snapsByVol.get(s.volumeId)!.push(s);
  }

  // Map walk: refcounts, reachability, and the deadlist entries the map implies.
  const refs = new Map<string, number>();
  const refSeqs = new Map<string, number>();
  const versions = new Set<string>();
  // Version → the generation by which it must have died: the birth of the next newer version.
  // Its deadlist entry may name an earlier death if the versions in between were freed: no
  // snapshot can sit in that gap, so both deaths fall between the same two snapshots.
  const expectedDead = new Map<string, { birth: number; by: number; snapGens: number[] }>();
  let versionCount = 0;
  const versionsByVolume: Record<string, number> = {};
  for (const vol of volumes.values()) {
    const snapGens = (snapsByVol.get(vol.id) ?? []).map((s) => s.gen);
    const seenAt = (from: number, to: number) => snapGens.some((g) => g >= from && g <= to);
    let prev: { blk: number; birth: number; inherits: number } | undefined;
    let deltasLeft = 0;
    // An inheriting version needs the version directly beneath it, shallower (a rebase of the
    // one beneath can make it shallower still: the depth is a bound on the chain, not exact).
    const checkInherit = (below: { blk: number; inherits: number } | undefined) => {
      if (prev && prev.inherits > 0 && (below?.blk !== prev.blk || below.inherits >= prev.inherits)) {
        problem(`version ${vol.id}/${prev.blk}@${prev.birth} inherits ${prev.inherits} deep from ${below?.blk === prev.blk ? `depth ${below.inherits}` : 'nothing'}`);
      }
    };
    for await (const [key, value] of db.iterator(keys.prefixRange(keys.versionPrefix(vol.id)))) {
      const { blk, birth, seq } = keys.parseVersionKey(key, vol.id);
      const id = `${vol.id}/${blk}@${birth}`;
      if (seq !== 0) {
        if (!versions.has(id) || deltasLeft-- <= 0) problem(`stray delta ${seq} of ${id}`);
        continue;
      }
      if (deltasLeft > 0) problem(`version before ${id} misses ${deltasLeft} deltas`);
      const head = decodeHead(birth, value);
      deltasLeft = head.deltaCount;
      versions.add(id);
      versionCount++;
      versionsByVolume[vol.id] = (versionsByVolume[vol.id] ?? 0) + 1;
      if (head.base) {
        const hex = head.base.id.toString('hex');
        refs.set(hex, (refs.get(hex) ?? 0) + 1);
        refSeqs.set(hex, head.base.seq);
      }
      checkInherit({ blk, inherits: head.inherits });
      const newer = prev?.blk === blk ? prev.birth : undefined;
      if (newer !== undefined) expectedDead.set(id, { birth, by: newer, snapGens });
      else if (vol.state === 'deleted' && !vol.purging) expectedDead.set(id, { birth, by: vol.gen, snapGens });
      const visibleTo = newer !== undefined ? newer - 1 : vol.state === 'deleted' ? vol.gen - 1 : Number.MAX_SAFE_INTEGER;
      const live = newer === undefined && vol.state === 'available';
      if (!live && birth > 0 && !seenAt(birth, visibleTo)) problem(`version ${id} is visible to nobody`);
      prev = { blk, birth, inherits: head.inherits };
    }
    checkInherit(undefined);
    if (deltasLeft > 0) problem(`last version of ${vol.id} misses ${deltasLeft} deltas`);
  }

  // Indexes against the map, and the counters the core keeps.
  const epochCounts = new Map<string, number[]>();
  for await (const key of db.keys(keys.prefixRange(keys.epochFamily()))) {
    const vol = keys.parseIdKey(key);
    const { birth, blk } = keys.parseEpochKey(key, vol);
    if (!versions.has(`${vol}/${blk}@${birth}`)) problem(`epoch entry ${vol}/${blk}@${birth} without version`);
    if (!epochCounts.has(vol)) epochCounts.set(vol, []);
    epochCounts.get(vol)!.push(birth);
  }
  const deadFound = new Set<string>();
  for await (const key of db.keys(keys.prefixRange(keys.deadFamily()))) {
    const vol = keys.parseIdKey(key);
    const { death, birth, blk } = keys.parseDeadKey(key, vol);
    const id = `${vol}/${blk}@${birth}`;
    const e = expectedDead.get(id);
    const fits = e && death > e.birth && death <= e.by && !e.snapGens.some((g) => g >= death && g < e.by);
    if (!fits) problem(`deadlist entry ${id} died@${death} does not match the map`);
    deadFound.add(id);
  }
  for (const id of expectedDead.keys()) if (!deadFound.has(id)) problem(`superseded version ${id} missing from the deadlist`);
  for (const vol of volumes.values()) {
    const births = epochCounts.get(vol.id) ?? [];
    const dirty = births.filter((b) => b > vol.lastSnapGen).length;
    if (vol.state === 'available' && dirty !== vol.dirtyBlocks) problem(`volume ${vol.id} counts ${vol.dirtyBlocks} dirty blocks, has ${dirty}`);
    for (const s of snapsByVol.get(vol.id) ?? []) {
      const from = s.parentId ? snapshots.get(s.parentId)?.gen ?? -1 : 0;
      if (from < 0) problem(`snapshot ${s.id} names missing parent ${s.parentId}`);
      const n = births.filter((b) => b > from && b <= s.gen).length;
      if (n !== s.entries) problem(`snapshot ${s.id} counts ${s.entries} entries, has ${n}`);
    }
  }

  // Chunks: stored refcounts against recomputed ones, then stored bytes against references.
  const refcountMismatches: FsckReport['refcountMismatches'] = [];
  const stored = new Map<string, { count: number; seq: number }>();
  for await (const [key, value] of db.iterator(keys.prefixRange(keys.refcountPrefix()))) {
    stored.set(keys.chunkIdOfKey(key).toString('hex'), decodeRefcount(value));
  }
  for (const [chunk, actual] of refs) {
    const s = stored.get(chunk)?.count ?? 0;
    if (s !== actual && refcountMismatches.length < MAX_LISTED) refcountMismatches.push({ chunk, stored: s, actual });
    if (stored.has(chunk) && stored.get(chunk)!.seq !== refSeqs.get(chunk)) problem(`chunk ${chunk}: versions and refcount disagree on where its bytes are`);
  }
  for (const [chunk, s] of stored) {
    if (s.count !== 0 && !refs.has(chunk) && refcountMismatches.length < MAX_LISTED) refcountMismatches.push({ chunk, stored: s.count, actual: 0 });
  }
  const queued = new Set<string>();
  for await (const key of db.keys(keys.prefixRange(keys.zeroRefPrefix()))) queued.add(keys.chunkIdOfKey(key).toString('hex'));
  const owners = new Map<number, string>(); // bytes → the chunk whose refcount points at them
  for (const [chunk, s] of stored) owners.set(s.seq, chunk);
  const present = new Set<number>();
  const leakedChunks: string[] = [];
  for await (const seq of bytes.stored()) {
    present.add(seq);
    const owner = owners.get(seq);
    const pendingSweep = owner !== undefined && queued.has(owner);
    if ((owner === undefined || !refs.has(owner)) && !pendingSweep && leakedChunks.length < MAX_LISTED) leakedChunks.push(owner ?? `bytes #${seq}`);
  }
  const missingChunks = [...refs.keys()].filter((c) => !present.has(stored.get(c)?.seq ?? -1)).slice(0, MAX_LISTED);

  return {
    ok: missingChunks.length === 0 && refcountMismatches.length === 0 && problems.length === 0,
    volumes: volumes.size,
    snapshots: snapshots.size,
    versions: versionCount,
    versionsByVolume,
    chunks: present.size,
    missingChunks,
    leakedChunks,
    queuedChunks: queued.size,
    refcountMismatches,
    problems,
  };
}
