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
  /** Deferred until the copy settles if it is still pending; its blocks go at the next sweep. */
  deleteSnapshot(snapshotId: string, options?: { records?: RecordPut[] }): Promise<void>;
  /** deleteSnapshot, resolved once the request is persisted; `deleted` settles with the deletion. */
  requestDeletion(snapshotId: string, options?: { records?: RecordPut[] }): Promise<{ deleted: Promise<void> }>;
  /** A new snapshot sharing the source's blocks. */
  copySnapshot(sourceId: string, options?: { snapshotId?: string; records?: RecordPut[] }): Promise<CopyStatus>;
  /** Retries deletions that waited for something now gone (a restored volume, say). */
  retryDeferredDeletes(): void;
  close(): Promise<void>;

  readonly statuses: {
    status(snapshotId: string): CopyStatus | undefined;
    /** status(id)?.state, without copying the status. */
    state(snapshotId: string): CopyStatus['state'] | undefined;
    settled(snapshotId: string): Promise<CopyStatus>;
    /** Every saved status (a copy's progress, its end), as it is saved. */
    on(event: 'status', listener: (s: CopyStatus) => void): void;
  };

  readonly restores: {
    /** O(1): the volume loads lazily and hydrates in the background. */
    restoreVolume(input: { snapshotId: string; volumeId?: string; size?: number; records?: RecordPut[] }): Promise<VolumeRecord>;
    hydration(volumeId: string): { blocksTotal: number; blocksDone: number; state: 'hydrating' | 'done' } | undefined;
  };

  /** Snapshots written through the EBS direct APIs. */
  readonly direct: {
    start(input: { snapshotId: string; volumeSize: number; blockSize: number; parentId: string | null; volumeId: string; records?: RecordPut[] }): Promise<CopyStatus>;
    /** `sha256` (hex) is the caller's checked digest of `content`; one put of an index at a time. */
    put(snapshotId: string, put: { index: number; content: Buffer; sha256: string; progress?: number }): Promise<{ deduplicated: boolean }>;
    /** No more puts; the seal runs in the background. */
    complete(snapshotId: string, seal: DirectSeal): Promise<void>;
    /** Fails a direct snapshot still open for writes; false if it was not open. */
    expire(snapshotId: string, message: string): Promise<boolean>;
  };

  /** Completed snapshots' manifests (cached) and stored blocks (checked against their digests). */
  readonly repo: {
    getManifest(snapshotId: string): Promise<Manifest | undefined>;
    getBlock(sha256: string): Promise<Buffer>;
  };
}
