/**
 * Volumes restored from snapshots (CreateVolume with a SnapshotId): created in O(1) over their
 * snapshot's manifest, then hydrated in the background while reads load what they need first.
 * Their source must stay while one loads from it; the engine asks `holdsSource` before deleting.
 */
import type { BlockStore } from '../core/block-store.js';
import { CoreError, invalidArgument } from '../core/errors.js';
import { newVolumeId } from '../core/ids.js';
import type { RecordPut } from '../core/record-store.js';
import type { VolumeRecord } from '../core/records.js';
import type { BlockRepository } from './block-repository.js';
import type { CopyStatuses } from './copy-statuses.js';
import { HYDRATION_NAMESPACE, runHydration, type HydrationStatus } from './hydration.js';

export interface VolumeRestoresOptions {
  store: BlockStore;
  repo: BlockRepository;
  statuses: CopyStatuses;
  concurrency: number;
  /** Hears a finished hydration: its source may now be deletable. */
  onHydrated(snapshotId: string): void;
}

export class VolumeRestores {
  private readonly hydrations = new Map<string, HydrationStatus>();
  private readonly jobs = new Map<string, { abort: AbortController; done: Promise<void> }>();
  /** Restores between their check and their hydration record: their snapshot must stay. */
  private readonly restoring = new Map<string, number>();

  constructor(private readonly opts: VolumeRestoresOptions) {}

  /** Loads the hydration records and resumes those a previous run left unfinished (at open). */
  async resume(): Promise<void> {
    const { store } = this.opts;
    for await (const [, h] of store.records.list<HydrationStatus>(HYDRATION_NAMESPACE)) this.hydrations.set(h.volumeId, h);
    for (const h of this.hydrations.values()) {
      if (h.state === 'hydrating') this.startHydration(h);
      else await store.markHydrated(h.volumeId); // a data directory from before hydrations were marked
    }
  }

  /** Creates a volume from a completed snapshot in O(1): blocks load on first read and in the background. */
  async restoreVolume(input: { snapshotId: string; volumeId?: string; size?: number; records?: RecordPut[] }): Promise<VolumeRecord> {
    const st = this.opts.statuses.live(input.snapshotId);
    if (st.state !== 'completed') {
      throw new CoreError('SNAPSHOT_WRONG_STATE', `Snapshot ${input.snapshotId} is ${st.state}; only completed snapshots can be restored.`);
    }
    const size = input.size ?? st.volumeSize;
    if (size < st.volumeSize) throw invalidArgument(`volume size ${size} is smaller than snapshot ${input.snapshotId} (${st.volumeSize} bytes)`);
    this.restoring.set(input.snapshotId, (this.restoring.get(input.snapshotId) ?? 0) + 1);
    try {
      const manifest = await this.opts.repo.getManifest(input.snapshotId);
      if (!manifest) throw new CoreError('BACKING_UNAVAILABLE', `snapshot ${input.snapshotId} has no manifest in the object store`);
      const volumeId = input.volumeId ?? newVolumeId();
      const h: HydrationStatus = { volumeId, snapshotId: input.snapshotId, blocksTotal: manifest.blocks.size, blocksDone: 0, state: 'hydrating' };
      const vol = await this.opts.store.createVolume({
        id: volumeId,
        size,
        blockSize: manifest.blockSize,
        backing: { snapshotId: input.snapshotId },
        records: [...(input.records ?? []), { namespace: HYDRATION_NAMESPACE, id: volumeId, value: h }],
      });
      this.hydrations.set(vol.id, h);
      this.startHydration(h);
      return vol;
    } finally {
      const n = this.restoring.get(input.snapshotId)! - 1;
      if (n === 0) this.restoring.delete(input.snapshotId);
      else this.restoring.set(input.snapshotId, n);
    }
  }

  /** How far a restored volume's background load has come. */
  hydration(volumeId: string): HydrationStatus | undefined {
    const h = this.hydrations.get(volumeId);
    return h ? { ...h } : undefined;
  }

  /**
   * True while `snapshotId` must stay for a restore: one is being created from it, or a volume
   * restored from it (or a snapshot frozen from one before its hydration ended) may read from it.
   */
  async holdsSource(snapshotId: string): Promise<boolean> {
    return this.restoring.has(snapshotId) || this.opts.store.readsFromSnapshot(snapshotId);
  }

  /** Stops the hydrations (they resume at the next open); resolves once each has stopped. */
  stop(): Promise<void>[] {
    for (const job of this.jobs.values()) job.abort.abort('close');
    return [...this.jobs.values()].map((j) => j.done);
  }

  private startHydration(h: HydrationStatus): void {
    const { store, repo, concurrency, statuses, onHydrated } = this.opts;
    const abort = new AbortController();
    const save = async (next: HydrationStatus) => {
      const record = { namespace: HYDRATION_NAMESPACE, id: next.volumeId, value: next };
      // Done: the volume holds every block, so it stops reading from the snapshot (same batch).
      if (next.state === 'done') await store.markHydrated(next.volumeId, [record]);
      else await store.records.write([record]);
      this.hydrations.set(next.volumeId, next);
      if (next.state === 'done' && statuses.current(next.snapshotId)?.deleteRequested) onHydrated(next.snapshotId);
    };
    const done = runHydration({ store, repo, concurrency, save }, h, abort.signal)
      .catch(() => undefined) // not fatal: unloaded blocks are still read from the object store; resumes at next open
      .finally(() => this.jobs.delete(h.volumeId));
    this.jobs.set(h.volumeId, { abort, done });
  }
}
