/**
 * One snapshot's upload: its frozen blocks → content-addressed objects → a manifest, written last.
 *
 * Incremental: only the blocks new since the parent snapshot are read and uploaded; the manifest
 * is the parent's block list overlaid with them. If the parent never completed, the job falls
 * back to every block the snapshot sees. A block already in the store is not uploaded again,
 * and zero blocks never are. Blocks done are checkpointed (in the same batch as the progress)
 * so that a restart resumes without uploading them again.
 */
import type { BlockStore } from '../core/block-store.js';
import type { Histogram } from '../core/histogram.js';
import { isZero } from '../core/zero.js';
import type { RecordPut } from '../core/record-store.js';
import { loadsFromBacking } from '../core/records.js';
import type { SnapshotBlock } from '../core/snapshot-ops.js';
import { sha256Hex } from './block-hash.js';
import type { SharedBuffers } from '../object-store/shared-buffers.js';
import type { BlockRepository } from './block-repository.js';
import type { CopyStatus } from './copy-status.js';
import type { Manifest } from './manifest.js';

/** Blocks done, per snapshot: index → SHA-256 hex, or '' for a block that reads as zeros. */
export const doneNamespace = (snapshotId: string) => `copy-blocks:${snapshotId}`;

export interface CopyJobDeps {
  store: BlockStore;
  repo: BlockRepository;
  concurrency: number;
  checkpointEvery: number;
  /** The service's clock: the completion time. */
  now(): number;
  /** Where workers take their block buffers from. */
  buffers: SharedBuffers;
  /** Persists the status (monotonic progress) with extra records, in one batch; publishes it. */
  save(status: CopyStatus, records?: RecordPut[]): Promise<void>;
  /** Resolves once the parent's copy settled: its manifest, or undefined if it has none. */
  parentManifest(parentId: string): Promise<Manifest | undefined>;
  /** Where each non-zero block's copy time goes: read, hashed if need be, stored or found stored. */
  blockTimes?: Histogram;
}

export async function runSnapshotCopy(deps: CopyJobDeps, initial: CopyStatus, signal: AbortSignal): Promise<void> {
  const { store, repo } = deps;
  const id = initial.snapshotId;
  const snap = await store.getSnapshot(id);
  const reader = await store.snapshotReader(id);
  const status = { ...initial };
  const done = new Map<number, string>();
  // Done blocks are checkpointed in the same batch as the status that counts them: a job with
  // none counted (a new one, most often) has none to list.
  const pinned: string[] = [];
  if (initial.blocksDone > 0) {
    for await (const [index, sha] of store.records.list<string>(doneNamespace(id))) done.set(Number(index), sha);
    await keepStoredOnly(repo, done, pinned, deps.concurrency, signal);
  }
  let unsaved: RecordPut[] = [];

  // Progress is published only once persisted, so it never goes back after a restart; a
  // checkpoint every percent (and every `checkpointEvery` blocks) keeps it moving. None once
  // every block is done: the manifest and the completed status follow (a crash before them
  // redoes those last blocks, which the store then already holds).
  //
  // One save at a time, and at most one queued behind it, which takes the status and the done
  // blocks as they are when it starts: checkpoints meanwhile fold into it. Workers do not wait
  // for saves (a small copy crosses a percent at every block, and waited for each save in turn)
  // unless unsaved blocks pile up.
  let saving: Promise<void> = Promise.resolve();
  let queued = false;
  let saveFailed: { error: unknown } | undefined;
  let lastPercent = -1;
  const checkpoint = (force = false): Promise<void> => {
    const percent = status.blocksTotal > 0 ? Math.floor((100 * done.size) / status.blocksTotal) : 0;
    if (!force && (done.size >= status.blocksTotal || (unsaved.length < deps.checkpointEvery && percent <= lastPercent))) return saving;
    lastPercent = percent;
    if (queued) return saving;
    queued = true;
    saving = saving.then(() => {
      queued = false;
      const records = unsaved;
      unsaved = [];
      return deps.save({ ...status, blocksDone: done.size }, records);
    });
    saving.catch((error: unknown) => (saveFailed ??= { error }));
    return saving;
  };

  /**
   * Makes sure one block is in the store and pinned; returns its SHA-256, or '' for zeros.
   * `likelyStored`: check before reading (a full listing, whose blocks the parent mostly
   * uploaded); otherwise the block is read and uploaded conditionally, one request.
   */
  const copyBlock = async (index: number, birth: number, buffer: () => Buffer, likelyStored: boolean): Promise<string> => {
    // A block that is one stored chunk comes with its digest: no hashing, and a block the store
    // holds is not even read. (A chunk is never all zeros: those are holes.)
    const version = reader.version(index, birth);
    const known = version.digest;
    if (known && likelyStored) {
      pinned.push(known.sha256);
      if ((await repo.pinExisting(known.sha256, signal)) === known.length) {
        status.bytesDeduplicated += known.length;
        return known.sha256;
      }
    }
    if (known && repo.copiesFromFiles) {
      // File to file inside the store's thread: the bytes never come into this one.
      const range = await version.fileRange();
      if (range) {
        try {
          pinned.push(known.sha256);
          if (await repo.ensureBlockFromFile(known.sha256, range, signal)) status.bytesUploaded += known.length;
          else status.bytesDeduplicated += known.length;
          return known.sha256;
        } finally {
          range.release();
        }
      }
    }
    const content = await version.read(buffer());
    if (!content || (!known && isZero(content))) return '';
    const sha = known?.sha256 ?? sha256Hex(content);
    pinned.push(sha);
    if (await repo.ensureBlock(sha, content, signal)) status.bytesUploaded += content.length;
    else status.bytesDeduplicated += content.length;
    return sha;
  };

  const copyBlocks = async (blocks: AsyncIterator<SnapshotBlock>, likelyStored: boolean) => {
    const worker = async () => {
      // One buffer per worker, taken when it first reads a block and reused for every other: no
      // per-block allocation (whose external memory would drive V8 into a major GC every few
      // dozen blocks). The store is done with a block once its upload settles.
      let buffer: Buffer | undefined;
      const take = () => (buffer ??= deps.buffers.take(snap.blockSize));
      for (;;) {
        signal.throwIfAborted();
        const next = await blocks.next();
        if (next.done) break;
        const { index, birth, zero } = next.value;
        if (done.has(index)) continue;
        const began = performance.now();
        const sha = zero ? '' : await copyBlock(index, birth, take, likelyStored);
        if (!zero) deps.blockTimes?.add(performance.now() - began);
        done.set(index, sha);
        unsaved.push({ namespace: doneNamespace(id), id: String(index), value: sha });
        const saved = checkpoint();
        if (saveFailed) throw saveFailed.error;
        if (unsaved.length >= 4 * deps.checkpointEvery) await saved;
      }
      if (buffer) deps.buffers.give(buffer); // (not after a failure: that job is over anyway)
    };
    await Promise.all(Array.from({ length: deps.concurrency }, worker));
  };

  try {
    status.blocksTotal = Math.max(status.blocksTotal, snap.entries);
    await copyBlocks(store.listSnapshotBlocks(id, 'changed'), false);
    // Without a parent, the changed blocks are all the snapshot holds (a restored volume's first
    // snapshot has its backing snapshot as parent).
    let base = status.parentId ? await deps.parentManifest(status.parentId) : undefined;
    if (status.parentId && !base) {
      // The parent never completed (or was deleted): the manifest lists every block the snapshot
      // sees, and a restored volume's unwritten blocks are those of its backing snapshot, unless
      // the volume had loaded them all before this freeze.
      const backing = loadsFromBacking(snap.backing) ? snap.backing : undefined;
      if (backing && backing.snapshotId !== status.parentId) base = await deps.parentManifest(backing.snapshotId);
      if (backing && !base) throw new Error(`backing snapshot ${backing.snapshotId} of ${snap.volumeId} has no manifest`);
      await checkpoint(true); // the changed blocks are done: not redone after a restart
      status.blocksTotal = Math.max(status.blocksTotal, done.size + (await countBlocks(store, id, done)));
      await copyBlocks(store.listSnapshotBlocks(id, 'all'), true);
    }
    const blocks = new Map(base?.blocks);
    for (const [index, sha] of done) {
      if (sha === '') blocks.delete(index);
      else blocks.set(index, sha);
    }
    await repo.putManifest(
      {
        snapshotId: id,
        volumeId: snap.volumeId,
        volumeSize: snap.volumeSize,
        blockSize: snap.blockSize,
        parentId: status.parentId,
        createdAt: snap.createdAt,
        blocks,
      },
      signal,
    );
    await saving;
    const finished: CopyStatus = {
      ...status,
      state: 'completed',
      progress: 100,
      blocksTotal: done.size,
      blocksDone: done.size,
      completedAt: new Date(deps.now()).toISOString(),
    };
    await deps.save(finished, [...done.keys()].map((index) => ({ namespace: doneNamespace(id), id: String(index), value: null })));
  } finally {
    await saving.catch(() => undefined);
    repo.unpin(pinned);
  }
}

/**
 * A resumed job trusts its checkpoint only as far as the store still holds it (a store may have
 * lost objects while we were down: a bucket emptied, restored from an older backup): each block
 * the checkpoint names is looked up, and pinned against collections, and the ones the store
 * lacks are done again. `completed` then still means every block is stored. Its cost grows with
 * the checkpoint, not with the store: a shared bucket can hold far more blocks than one job.
 */
async function keepStoredOnly(
  repo: BlockRepository,
  done: Map<number, string>,
  pinned: string[],
  concurrency: number,
  signal: AbortSignal,
): Promise<void> {
  const byDigest = new Map<string, number[]>();
  for (const [index, sha] of done) {
    if (sha === '') continue;
    const indices = byDigest.get(sha);
    if (indices) indices.push(index);
    else byDigest.set(sha, [index]);
  }
  const digests = [...byDigest.keys()];
  const worker = async () => {
    for (let sha = digests.pop(); sha !== undefined; sha = digests.pop()) {
      pinned.push(sha);
      if ((await repo.pinExisting(sha, signal)) !== undefined) continue;
      for (const index of byDigest.get(sha)!) done.delete(index);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

async function countBlocks(store: BlockStore, id: string, done: Map<number, string>): Promise<number> {
  let n = 0;
  for await (const b of store.listSnapshotBlocks(id, 'all')) if (!done.has(b.index)) n++;
  return n;
}
