/**
 * The copy engine: snapshots' lifecycle after the freeze. It uploads each frozen snapshot to the
 * object store with honest progress (pending → completed | error), resumes after a restart,
 * copies snapshots, and deletes them once nothing depends on them (a pending snapshot is deleted
 * once its copy settles, as on EBS). Its parts: the statuses (copy-statuses.ts), restored
 * volumes (volume-restores.ts) and snapshots written through the direct APIs (direct-writes.ts).
 */
import { randomUUID } from 'node:crypto';
import type { BlockStore } from '../core/block-store.js';
import { CoreError } from '../core/errors.js';
import { Histogram, type HistogramSummary } from '../core/histogram.js';
import { newSnapshotId } from '../core/ids.js';
import { Mutex, type LockTimes } from '../core/mutex.js';
import type { RecordPut } from '../core/record-store.js';
import type { ObjectStore } from '../object-store/object-store.js';
import { SharedBuffers } from '../object-store/shared-buffers.js';
import { BlockCollector, type CollectorOptions } from './block-collector.js';
import { BlockRepository } from './block-repository.js';
import type { CopyStatus } from './copy-status.js';
import { COPY_NAMESPACE, CopyStatuses, newStatus } from './copy-statuses.js';
import { DirectWrites } from './direct-writes.js';
import { manifestBackingSource } from './hydration.js';
import type { Manifest } from './manifest.js';
import { runManifestCopy } from './manifest-copy-job.js';
import { DEFAULT_RETRY, errorText, formatSeconds, type RetryNotice, type RetryPolicy } from './retry.js';
import { runSnapshotCopy } from './snapshot-copy-job.js';
import { deleteSnapshotData } from './snapshot-deletion.js';
import { VolumeRestores } from './volume-restores.js';

/** Snapshots whose per-block copy times are kept (GET /_ebs-sim/stats): ~2 KiB each. */
const KEEP_BLOCK_TIMES = 1000;

export interface CopyEngineOptions {
  store: BlockStore;
  objects: ObjectStore;
  /** Blocks in flight per snapshot. */
  concurrency?: number;
  hydrationConcurrency?: number;
  /** Blocks between two persisted progress checkpoints. */
  checkpointEvery?: number;
  retry?: Partial<RetryPolicy>;
  collector?: CollectorOptions;
  /** The service's clock (ms since the epoch), for the start and completion times of copies. */
  now?: () => number;
}

interface Job {
  abort: AbortController;
  done: Promise<void>;
}

/** Why a job was stopped: `close` leaves it pending for the next start, `group` failed its set. */
type StopReason = 'close' | 'group';

export class CopyEngine {
  readonly repo: BlockRepository;
  /** Every snapshot's copy status: what DescribeSnapshots shows, and what waits on it. */
  readonly statuses: CopyStatuses;
  readonly restores: VolumeRestores;
  /** Snapshots written block by block through the direct APIs. */
  readonly direct: DirectWrites;
  private readonly collector: BlockCollector;
  private readonly store: BlockStore;
  private readonly jobs = new Map<string, Job>();
  private readonly deleteLock = new Mutex({ timed: true });
  /** Deletion attempts queued on deleteLock and not yet started, by snapshot. */
  private readonly deletesWaiting = new Map<string, Promise<void>>();
  private readonly concurrency: number;
  private readonly checkpointEvery: number;
  private readonly buffers = new SharedBuffers();
  /** Per-block copy times of the latest snapshot copies since the engine opened (in memory only). */
  private readonly blockTimes = new Map<string, Histogram>();
  private closing = false;
  private readonly now: () => number;

  private constructor(opts: CopyEngineOptions) {
    this.store = opts.store;
    this.repo = new BlockRepository(opts.objects, { ...DEFAULT_RETRY, ...opts.retry });
    this.collector = new BlockCollector(opts.store.records, this.repo, opts.collector);
    this.concurrency = opts.concurrency ?? 8;
    this.checkpointEvery = opts.checkpointEvery ?? 32;
    this.now = opts.now ?? Date.now;
    this.statuses = new CopyStatuses(opts.store.records, (st) => this.onCopySettled(st));
    this.restores = new VolumeRestores({
      store: opts.store,
      repo: this.repo,
      statuses: this.statuses,
      concurrency: opts.hydrationConcurrency ?? 8,
      onHydrated: (snapshotId) => void this.tryDelete(snapshotId),
    });
    this.direct = new DirectWrites({
      repo: this.repo,
      records: opts.store.records,
      statuses: this.statuses,
      now: this.now,
      fail: (id, message) => this.fail(id, message),
      manifestOnceSettled: (id, signal) => this.manifestOnceSettled(id, signal),
    });
  }

  /** Opens the engine over a store and resumes whatever a previous run left unfinished. */
  static async open(opts: CopyEngineOptions): Promise<CopyEngine> {
    const engine = new CopyEngine(opts);
    const { store } = opts;
    store.setBackingSource(manifestBackingSource(engine.repo));
    await engine.statuses.load();
    // A crash between a freeze and its status record: the snapshot exists, its copy never began.
    for (const snap of await store.listSnapshots()) {
      if (engine.statuses.has(snap.id)) continue;
      const st = newStatus(snap.id, snap.volumeId, snap.volumeSize, snap.blockSize, snap.parentId ?? snap.backing?.snapshotId ?? null, snap.createdAt);
      await store.records.put(COPY_NAMESPACE, snap.id, st);
      engine.statuses.adopt(st);
    }
    for (const st of [...engine.statuses.all()]) if (st.state === 'pending' && !st.direct) engine.startJob(st);
    await engine.direct.resume();
    await engine.restores.resume();
    for (const st of [...engine.statuses.all()]) if (st.deleteRequested) await engine.tryDelete(st.snapshotId);
    await engine.collector.resume();
    return engine;
  }

  /** Freezes the volumes at one instant (one batch, `records` included) and starts their copies. */
  async createSnapshots(
    targets: Array<{ volumeId: string; snapshotId?: string }>,
    options: { records?: RecordPut[] } = {},
  ): Promise<CopyStatus[]> {
    const groupId = targets.length > 1 ? randomUUID() : undefined;
    let statuses: CopyStatus[] = [];
    // The copy statuses are built from the frozen snapshots and ride in the freeze's batch.
    await this.store.snapshotMany(
      targets.map((t) => ({ volumeId: t.volumeId, id: t.snapshotId ?? newSnapshotId() })),
      options.records,
      (snaps) => {
        statuses = snaps.map((s) => ({
          ...newStatus(s.id, s.volumeId, s.volumeSize, s.blockSize, s.parentId ?? s.backing?.snapshotId ?? null, s.createdAt),
          blocksTotal: s.entries,
          ...(groupId ? { groupId } : {}),
        }));
        return statuses.map((st) => ({ namespace: COPY_NAMESPACE, id: st.snapshotId, value: st }));
      },
    );
    for (const st of statuses) {
      this.statuses.adopt(st);
      this.startJob(st);
    }
    return statuses.map((st) => ({ ...st }));
  }

  /** A new snapshot holding the source's blocks (no upload: the block store is shared). */
  async copySnapshot(sourceId: string, options: { snapshotId?: string; records?: RecordPut[] } = {}): Promise<CopyStatus> {
    const source = this.statuses.live(sourceId);
    const st: CopyStatus = {
      ...newStatus(options.snapshotId ?? newSnapshotId(), source.volumeId, source.volumeSize, source.blockSize, sourceId, new Date(this.now()).toISOString()),
      copiedFrom: sourceId,
    };
    await this.store.records.write([...(options.records ?? []), { namespace: COPY_NAMESPACE, id: st.snapshotId, value: st }]);
    this.statuses.adopt(st);
    this.startJob(st);
    return { ...st };
  }

  /**
   * Deletes a snapshot: its manifest and its local data, with its blocks queued for the
   * collector's next sweep (which keeps those another manifest references). Deferred (it
   * resolves at once) while its copy is pending, while a pending copy builds on it, or while a
   * restored volume still loads from it.
   */
  async deleteSnapshot(snapshotId: string, options: { records?: RecordPut[] } = {}): Promise<void> {
    await (await this.requestDeletion(snapshotId, options)).deleted;
  }

  /**
   * deleteSnapshot in two steps: resolves once the request is persisted (with `records`, in one
   * batch; from then on the snapshot is gone for every caller and a restart finishes the job),
   * with `deleted` for the deletion itself, so that a caller holding a lock need not wait for
   * the object store.
   */
  async requestDeletion(snapshotId: string, options: { records?: RecordPut[] } = {}): Promise<{ deleted: Promise<void> }> {
    const st = this.statuses.live(snapshotId);
    // A direct snapshot still open for writes has no copy to wait for: it ends here.
    const open = this.direct.isOpen(st);
    await this.statuses.save({ ...st, deleteRequested: true, ...(open ? { state: 'error', message: 'Deleted before it was completed.' } : {}) }, options.records);
    if (open) await this.direct.release(st);
    return { deleted: this.tryDelete(snapshotId) };
  }

  /** Reads a completed snapshot's bytes straight from the object store (for verification). */
  async readSnapshot(snapshotId: string, offset: number, length: number): Promise<Buffer> {
    const st = this.statuses.live(snapshotId);
    if (offset < 0 || length < 0 || offset + length > st.volumeSize) {
      throw new CoreError('OFFSET_OUT_OF_RANGE', `range [${offset}, ${offset + length}) is outside snapshot ${snapshotId}`);
    }
    const m = await this.repo.getManifest(snapshotId);
    if (!m) throw new CoreError('SNAPSHOT_WRONG_STATE', `snapshot ${snapshotId} has no manifest (state ${st.state})`);
    const out = Buffer.alloc(length);
    for (let at = offset; at < offset + length; ) {
      const blk = Math.floor(at / m.blockSize);
      const end = Math.min(offset + length, (blk + 1) * m.blockSize);
      const sha = m.blocks.get(blk);
      if (sha) (await this.repo.getBlock(sha)).copy(out, at - offset, at - blk * m.blockSize, end - blk * m.blockSize);
      at = end;
    }
    return out;
  }

  /**
   * Stops every job; pending copies stay pending and resume at the next open. Waits at most
   * `graceMs` for uploads already in flight (a throttled one can take long): they are
   * idempotent, so one that lands after the close changes nothing, and its job, stopped,
   * records nothing more.
   */
  async close(graceMs = 1000): Promise<void> {
    this.closing = true;
    for (const job of this.jobs.values()) job.abort.abort('close' satisfies StopReason);
    const stopping = [...[...this.jobs.values()].map((j) => j.done), ...this.direct.stop(), ...this.restores.stop()];
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    // A deletion in progress finishes its step; a sweep stops between two block deletes.
    const deletions = this.deleteLock.run(async () => undefined);
    await Promise.race([Promise.all([...stopping, deletions, this.collector.close()]), grace]);
    clearTimeout(timer);
  }

  // ---- jobs ----

  /**
   * How long each block of the latest copies took to become stored (read, hashed if need be,
   * uploaded or found already stored), per snapshot, since the engine opened; a copy resumed
   * after a restart counts only what it did since.
   */
  copyBlockTimes(): Record<string, HistogramSummary> {
    return Object.fromEntries([...this.blockTimes].map(([id, h]) => [id, h.summary()]));
  }

  private blockTimesOf(snapshotId: string): Histogram {
    const h = new Histogram();
    this.blockTimes.set(snapshotId, h);
    // The latest copies only: a long-running server forgets the oldest.
    if (this.blockTimes.size > KEEP_BLOCK_TIMES) this.blockTimes.delete(this.blockTimes.keys().next().value!);
    return h;
  }

  private startJob(st: CopyStatus): void {
    const abort = new AbortController();
    const id = st.snapshotId;
    this.repo.watchRetries(abort.signal, {
      retrying: (n) => this.statuses.setTrouble(id, retryMessage(n)),
      recovered: () => this.statuses.setTrouble(id, undefined),
    });
    const save = (s: CopyStatus, records?: RecordPut[]) => this.statuses.save(s, records);
    // The job's first steps wait for the event loop's next turn: the CreateSnapshot answer
    // (the freeze is committed) goes out first. Measured idle: ~0.5 ms off that answer.
    const run = new Promise<void>((resolve) => setImmediate(resolve)).then(() => st.copiedFrom
      ? runManifestCopy(
          { repo: this.repo, concurrency: this.concurrency, checkpointEvery: this.checkpointEvery, now: this.now, save, sourceManifest: (p) => this.manifestOnceSettled(p, abort.signal) },
          st,
          abort.signal,
        )
      : runSnapshotCopy(
          {
            store: this.store,
            repo: this.repo,
            concurrency: this.concurrency,
            checkpointEvery: this.checkpointEvery,
            now: this.now,
            buffers: this.buffers,
            save,
            parentManifest: (p) => this.manifestOnceSettled(p, abort.signal),
            blockTimes: this.blockTimesOf(id),
          },
          st,
          abort.signal,
        ));
    const done = run
      .catch((err: unknown) => {
        if (abort.signal.aborted) return; // closing, or already failed with its group
        return this.fail(id, errorText(err));
      })
      .finally(() => {
        this.jobs.delete(id);
        this.statuses.clearTrouble(id);
      });
    this.jobs.set(id, { abort, done });
  }

  private async fail(id: string, message: string): Promise<void> {
    const st = this.statuses.current(id);
    if (!st) return;
    await this.statuses.save({ ...st, state: 'error', message });
    if (!st.groupId) return;
    // AWS: if one snapshot of a multi-volume set fails, all of them show error.
    for (const other of [...this.statuses.all()]) {
      if (other.groupId !== st.groupId || other.snapshotId === id || other.state === 'error') continue;
      this.jobs.get(other.snapshotId)?.abort.abort('group' satisfies StopReason);
      await this.statuses.save({ ...other, state: 'error', message: `snapshot ${id} of the same multi-volume set failed: ${message}` });
    }
  }

  /** The parent's manifest once its copy settled (undefined if it failed); stops waiting on abort. */
  private async manifestOnceSettled(snapshotId: string, signal: AbortSignal): Promise<Manifest | undefined> {
    if (!this.statuses.has(snapshotId)) return undefined;
    const aborted = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
    const settled = await Promise.race([this.statuses.settled(snapshotId), aborted]);
    return settled.state === 'completed' ? this.repo.getManifest(snapshotId) : undefined;
  }

  /** A copy left pending: the deletions that waited for it, or for it not to need its parent, may go. */
  private onCopySettled(st: CopyStatus): void {
    queueMicrotask(() => {
      if (st.deleteRequested) void this.tryDelete(st.snapshotId);
      if (st.parentId && this.statuses.current(st.parentId)?.deleteRequested) void this.tryDelete(st.parentId);
    });
  }

  // ---- deletion ----

  private tryDelete(snapshotId: string): Promise<void> {
    // One attempt waiting per snapshot is enough: it reads the state when it runs. Without this,
    // each finished deletion's retryDeferredDeletes queued every deferred one again, and a
    // backlog grew with its own square.
    const waiting = this.deletesWaiting.get(snapshotId);
    if (waiting) return waiting;
    const attempt = this.deleteLock.run(async () => {
      this.deletesWaiting.delete(snapshotId);
      const st = this.statuses.current(snapshotId);
      if (!st?.deleteRequested || st.state === 'pending' || this.closing) return;
      const dependents = [...this.statuses.all()].some((o) => o.state === 'pending' && o.parentId === snapshotId);
      // Restored volumes stay whole whatever happens to their source: it is kept (hidden from
      // EC2) until every volume restored from it holds all its blocks, and no snapshot frozen
      // from one before then remains.
      if (dependents || (await this.restores.holdsSource(snapshotId))) return;
      await deleteSnapshotData(this.store, this.repo, this.collector, snapshotId, { namespace: COPY_NAMESPACE, id: snapshotId, value: null });
      this.statuses.forget(snapshotId);
      // Its parent, or the source of its volume's restore, may have waited for it.
      queueMicrotask(() => this.retryDeferredDeletes());
    });
    this.deletesWaiting.set(snapshotId, attempt);
    return attempt;
  }

  /** How long status saves and deletions waited for their locks and held them. */
  lockTimes(): Record<'statusSaves' | 'deletions', LockTimes> {
    return { statusSaves: this.statuses.lockTimes(), deletions: this.deleteLock.times() };
  }

  /**
   * Sweeps the object store now for the blocks deleted snapshots left (sweeps otherwise run on
   * their own, spaced out); resolves with how many blocks it deleted.
   */
  collectGarbage(): Promise<number> {
    return this.collector.collectNow();
  }

  /** Retries the deletions that were deferred: call it once a volume or a hydration is gone. */
  retryDeferredDeletes(): void {
    for (const st of this.statuses.all()) if (st.deleteRequested && st.state !== 'pending') void this.tryDelete(st.snapshotId);
  }
}

/** What DescribeSnapshots shows while a copy waits out store trouble. */
function retryMessage(n: RetryNotice): string {
  return `Retrying: ${n.what} failed (attempt ${n.attempt}, ${formatSeconds(n.elapsedMs)} into a ${formatSeconds(n.budgetMs)} retry budget): ${errorText(n.error)}`;
}
