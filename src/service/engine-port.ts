/**
 * The part of the copy engine (src/copy/copy-engine.ts) the simulator relies on. Kept as an
 * interface so the services depend on the behaviour they use, not on the engine's internals.
 */
import type { CopyStatus } from '../copy/copy-status.js';
import type { RecordPut } from '../core/record-store.js';
import type { VolumeRecord } from '../core/records.js';
import type { DirectSeal } from '../copy/direct-upload.js';
import type { Manifest } from '../copy/manifest.js';

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

  // The EBS direct APIs.
  startDirectSnapshot(input: { snapshotId: string; volumeSize: number; blockSize: number; parentId: string | null; volumeId: string; records?: RecordPut[] }): Promise<CopyStatus>;
  /** `sha256` (hex) is the caller's checked digest of `content`; one put of an index at a time. */
  putDirectBlock(snapshotId: string, put: { index: number; content: Buffer; sha256: string; progress?: number }): Promise<{ deduplicated: boolean }>;
  /** No more puts; the seal runs in the background. */
  completeDirectSnapshot(snapshotId: string, seal: DirectSeal): Promise<void>;
  /** Fails a direct snapshot still open for writes; false if it was not open. */
  expireDirectSnapshot(snapshotId: string, message: string): Promise<boolean>;
  manifest(snapshotId: string): Promise<Manifest | undefined>;
  readBlock(sha256: string): Promise<Buffer>;
}
