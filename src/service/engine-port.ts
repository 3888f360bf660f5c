/**
 * The part of the copy engine (src/copy/copy-engine.ts) the simulator relies on. Kept as an
 * interface so the services depend on the behaviour they use, not on the engine's internals.
 */
import type { CopyStatus } from '../copy/copy-status.js';
import type { RecordPut } from '../core/record-store.js';
import type { VolumeRecord } from '../core/records.js';

export interface SnapshotEngine {
  /** Freezes every target at one instant (one batch; `records` ride along) and starts copying. */
  createSnapshots(targets: Array<{ volumeId: string; snapshotId?: string }>, options?: { records?: RecordPut[] }): Promise<CopyStatus[]>;
  status(snapshotId: string): CopyStatus | undefined;
  /** status(id)?.state, without copying the status. */
  state(snapshotId: string): CopyStatus['state'] | undefined;
  settled(snapshotId: string): Promise<CopyStatus>;
  /** Deferred until the copy settles if it is still pending; its blocks go at the next sweep. */
  deleteSnapshot(snapshotId: string, options?: { records?: RecordPut[] }): Promise<void>;
  /** deleteSnapshot, resolved once the request is persisted; `deleted` settles with the deletion. */
  requestDeletion(snapshotId: string, options?: { records?: RecordPut[] }): Promise<{ deleted: Promise<void> }>;
  /** A new snapshot sharing the source's blocks. */
  copySnapshot(sourceId: string, options?: { snapshotId?: string; records?: RecordPut[] }): Promise<CopyStatus>;
  /** O(1): the volume loads lazily and hydrates in the background. */
  restoreVolume(input: { snapshotId: string; volumeId?: string; size?: number; records?: RecordPut[] }): Promise<VolumeRecord>;
  /** Retries deletions that waited for something now gone (a restored volume, say). */
  retryDeferredDeletes(): void;
  hydration(volumeId: string): { blocksTotal: number; blocksDone: number; state: 'hydrating' | 'done' } | undefined;
  close(): Promise<void>;
}
