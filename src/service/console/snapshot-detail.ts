/** A snapshot as the console shows it: its row, its lineage, what it uploaded against what it shares. */
import type { CallerContext, ServiceState } from '../context.js';
import { snapshotNotFound } from '../service-errors.js';
import { canUse, visibleSnapshot } from '../state/snapshot-access.js';
import { snapshotBlockMap } from './block-map.js';
import { snapshotRow, type SnapshotRow } from './overview.js';

export interface SnapshotDetail {
  snapshot: SnapshotRow;
  /** The snapshot it is incremental to, and those incremental to it. */
  parent: SnapshotRow | null;
  children: SnapshotRow[];
  /** Other snapshots of its volume, oldest first (what Compare offers). */
  lineage: Array<{ snapshotId: string; state: string; startTime: string }>;
  /** Snapshots of its volume the caller may not see (shared with it by another account): counted, never named. */
  hiddenSnapshots: number;
  /** Blocks with data it sees: uploaded by it (new since its parent) and shared with its parent. Null: no local block map (a copy, a direct snapshot). */
  blocks: { written: number; fresh: number; shared: number } | null;
  /** The volume's size, the data it holds (blocks with data × block size), the bytes its copy really uploaded. */
  logicalBytes: number;
  dataBytes: number | null;
  storedBytes: number;
}

export async function snapshotDetail(s: ServiceState, ctx: CallerContext, snapshotId: string): Promise<SnapshotDetail> {
  const meta = visibleSnapshot(s.catalog.getSnapshot(snapshotId), ctx, snapshotId);
  const row = snapshotRow(s, ctx, meta.id);
  if (!row) throw snapshotNotFound(snapshotId);
  const parent = row.parentId ? snapshotRow(s, ctx, row.parentId) ?? null : null;
  // parentId is already null unless the caller may see the parent; siblings likewise.
  const all = [...s.catalog.snapshotsOfVolume(meta.volumeId)].filter((x) => x.region === ctx.region && x.ownerId === meta.ownerId);
  const siblings = all.filter((x) => canUse(x, ctx.accountId));
  const children = siblings.filter((x) => s.engine.statuses.status(x.id)?.parentId === meta.id).map((x) => snapshotRow(s, ctx, x.id)).filter((x) => x !== undefined);
  const lineage = siblings.map((x) => ({ snapshotId: x.id, state: s.engine.statuses.state(x.id) ?? 'error', startTime: x.startTime }));
  const map = meta.direct || meta.copiedFrom ? undefined : await snapshotBlockMap(s, ctx, meta.id, 1).catch(() => undefined);
  const blocks = map ? { written: map.totals.written, fresh: map.totals.fresh, shared: map.totals.shared } : null;
  return {
    snapshot: row, parent, children, lineage, hiddenSnapshots: all.length - siblings.length, blocks,
    logicalBytes: row.volumeSizeGiB * 1024 ** 3,
    dataBytes: map ? map.totals.written * map.blockSize : null,
    storedBytes: row.bytesUploaded,
  };
}
