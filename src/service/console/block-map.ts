/**
 * Block maps for the console: one cell per 512 KiB block, or, for a large volume, one cell per
 * run of blocks (at most MAX_CELLS cells). Built from the core's epoch index (every version a
 * volume holds, with its birth generation) and the page caches' dirty pages, so a 16 TiB volume
 * costs what was written on it, as a 1 GiB one does.
 *
 * A live volume's cell says: a hole; written, with the birth of its newest version (and so which
 * snapshots hold it); dirty in an attached instance's page cache (on neither the volume nor any
 * snapshot); or still to load from the snapshot it was restored from. A snapshot's cell says
 * whether the version it sees is new in it (uploaded by it) or shared with its parent.
 */
import type { BlockBirths } from '../../core/block-store.js';
import { loadsFromBacking, type SnapshotRecord } from '../../core/records.js';
import { PAGE_SIZE } from '../../guest/page-cache.js';
import type { CallerContext, ServiceState } from '../context.js';
import { snapshotNotFound } from '../service-errors.js';
import { canSee, ownedSnapshot, visibleSnapshot } from '../state/snapshot-access.js';
import { callerVolume } from '../volumes/volumes.js';

/** Few enough cells for a browser to draw at once, enough to see a volume's shape. */
export const MAX_CELLS = 4096;

/** A span of generations: the versions born in (fromGen, toGen] are first held by `snapshotId`. */
export interface Epoch {
  /** 0-based; also the index into `epochs`. */
  index: number;
  fromGen: number;
  /** Infinity (sent as null) for "since the last snapshot". */
  toGen: number | null;
  /** The snapshot that first holds the versions of this epoch; null: none yet (written since the last snapshot). */
  snapshotId: string | null;
}

/** A cell that is not all holes. Cells not listed are holes. */
export interface BlockMapCell {
  cell: number;
  /** Blocks of the cell with data (a stored version, visible to the map's view). */
  written: number;
  /** Blocks with dirty pages in an attached instance's page cache (live volumes only). */
  dirty: number;
  /** Snapshot maps: blocks whose version the snapshot uploaded itself (born since its parent). */
  fresh: number;
  /** Restored volumes: blocks still to load from the source snapshot (no local version yet). */
  backing: number;
  /** Newest birth among the cell's versions, and its epoch (-1: loaded from the snapshot a restored volume came from). */
  birth?: number;
  epoch?: number;
  /** Single-block cells: every birth of the block's versions, oldest first (hover: which snapshots hold which). */
  births?: number[];
}

export interface BlockMap {
  kind: 'volume' | 'snapshot';
  id: string;
  volumeId: string;
  sizeBytes: number;
  blockSize: number;
  totalBlocks: number;
  blocksPerCell: number;
  cellCount: number;
  /** The volume's existing snapshots the caller may see, oldest first (epochs are theirs). */
  snapshots: Array<{ snapshotId: string; gen: number }>;
  /** The volume's snapshots the caller may not see (another account's, not shared): counted, never named. */
  hiddenSnapshots: number;
  epochs: Epoch[];
  /** Snapshot maps: the generations of the snapshot and of its parent (0: none). */
  gen?: number;
  parentGen?: number;
  totals: { written: number; dirty: number; fresh: number; shared: number; backing: number };
  cells: BlockMapCell[];
}

/** Cell geometry for a volume of `totalBlocks` blocks. */
export function cellGeometry(totalBlocks: number, maxCells = MAX_CELLS): { blocksPerCell: number; cellCount: number } {
  const blocksPerCell = Math.max(1, Math.ceil(totalBlocks / maxCells));
  return { blocksPerCell, cellCount: Math.ceil(totalBlocks / blocksPerCell) };
}

/** The volume's snapshots, oldest first, split into those the caller may see and a count of the rest. */
async function snapshotsSeenBy(s: ServiceState, ctx: CallerContext, volumeId: string): Promise<{ snapshots: Array<{ snapshotId: string; gen: number }>; hidden: number }> {
  const all = await s.store.snapshotGens(volumeId);
  const snapshots = all.filter((x) => canSee((id) => s.catalog.getSnapshot(id), ctx.accountId, x.snapshotId));
  return { snapshots, hidden: all.length - snapshots.length };
}

function epochsOf(snapshots: Array<{ snapshotId: string; gen: number }>): Epoch[] {
  const epochs: Epoch[] = [];
  let from = 0;
  for (const [index, s] of snapshots.entries()) {
    epochs.push({ index, fromGen: from, toGen: s.gen, snapshotId: s.snapshotId });
    from = s.gen;
  }
  epochs.push({ index: snapshots.length, fromGen: from, toGen: null, snapshotId: null });
  return epochs;
}

/** The epoch a birth falls in (births are ≥ 1 for written data; 0 is hydrated data, epoch 0). */
function epochOf(snapshots: Array<{ gen: number }>, birth: number): number {
  let lo = 0;
  let hi = snapshots.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (snapshots[mid]!.gen >= birth) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Calls `each(block, from, to)` for each block's run [from, to) of entries in `b`. */
function forEachBlock(b: BlockBirths, each: (block: number, from: number, to: number) => void): void {
  let i = 0;
  while (i < b.blocks.length) {
    const blk = b.blocks[i]!;
    let j = i + 1;
    while (j < b.blocks.length && b.blocks[j] === blk) j++;
    each(blk, i, j);
    i = j;
  }
}

class CellGrid {
  private readonly cells = new Map<number, BlockMapCell>();
  constructor(readonly blocksPerCell: number) {}

  at(block: number): BlockMapCell {
    const cell = Math.floor(block / this.blocksPerCell);
    let c = this.cells.get(cell);
    if (!c) this.cells.set(cell, (c = { cell, written: 0, dirty: 0, fresh: 0, backing: 0 }));
    return c;
  }

  list(): BlockMapCell[] {
    return [...this.cells.values()].sort((a, b) => a.cell - b.cell);
  }
}

/** Epoch -1: generation 0, data a restored volume loaded from the snapshot it was restored from. */
function noteBirth(c: BlockMapCell, birth: number, snapshots: Array<{ gen: number }>): void {
  if (c.birth === undefined || birth > c.birth) {
    c.birth = birth;
    c.epoch = birth === 0 ? -1 : epochOf(snapshots, birth);
  }
}

/** A live volume's map: data by newest birth, dirty pages of its attachments, what a restore still loads. */
export async function volumeBlockMap(s: ServiceState, ctx: CallerContext, volumeId: string, maxCells = MAX_CELLS): Promise<BlockMap> {
  callerVolume(s, ctx, volumeId);
  const vol = s.store.getVolume(volumeId);
  const [births, { snapshots, hidden }] = await Promise.all([s.store.blockBirths(volumeId), snapshotsSeenBy(s, ctx, volumeId)]);
  const totalBlocks = Math.ceil(vol.size / vol.blockSize);
  const { blocksPerCell, cellCount } = cellGeometry(totalBlocks, maxCells);
  const grid = new CellGrid(blocksPerCell);
  const totals = { written: 0, dirty: 0, fresh: 0, shared: 0, backing: 0 };
  forEachBlock(births, (blk, from, to) => {
    if (blk >= totalBlocks) return;
    const c = grid.at(blk);
    c.written++;
    totals.written++;
    noteBirth(c, births.births[to - 1]!, snapshots);
    if (blocksPerCell === 1) c.births = Array.from(births.births.subarray(from, to));
  });
  // Blocks still dirty in a page cache in front of the volume.
  const dirtyBlocks = new Set<number>();
  for (const disk of s.guests.ofVolume(volumeId)) {
    for (const page of disk.cache.dirtyPageNumbers()) dirtyBlocks.add(Math.floor((page * PAGE_SIZE) / vol.blockSize));
  }
  for (const blk of dirtyBlocks) {
    if (blk >= totalBlocks) continue;
    grid.at(blk).dirty++;
    totals.dirty++;
  }
  // A restored volume still loading: its blocks with no version come from the snapshot (per cell: those not held).
  if (loadsFromBacking(vol.backing)) {
    for (let cell = 0; cell < cellCount; cell++) {
      const first = cell * blocksPerCell;
      const c = grid.at(first);
      c.backing = Math.min(blocksPerCell, totalBlocks - first) - c.written;
      totals.backing += c.backing;
    }
  }
  return {
    kind: 'volume', id: volumeId, volumeId, sizeBytes: vol.size, blockSize: vol.blockSize, totalBlocks, blocksPerCell, cellCount,
    snapshots, hiddenSnapshots: hidden, epochs: epochsOf(snapshots), totals, cells: grid.list(),
  };
}

/** The core's record of a snapshot the caller may see, or undefined for one with no local blocks (a copy, a direct one). */
export async function coreSnapshot(s: ServiceState, ctx: CallerContext, snapshotId: string): Promise<SnapshotRecord | undefined> {
  const meta = visibleSnapshot(s.catalog.getSnapshot(snapshotId), ctx, snapshotId);
  if (meta.direct || meta.copiedFrom) return undefined;
  return s.store.getSnapshot(snapshotId).catch(() => undefined);
}

/** A snapshot's map: the version it sees of each block, new in it (uploaded by it) or shared with its parent. */
export async function snapshotBlockMap(s: ServiceState, ctx: CallerContext, snapshotId: string, maxCells = MAX_CELLS): Promise<BlockMap> {
  const snap = await coreSnapshot(s, ctx, snapshotId);
  if (!snap) throw snapshotNotFound(snapshotId);
  const [births, { snapshots, hidden }] = await Promise.all([s.store.blockBirths(snap.volumeId), snapshotsSeenBy(s, ctx, snap.volumeId)]);
  // Fresh against the parent; when the parent is hidden, against the newest earlier snapshot the caller sees.
  const parent = snap.parentId ? snapshots.find((x) => x.snapshotId === snap.parentId) : undefined;
  const parentGen = parent?.gen ?? (snap.parentId && hidden > 0 ? snapshots.filter((x) => x.gen < snap.gen).at(-1)?.gen ?? 0 : 0);
  const totalBlocks = Math.ceil(snap.volumeSize / snap.blockSize);
  const { blocksPerCell, cellCount } = cellGeometry(totalBlocks, maxCells);
  const grid = new CellGrid(blocksPerCell);
  const totals = { written: 0, dirty: 0, fresh: 0, shared: 0, backing: 0 };
  forEachBlock(births, (blk, from, to) => {
    if (blk >= totalBlocks) return;
    // The version the snapshot sees: the newest born at or before its generation.
    let k = to - 1;
    while (k >= from && births.births[k]! > snap.gen) k--;
    if (k < from) return;
    const birth = births.births[k]!;
    const c = grid.at(blk);
    c.written++;
    totals.written++;
    if (birth > parentGen) {
      c.fresh++;
      totals.fresh++;
    } else totals.shared++;
    noteBirth(c, birth, snapshots);
    // A block's earlier versions date hidden snapshots: shown only when none is hidden.
    if (blocksPerCell === 1) c.births = hidden === 0 ? Array.from(births.births.subarray(from, k + 1)) : [birth];
  });
  return {
    kind: 'snapshot', id: snapshotId, volumeId: snap.volumeId, sizeBytes: snap.volumeSize, blockSize: snap.blockSize, totalBlocks,
    blocksPerCell, cellCount, snapshots, hiddenSnapshots: hidden, epochs: epochsOf(snapshots), gen: snap.gen, parentGen, totals, cells: grid.list(),
  };
}

/**
 * What deleting a snapshot would free and keep, in blocks (ZFS's deadlist rule): of the versions
 * born since its parent, those its successor (the next snapshot, or the live volume) still sees
 * are kept; those overwritten before the successor froze are seen by nobody else and freed.
 * The versions it shares with its parent stay, being the parent's.
 */
export async function deletionPreview(s: ServiceState, ctx: CallerContext, snapshotId: string): Promise<{ freed: number; kept: number; shared: number } | undefined> {
  ownedSnapshot(s.catalog.getSnapshot(snapshotId), ctx, snapshotId); // only the owner may delete it, so only the owner learns what it would free
  const snap = await coreSnapshot(s, ctx, snapshotId);
  if (!snap) return undefined;
  const [births, snapshots] = await Promise.all([s.store.blockBirths(snap.volumeId), s.store.snapshotGens(snap.volumeId)]);
  const parentGen = snap.parentId ? snapshots.find((x) => x.snapshotId === snap.parentId)?.gen ?? 0 : 0;
  const successorGen = snapshots.find((x) => x.gen > snap.gen)?.gen ?? Infinity;
  let freed = 0;
  let kept = 0;
  let shared = 0;
  forEachBlock(births, (_blk, from, to) => {
    let k = to - 1;
    while (k >= from && births.births[k]! > snap.gen) k--;
    if (k < from) return;
    const birth = births.births[k]!;
    if (birth <= parentGen) {
      shared++;
      return;
    }
    const next = k + 1 < to ? births.births[k + 1]! : Infinity;
    if (next <= successorGen) freed++;
    else kept++;
  });
  return { freed, kept, shared };
}
