/**
 * CopySnapshot: a new snapshot with the source's blocks. The store is content-addressed and
 * shared, so nothing is uploaded: the job checks (and pins) every block the source's manifest
 * names, then writes the copy's manifest. Progress counts blocks checked.
 */
import type { BlockRepository } from './block-repository.js';
import type { CopyStatus } from './copy-status.js';

export interface ManifestCopyDeps {
  repo: BlockRepository;
  concurrency: number;
  checkpointEvery: number;
  /** The service's clock: the completion time. */
  now(): number;
  save(status: CopyStatus): Promise<void>;
  /** Resolves once the source settled; its manifest, or undefined if it did not complete. */
  sourceManifest(sourceId: string): ReturnType<BlockRepository['getManifest']>;
}

export async function runManifestCopy(deps: ManifestCopyDeps, initial: CopyStatus, signal: AbortSignal): Promise<void> {
  const sourceId = initial.parentId!;
  const source = await deps.sourceManifest(sourceId);
  if (!source) throw new Error(`source snapshot ${sourceId} is not completed`);
  const status: CopyStatus = { ...initial, blocksTotal: source.blocks.size, blocksDone: 0 };
  const shas = [...source.blocks.values()];
  const pinned: string[] = [];
  try {
    let next = 0;
    const worker = async () => {
      while (next < shas.length) {
        signal.throwIfAborted();
        const sha = shas[next++]!;
        pinned.push(sha);
        const size = await deps.repo.pinExisting(sha, signal);
        if (size === undefined) throw new Error(`block ${sha} of source snapshot ${sourceId} is missing from the store`);
        status.bytesDeduplicated += size;
        status.blocksDone += 1;
        if (status.blocksDone % deps.checkpointEvery === 0) await deps.save({ ...status });
      }
    };
    await Promise.all(Array.from({ length: deps.concurrency }, worker));
    await deps.repo.putManifest({ ...source, snapshotId: status.snapshotId, parentId: sourceId, createdAt: status.startedAt }, signal);
    await deps.save({ ...status, state: 'completed', progress: 100, completedAt: new Date(deps.now()).toISOString() });
  } finally {
    deps.repo.unpin(pinned);
  }
}
