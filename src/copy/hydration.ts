/**
 * Restored volumes load lazily, as EBS's do: the core reads a block it holds no version of from
 * the backing snapshot in the object store (the first read of a block fetches it), while a
 * background hydration loads every block of the snapshot into the volume, beneath any write.
 */
import type { BackingSource, BlockStore } from '../core/block-store.js';
import { CoreError, isCoreError } from '../core/errors.js';
import type { BlockRepository } from './block-repository.js';
import { errorText, formatSeconds, RetriesExhaustedError, type RetryNotice } from './retry.js';

export const HYDRATION_NAMESPACE = 'hydration';

export interface HydrationStatus {
  volumeId: string;
  snapshotId: string;
  blocksTotal: number;
  blocksDone: number;
  state: 'hydrating' | 'done';
}

/**
 * How long a read of a restored volume waits out object-store trouble before it fails with
 * BACKING_UNAVAILABLE: a client's read must not hang for the copy engine's whole retry budget.
 */
export const LAZY_LOAD_BUDGET_MS = 20_000;

/** Reads blocks of completed snapshots from their manifests (digests checked). */
export function manifestBackingSource(repo: BlockRepository, budgetMs = LAZY_LOAD_BUDGET_MS): BackingSource {
  return {
    async readBlock(snapshotId, index, into) {
      const signal = AbortSignal.timeout(budgetMs);
      let last: RetryNotice | undefined;
      repo.watchRetries(signal, { retrying: (n) => (last = n) });
      try {
        const m = await repo.getManifest(snapshotId, signal);
        if (!m) throw new CoreError('BACKING_UNAVAILABLE', `snapshot ${snapshotId} has no manifest in the object store`);
        const sha = m.blocks.get(index);
        return sha === undefined ? null : await repo.getBlock(sha, signal, into);
      } catch (err) {
        // Out of time, or the store kept failing until the retry budget ran out: unavailable.
        if (!signal.aborted && !(err instanceof RetriesExhaustedError)) throw err;
        const why = last ? `: ${last.what} failed ${last.attempt} times, last with ${errorText(last.error)}` : '';
        const within = signal.aborted ? ` within ${formatSeconds(budgetMs)}` : '';
        throw new CoreError('BACKING_UNAVAILABLE', `the object store did not serve block ${index} of snapshot ${snapshotId}${within}${why}`, { cause: err });
      }
    },
    digest(snapshotId, index) {
      return repo.cachedManifest(snapshotId)?.blocks.get(index);
    },
  };
}

export interface HydrationDeps {
  store: BlockStore;
  repo: BlockRepository;
  concurrency: number;
  save(status: HydrationStatus): Promise<void>;
}

/** Loads the snapshot's blocks in index order; resumes after `blocksDone`. */
export async function runHydration(deps: HydrationDeps, initial: HydrationStatus, signal: AbortSignal): Promise<void> {
  const m = await deps.repo.getManifest(initial.snapshotId);
  if (!m) throw new CoreError('BACKING_UNAVAILABLE', `snapshot ${initial.snapshotId} has no manifest in the object store`);
  const indices = [...m.blocks.keys()].sort((a, b) => a - b);
  const status: HydrationStatus = { ...initial, blocksTotal: indices.length };
  // One buffer per block in flight, reused window after window: a store keeps nothing of it.
  const buffers = Array.from({ length: deps.concurrency }, () => Buffer.allocUnsafeSlow(m.blockSize));
  try {
    while (status.blocksDone < indices.length) {
      signal.throwIfAborted();
      const window = indices.slice(status.blocksDone, status.blocksDone + deps.concurrency);
      await Promise.all(
        window.map(async (index, i) => {
          // A block written since the restore needs no fetch.
          if (await deps.store.holdsBlock(initial.volumeId, index)) return;
          const sha = m.blocks.get(index)!;
          const content = await deps.repo.getBlock(sha, signal, buffers[i]);
          await deps.store.hydrate(initial.volumeId, index, content, sha);
        }),
      );
      status.blocksDone += window.length;
      await deps.save({ ...status });
    }
    await deps.save({ ...status, state: 'done' });
  } catch (err) {
    // The volume was deleted under us: nothing left to load.
    if (isCoreError(err, 'VOLUME_NOT_FOUND')) return deps.save({ ...status, state: 'done' });
    throw err;
  }
}
