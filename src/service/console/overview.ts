/**
 * The console's overview: an account's volumes, snapshots and instances in a region, as rows of
 * a live table. Read from the catalog's in-memory indexes and the copy engine's statuses, never
 * from LevelDB, so 1,000 volumes and 10,000 snapshots cost a walk of memory.
 */
import type { CallerContext, ServiceState } from '../context.js';
import { instanceStateAt, stillVisible } from '../state/instance-states.js';
import { canSee } from '../state/snapshot-access.js';
import { listedRegions } from '../state/zones.js';
import { snapshotView } from '../snapshots/snapshots.js';
import { volumeView } from '../volumes/volumes.js';
import { deviceMappings } from '../volumes/attachments.js';

export interface VolumeRow {
  volumeId: string;
  state: string;
  sizeGiB: number;
  volumeType: string;
  availabilityZone: string;
  snapshotId: string;
  attachments: Array<{ instanceId: string; device: string; state: string }>;
  /** Bytes written through an instance that sit dirty in its page cache: on neither the volume nor any snapshot. */
  dirtyBytes: number;
  /** Blocks written since the volume's last snapshot: what the next one will upload. */
  blocksSinceSnapshot: number;
  /** A restored volume still loading its blocks from the snapshot in the background. */
  hydration?: { blocksDone: number; blocksTotal: number };
  name?: string;
}

export interface SnapshotRow {
  snapshotId: string;
  volumeId: string;
  state: string;
  progress: number;
  stateMessage?: string;
  description: string;
  startTime: string;
  completionTime?: string;
  volumeSizeGiB: number;
  blockSize: number;
  blocksTotal: number;
  blocksDone: number;
  bytesUploaded: number;
  /** Bytes (and whole blocks) found already stored: shared with another snapshot, not uploaded again. */
  bytesDeduplicated: number;
  blocksDeduplicated: number;
  parentId: string | null;
  copiedFrom?: string;
  groupId?: string;
}

export interface InstanceRow {
  instanceId: string;
  state: string;
  instanceType: string;
  availabilityZone: string;
  devices: Array<{ device: string; volumeId: string; dirtyBytes: number; root: boolean }>;
  dirtyBytes: number;
}

export interface Overview {
  accountId: string;
  region: string;
  regions: string[];
  /** Simulated time (ISO). */
  now: string;
  volumes: VolumeRow[];
  snapshots: SnapshotRow[];
  instances: InstanceRow[];
}

const nameTag = (tags: Array<{ key: string; value: string }>) => tags.find((t) => t.key === 'Name')?.value;

export function volumeDirtyBytes(s: ServiceState, volumeId: string): number {
  let n = 0;
  for (const disk of s.guests.ofVolume(volumeId)) n += disk.cache.dirtyBytes();
  return n;
}

function hydrating(s: ServiceState, volumeId: string): { hydration?: { blocksDone: number; blocksTotal: number } } {
  const h = s.engine.restores.hydration(volumeId);
  return h?.state === 'hydrating' ? { hydration: { blocksDone: h.blocksDone, blocksTotal: h.blocksTotal } } : {};
}

function blocksSinceSnapshot(s: ServiceState, volumeId: string): number {
  try {
    return s.store.getVolume(volumeId).dirtyBlocks;
  } catch {
    return 0; // being created or deleted
  }
}

export function snapshotRow(s: ServiceState, ctx: CallerContext, id: string): SnapshotRow | undefined {
  const meta = s.catalog.getSnapshot(id);
  if (!meta) return undefined;
  const v = snapshotView(s, meta, ctx.accountId);
  const st = s.engine.statuses.status(id);
  const blockSize = st?.blockSize ?? 512 * 1024;
  const name = nameTag(v.tags);
  // A snapshot shared with the caller names only the snapshots the caller may see itself.
  const sees = (other: string) => canSee((x) => s.catalog.getSnapshot(x), ctx.accountId, other);
  const parentId = st?.parentId && sees(st.parentId) ? st.parentId : null;
  return {
    snapshotId: v.snapshotId,
    volumeId: v.volumeId,
    state: v.state,
    progress: Number.parseInt(v.progress, 10),
    ...(v.stateMessage !== undefined ? { stateMessage: v.stateMessage } : {}),
    description: v.description || name || '',
    startTime: v.startTime.toISOString(),
    ...(v.completionTime ? { completionTime: v.completionTime.toISOString() } : {}),
    volumeSizeGiB: v.volumeSizeGiB,
    blockSize,
    blocksTotal: st?.blocksTotal ?? 0,
    blocksDone: st?.blocksDone ?? 0,
    bytesUploaded: st?.bytesUploaded ?? 0,
    bytesDeduplicated: st?.bytesDeduplicated ?? 0,
    blocksDeduplicated: Math.round((st?.bytesDeduplicated ?? 0) / blockSize),
    parentId,
    ...(st?.copiedFrom !== undefined && sees(st.copiedFrom) ? { copiedFrom: st.copiedFrom } : {}),
    ...(st?.groupId !== undefined ? { groupId: st.groupId } : {}),
  };
}

export function overview(s: ServiceState, ctx: CallerContext): Overview {
  const now = s.clock.now();
  const volumes: VolumeRow[] = [];
  for (const meta of s.catalog.volumesOf(ctx.accountId, ctx.region)) {
    const v = volumeView(meta, now);
    const name = nameTag(v.tags);
    volumes.push({
      volumeId: v.volumeId, state: v.state, sizeGiB: v.sizeGiB, volumeType: v.volumeType, availabilityZone: v.availabilityZone, snapshotId: v.snapshotId,
      attachments: v.attachments.map((a) => ({ instanceId: a.instanceId, device: a.device, state: a.state })),
      dirtyBytes: volumeDirtyBytes(s, v.volumeId),
      blocksSinceSnapshot: blocksSinceSnapshot(s, v.volumeId),
      ...hydrating(s, v.volumeId),
      ...(name !== undefined ? { name } : {}),
    });
  }
  const snapshots: SnapshotRow[] = [];
  for (const meta of s.catalog.ownedSnapshots(ctx.accountId, ctx.region)) {
    const row = snapshotRow(s, ctx, meta.id);
    if (row) snapshots.push(row);
  }
  const instances: InstanceRow[] = [];
  for (const m of s.catalog.instancesOf(ctx.accountId, ctx.region)) {
    if (!stillVisible(m, now)) continue;
    const devices = deviceMappings(s, m.id, now).map((d) => {
      const dirtyBytes = s.guests.peek(m.id, d.device, d.volume.id)?.cache.dirtyBytes() ?? 0;
      return { device: d.device, volumeId: d.volume.id, dirtyBytes, root: d.device === m.rootDeviceName };
    });
    instances.push({
      instanceId: m.id, state: instanceStateAt(m, now), instanceType: m.instanceType, availabilityZone: m.availabilityZone, devices,
      dirtyBytes: devices.reduce((n, d) => n + d.dirtyBytes, 0),
    });
  }
  return { accountId: ctx.accountId, region: ctx.region, regions: listedRegions(ctx.region), now: new Date(now).toISOString(), volumes, snapshots, instances };
}
