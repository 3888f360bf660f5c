/**
 * The copy engine: snapshots' lifecycle after the freeze. It uploads each frozen snapshot to the
 * object store with honest progress (pending → completed | error), resumes after a restart,
 * copies snapshots, restores volumes lazily from them, and deletes them once nothing depends
 * on them (a pending snapshot is deleted once its copy settles, as on EBS).
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { BlockStore } from '../core/block-store.js';
import { CoreError, invalidArgument, snapshotNotFound } from '../core/errors.js';
import { newSnapshotId, newVolumeId } from '../core/ids.js';
import { Mutex, type LockTimes } from '../core/mutex.js';
import type { RecordPut } from '../core/record-store.js';
import type { VolumeRecord } from '../core/records.js';
import type { ObjectStore } from '../object-store/object-store.js';
import { BlockBuffers } from './block-buffers.js';
import { BlockCollector, type CollectorOptions } from './block-collector.js';
import { BlockRepository } from './block-repository.js';
import type { CopyStatus } from './copy-status.js';
import type { Manifest } from './manifest.js';
import { HYDRATION_NAMESPACE, manifestBackingSource, runHydration, type HydrationStatus } from './hydration.js';
import { runManifestCopy } from './manifest-copy-job.js';
import { DEFAULT_RETRY, errorText, formatSeconds, type RetryNotice, type RetryPolicy } from './retry.js';
import { doneNamespace, runSnapshotCopy } from './snapshot-copy-job.js';
import { deleteSnapshotData } from './snapshot-deletion.js';
import { putDirectBlock, repinDirectBlocks, sealDirectSnapshot, unpinStored, type DirectSeal, type DirectUploadDeps } from './direct-upload.js';

export const COPY_NAMESPACE = 'copy';

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

/** A status change waiting for the next group commit (saveWith). */
interface QueuedSave {
  id: string;
  change: (prev: CopyStatus) => CopyStatus | undefined;
  records: RecordPut[];
  resolve(st: CopyStatus | undefined): void;
  reject(err: unknown): void;
}

export class CopyEngine {
  readonly repo: BlockRepository;
  private readonly collector: BlockCollector;
  private readonly store: BlockStore;
  private readonly events = new EventEmitter();
  private readonly statuses = new Map<string, CopyStatus>();
  private readonly jobs = new Map<string, Job>();
  private readonly waiters = new Map<string, Array<(s: CopyStatus) => void>>();
  private readonly hydrations = new Map<string, HydrationStatus>();
  private readonly hydrationJobs = new Map<string, Job>();
  /** Restores between their check and their hydration record: their snapshot must stay. */
  private readonly restoring = new Map<string, number>();
  private readonly saveLock = new Mutex({ timed: true });
  private queuedSaves: QueuedSave[] = [];
  private readonly deleteLock = new Mutex({ timed: true });
  private readonly concurrency: number;
  private readonly hydrationConcurrency: number;
  private readonly checkpointEvery: number;
  private readonly buffers = new BlockBuffers();
  /** Pending copies riding out store trouble: the last failed attempt, shown as their message. */
  private readonly troubles = new Map<string, string>();
  /** Puts in flight per direct snapshot: a seal waits for them. */
  private readonly directPuts = new Map<string, Set<Promise<unknown>>>();
  private closing = false;
  private readonly now: () => number;

  private constructor(opts: CopyEngineOptions) {
    this.store = opts.store;
    this.repo = new BlockRepository(opts.objects, { ...DEFAULT_RETRY, ...opts.retry });
    this.collector = new BlockCollector(opts.store.records, this.repo, opts.collector);
    this.concurrency = opts.concurrency ?? 8;
    this.hydrationConcurrency = opts.hydrationConcurrency ?? 8;
    this.checkpointEvery = opts.checkpointEvery ?? 32;
    this.now = opts.now ?? Date.now;
  }

  /** Opens the engine over a store and resumes whatever a previous run left unfinished. */
  static async open(opts: CopyEngineOptions): Promise<CopyEngine> {
    const engine = new CopyEngine(opts);
    const { store } = opts;
    store.setBackingSource(manifestBackingSource(engine.repo));
    for await (const [id, st] of store.records.list<CopyStatus>(COPY_NAMESPACE)) engine.statuses.set(id, st);
    // A crash between a freeze and its status record: the snapshot exists, its copy never began.
    for (const snap of await store.listSnapshots()) {
      if (engine.statuses.has(snap.id)) continue;
      const st = engine.newStatus(snap.id, snap.volumeId, snap.volumeSize, snap.blockSize, snap.parentId ?? snap.backing?.snapshotId ?? null, snap.createdAt);
      await store.records.put(COPY_NAMESPACE, snap.id, st);
      engine.statuses.set(snap.id, st);
    }
    for await (const [, h] of store.records.list<HydrationStatus>(HYDRATION_NAMESPACE)) engine.hydrations.set(h.volumeId, h);
    for (const st of engine.statuses.values()) {
      if (st.state !== 'pending') continue;
      if (!st.direct) engine.startJob(st);
      else {
        await repinDirectBlocks(engine.directDeps(), st);
        if (st.direct.sealing) engine.startSeal(st, st.direct.sealing);
      }
    }
    for (const h of engine.hydrations.values()) {
      if (h.state === 'hydrating') engine.startHydration(h);
      else await store.markHydrated(h.volumeId); // a data directory from before hydrations were marked
    }
    for (const st of [...engine.statuses.values()]) if (st.deleteRequested) await engine.tryDelete(st.snapshotId);
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
          ...this.newStatus(s.id, s.volumeId, s.volumeSize, s.blockSize, s.parentId ?? s.backing?.snapshotId ?? null, s.createdAt),
          blocksTotal: s.entries,
          ...(groupId ? { groupId } : {}),
        }));
        return statuses.map((st) => ({ namespace: COPY_NAMESPACE, id: st.snapshotId, value: st }));
      },
    );
    for (const st of statuses) {
      this.statuses.set(st.snapshotId, st);
      this.startJob(st);
    }
    return statuses.map((st) => ({ ...st }));
  }

  /** A new snapshot holding the source's blocks (no upload: the block store is shared). */
  async copySnapshot(sourceId: string, options: { snapshotId?: string; records?: RecordPut[] } = {}): Promise<CopyStatus> {
    const source = this.live(sourceId);
    const st: CopyStatus = {
      ...this.newStatus(options.snapshotId ?? newSnapshotId(), source.volumeId, source.volumeSize, source.blockSize, sourceId, new Date(this.now()).toISOString()),
      copiedFrom: sourceId,
    };
    await this.store.records.write([...(options.records ?? []), { namespace: COPY_NAMESPACE, id: st.snapshotId, value: st }]);
    this.statuses.set(st.snapshotId, st);
    this.startJob(st);
    return { ...st };
  }

  // ---- snapshots written through the direct APIs ----

  /** A completed snapshot's manifest (cached): what the direct APIs list and compare. */
  manifest(snapshotId: string): Promise<Manifest | undefined> {
    return this.repo.getManifest(snapshotId);
  }

  /** A stored block's bytes, checked against its digest. */
  readBlock(sha256: string): Promise<Buffer> {
    return this.repo.getBlock(sha256);
  }

  /** A pending snapshot with no volume, written block by block (`records` ride in its batch). */
  async startDirectSnapshot(input: { snapshotId: string; volumeSize: number; blockSize: number; parentId: string | null; volumeId: string; records?: RecordPut[] }): Promise<CopyStatus> {
    const st: CopyStatus = {
      ...this.newStatus(input.snapshotId, input.volumeId, input.volumeSize, input.blockSize, input.parentId, new Date(this.now()).toISOString()),
      direct: { progress: 0 },
    };
    await this.store.records.write([...(input.records ?? []), { namespace: COPY_NAMESPACE, id: st.snapshotId, value: st }]);
    this.statuses.set(st.snapshotId, st);
    return { ...st };
  }

  /**
   * Stores block `index` of a direct snapshot still open for writes; `sha256` (hex) is the
   * caller's checked digest of `content`. One put of an index at a time.
   */
  async putDirectBlock(snapshotId: string, put: { index: number; content: Buffer; sha256: string; progress?: number }): Promise<{ deduplicated: boolean }> {
    const st = this.writableDirect(snapshotId);
    const inFlight = this.directPuts.get(snapshotId) ?? new Set<Promise<unknown>>();
    this.directPuts.set(snapshotId, inFlight);
    const p = putDirectBlock(this.directDeps(), st, put);
    const tracked = p.catch(() => undefined).finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    return p;
  }

  /** CompleteSnapshot: no more puts; the seal runs in the background (the snapshot stays pending until it ends). */
  async completeDirectSnapshot(snapshotId: string, seal: DirectSeal): Promise<void> {
    const st = this.writableDirect(snapshotId);
    const sealing: CopyStatus = { ...st, direct: { ...st.direct!, sealing: seal } };
    this.statuses.set(snapshotId, sealing); // puts that arrive from now on are refused
    await this.save(sealing);
    this.startSeal(sealing, seal);
  }

  /** Fails a direct snapshot still open for writes (its Timeout passed); false if it was not open. */
  async expireDirectSnapshot(snapshotId: string, message: string): Promise<boolean> {
    const st = this.statuses.get(snapshotId);
    if (st?.state !== 'pending' || !st.direct || st.direct.sealing) return false;
    await this.fail(snapshotId, message);
    await this.releaseDirect(st);
    return true;
  }

  private writableDirect(snapshotId: string): CopyStatus {
    const st = this.live(snapshotId);
    if (!st.direct || st.state !== 'pending' || st.direct.sealing) {
      throw new CoreError('SNAPSHOT_WRONG_STATE', `Snapshot ${snapshotId} does not accept blocks: ${st.direct ? (st.state === 'pending' ? 'it is being completed' : `it is ${st.state}`) : 'it was not started with StartSnapshot'}.`);
    }
    return st;
  }

  private startSeal(st: CopyStatus, seal: DirectSeal): void {
    const abort = new AbortController();
    const id = st.snapshotId;
    const done = Promise.all([...(this.directPuts.get(id) ?? [])])
      .then(() => sealDirectSnapshot(this.directDeps(abort.signal), st, seal))
      .catch((err: unknown) => (abort.signal.aborted ? undefined : this.fail(id, errorText(err))))
      .finally(() => {
        this.jobs.delete(id);
        this.directPuts.delete(id);
      });
    this.jobs.set(id, { abort, done });
  }

  /** Drops the pins of a direct snapshot that will never be sealed. */
  private async releaseDirect(st: CopyStatus): Promise<void> {
    await Promise.all([...(this.directPuts.get(st.snapshotId) ?? [])]);
    this.directPuts.delete(st.snapshotId);
    const shas: string[] = [];
    for await (const [, sha] of this.store.records.list<string>(doneNamespace(st.snapshotId))) if (sha) shas.push(sha);
    unpinStored(this.repo, shas, st.blockSize);
  }

  private directDeps(signal?: AbortSignal): DirectUploadDeps {
    return {
      repo: this.repo,
      records: this.store.records,
      now: this.now,
      update: (id, change, records) => this.saveWith(id, change, records),
      parentManifest: (p) => this.manifestOnceSettled(p, signal ?? new AbortController().signal),
    };
  }

  status(snapshotId: string): CopyStatus | undefined {
    const st = this.statuses.get(snapshotId);
    if (!st) return undefined;
    const trouble = st.state === 'pending' ? this.troubles.get(snapshotId) : undefined;
    return trouble === undefined ? { ...st } : { ...st, trouble };
  }

  /** Only the state: for checks that run over many snapshots, without copying each status. */
  state(snapshotId: string): CopyStatus['state'] | undefined {
    return this.statuses.get(snapshotId)?.state;
  }

  list(): CopyStatus[] {
    return [...this.statuses.values()].map((st) => ({ ...st }));
  }

  /** Resolves with the status once the copy is completed or in error. */
  settled(snapshotId: string): Promise<CopyStatus> {
    const st = this.statuses.get(snapshotId);
    if (!st) return Promise.reject(snapshotNotFound(snapshotId));
    if (st.state !== 'pending') return Promise.resolve({ ...st });
    return new Promise((resolve) => this.waiters.set(snapshotId, [...(this.waiters.get(snapshotId) ?? []), resolve]));
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
    const st = this.live(snapshotId);
    // A direct snapshot still open for writes has no copy to wait for: it ends here.
    const open = st.direct !== undefined && st.state === 'pending' && !st.direct.sealing;
    await this.save({ ...st, deleteRequested: true, ...(open ? { state: 'error', message: 'Deleted before it was completed.' } : {}) }, options.records);
    if (open) await this.releaseDirect(st);
    return { deleted: this.tryDelete(snapshotId) };
  }

  /** Creates a volume from a completed snapshot in O(1): blocks load on first read and in the background. */
  async restoreVolume(input: { snapshotId: string; volumeId?: string; size?: number; records?: RecordPut[] }): Promise<VolumeRecord> {
    const st = this.live(input.snapshotId);
    if (st.state !== 'completed') {
      throw new CoreError('SNAPSHOT_WRONG_STATE', `Snapshot ${input.snapshotId} is ${st.state}; only completed snapshots can be restored.`);
    }
    const size = input.size ?? st.volumeSize;
    if (size < st.volumeSize) throw invalidArgument(`volume size ${size} is smaller than snapshot ${input.snapshotId} (${st.volumeSize} bytes)`);
    this.restoring.set(input.snapshotId, (this.restoring.get(input.snapshotId) ?? 0) + 1);
    try {
      const manifest = await this.repo.getManifest(input.snapshotId);
      if (!manifest) throw new CoreError('BACKING_UNAVAILABLE', `snapshot ${input.snapshotId} has no manifest in the object store`);
      const volumeId = input.volumeId ?? newVolumeId();
      const h: HydrationStatus = { volumeId, snapshotId: input.snapshotId, blocksTotal: manifest.blocks.size, blocksDone: 0, state: 'hydrating' };
      const vol = await this.store.createVolume({
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

  hydration(volumeId: string): HydrationStatus | undefined {
    const h = this.hydrations.get(volumeId);
    return h ? { ...h } : undefined;
  }

  /** Reads a completed snapshot's bytes straight from the object store (for verification). */
  async readSnapshot(snapshotId: string, offset: number, length: number): Promise<Buffer> {
    const st = this.live(snapshotId);
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

  on(event: 'status', listener: (s: CopyStatus) => void): void {
    this.events.on(event, listener);
  }

  /**
   * Stops every job; pending copies stay pending and resume at the next open. Waits at most
   * `graceMs` for uploads already in flight (a throttled one can take long): they are
   * idempotent, so one that lands after the close changes nothing, and its job, stopped,
   * records nothing more.
   */
  async close(graceMs = 1000): Promise<void> {
    this.closing = true;
    const all = [...this.jobs.values(), ...this.hydrationJobs.values()];
    for (const job of all) job.abort.abort('close' satisfies StopReason);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    // A deletion in progress finishes its step; a sweep stops between two block deletes.
    const deletions = this.deleteLock.run(async () => undefined);
    await Promise.race([Promise.all([...all.map((j) => j.done), deletions, this.collector.close()]), grace]);
    clearTimeout(timer);
  }

  // ---- jobs ----

  private startJob(st: CopyStatus): void {
    const abort = new AbortController();
    const id = st.snapshotId;
    this.repo.watchRetries(abort.signal, {
      retrying: (n) => this.setTrouble(id, retryMessage(n)),
      recovered: () => this.setTrouble(id, undefined),
    });
    const save = (s: CopyStatus, records?: RecordPut[]) => this.save(s, records);
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
        this.troubles.delete(id);
      });
    this.jobs.set(id, { abort, done });
  }

  /** Publishes a change of a pending copy's trouble (not persisted: a restart finds it again). */
  private setTrouble(id: string, message: string | undefined): void {
    if (this.troubles.get(id) === message) return;
    if (message === undefined) this.troubles.delete(id);
    else this.troubles.set(id, message);
    const st = this.status(id);
    if (st?.state === 'pending') this.events.emit('status', st);
  }

  private async fail(id: string, message: string): Promise<void> {
    const st = this.statuses.get(id);
    if (!st) return;
    await this.save({ ...st, state: 'error', message });
    if (!st.groupId) return;
    // AWS: if one snapshot of a multi-volume set fails, all of them show error.
    for (const other of this.statuses.values()) {
      if (other.groupId !== st.groupId || other.snapshotId === id || other.state === 'error') continue;
      this.jobs.get(other.snapshotId)?.abort.abort('group' satisfies StopReason);
      await this.save({ ...other, state: 'error', message: `snapshot ${id} of the same multi-volume set failed: ${message}` });
    }
  }

  /** The parent's manifest once its copy settled (undefined if it failed); stops waiting on abort. */
  private async manifestOnceSettled(snapshotId: string, signal: AbortSignal) {
    const st = this.statuses.get(snapshotId);
    if (!st) return undefined;
    const aborted = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
    const settled = await Promise.race([this.settled(snapshotId), aborted]);
    return settled.state === 'completed' ? this.repo.getManifest(snapshotId) : undefined;
  }

  /** Persists a status with monotonic progress, then publishes it. */
  private async save(next: CopyStatus, records: RecordPut[] = []): Promise<void> {
    await this.saveWith(next.snapshotId, () => next, records);
  }

  /**
   * save() of what `change` makes of the current status (undefined: no change, and its records are
   * not written). Group commit: the saves that arrive while one batch is being written go together
   * in the next, so 64 concurrent block puts cost one LevelDB write, not 64 in a row (each waited
   * ~2.5 ms for the core's lock, which capped direct uploads near 90 MB/s).
   */
  private saveWith(id: string, change: (prev: CopyStatus) => CopyStatus | undefined, records: RecordPut[] = []): Promise<CopyStatus | undefined> {
    return new Promise((resolve, reject) => {
      this.queuedSaves.push({ id, change, records, resolve, reject });
      if (this.queuedSaves.length === 1) void this.saveLock.run(() => this.writeQueuedSaves());
    });
  }

  private async writeQueuedSaves(): Promise<void> {
    const batch = this.queuedSaves;
    this.queuedSaves = [];
    const working = new Map<string, CopyStatus>();
    const applied: Array<{ save: QueuedSave; st: CopyStatus | undefined }> = [];
    const writes: RecordPut[] = [];
    for (const save of batch) {
      let st: CopyStatus | undefined;
      try {
        st = this.nextStatus(working.get(save.id) ?? this.statuses.get(save.id), save.change);
      } catch (err) {
        save.reject(err);
        continue;
      }
      if (st) {
        working.set(st.snapshotId, st);
        writes.push(...save.records);
      }
      applied.push({ save, st });
    }
    try {
      if (working.size > 0) {
        await this.store.records.write([...writes, ...[...working.values()].map((st) => ({ namespace: COPY_NAMESPACE, id: st.snapshotId, value: st }))]);
      }
    } catch (err) {
      for (const { save } of applied) save.reject(err);
      return;
    }
    for (const { save, st } of applied) {
      if (st) {
        this.statuses.set(st.snapshotId, st);
        this.events.emit('status', { ...st });
        if (st.state !== 'pending') this.settle(st);
      }
      save.resolve(st && { ...st });
    }
  }

  /** What a save makes of `prev`, with monotonic progress; undefined: nothing to write. */
  private nextStatus(prev: CopyStatus | undefined, change: (prev: CopyStatus) => CopyStatus | undefined): CopyStatus | undefined {
    if (!prev) return undefined;
    const next = change(prev);
    if (!next) return undefined;
    if (prev.state !== 'pending' && next.state === 'pending') return undefined; // a stopped job's late checkpoint
    const computed = next.direct ? next.direct.progress : next.blocksTotal > 0 ? Math.floor((100 * next.blocksDone) / next.blocksTotal) : 0;
    const st: CopyStatus = {
      ...next,
      progress: next.state === 'completed' ? 100 : Math.min(99, Math.max(prev.progress, computed)),
      deleteRequested: prev.deleteRequested === true || next.deleteRequested === true,
    };
    if (!st.deleteRequested) delete st.deleteRequested;
    return st;
  }

  private settle(st: CopyStatus): void {
    const waiting = this.waiters.get(st.snapshotId) ?? [];
    this.waiters.delete(st.snapshotId);
    for (const resolve of waiting) resolve({ ...st });
    // Deletions that waited for this copy, or for this copy not to need its parent any more.
    queueMicrotask(() => {
      if (st.deleteRequested) void this.tryDelete(st.snapshotId);
      if (st.parentId && this.statuses.get(st.parentId)?.deleteRequested) void this.tryDelete(st.parentId);
    });
  }

  private startHydration(h: HydrationStatus): void {
    const abort = new AbortController();
    const save = async (next: HydrationStatus) => {
      const record = { namespace: HYDRATION_NAMESPACE, id: next.volumeId, value: next };
      // Done: the volume holds every block, so it stops reading from the snapshot (same batch).
      if (next.state === 'done') await this.store.markHydrated(next.volumeId, [record]);
      else await this.store.records.write([record]);
      this.hydrations.set(next.volumeId, next);
      if (next.state === 'done' && this.statuses.get(next.snapshotId)?.deleteRequested) void this.tryDelete(next.snapshotId);
    };
    const done = runHydration({ store: this.store, repo: this.repo, concurrency: this.hydrationConcurrency, save }, h, abort.signal)
      .catch(() => undefined) // not fatal: unloaded blocks are still read from the object store; resumes at next open
      .finally(() => this.hydrationJobs.delete(h.volumeId));
    this.hydrationJobs.set(h.volumeId, { abort, done });
  }

  // ---- deletion ----

  private tryDelete(snapshotId: string): Promise<void> {
    return this.deleteLock.run(async () => {
      const st = this.statuses.get(snapshotId);
      if (!st?.deleteRequested || st.state === 'pending' || this.closing) return;
      const dependents = [...this.statuses.values()].some((o) => o.state === 'pending' && o.parentId === snapshotId);
      // Restored volumes stay whole whatever happens to their source: it is kept (hidden from
      // EC2) until every volume restored from it holds all its blocks, and no snapshot frozen
      // from one before then remains.
      if (dependents || this.restoring.has(snapshotId) || (await this.store.readsFromSnapshot(snapshotId))) return;
      await deleteSnapshotData(this.store, this.repo, this.collector, snapshotId, { namespace: COPY_NAMESPACE, id: snapshotId, value: null });
      this.statuses.delete(snapshotId);
      this.events.emit('deleted', snapshotId);
      // Its parent, or the source of its volume's restore, may have waited for it.
      queueMicrotask(() => this.retryDeferredDeletes());
    });
  }

  /** How long status saves and deletions waited for their locks and held them. */
  lockTimes(): Record<'statusSaves' | 'deletions', LockTimes> {
    return { statusSaves: this.saveLock.times(), deletions: this.deleteLock.times() };
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
    for (const st of this.statuses.values()) if (st.deleteRequested && st.state !== 'pending') void this.tryDelete(st.snapshotId);
  }

  // ---- helpers ----

  /** A snapshot that exists and is not being deleted. */
  private live(snapshotId: string): CopyStatus {
    const st = this.statuses.get(snapshotId);
    if (!st || st.deleteRequested) throw snapshotNotFound(snapshotId);
    return st;
  }

  private newStatus(id: string, volumeId: string, volumeSize: number, blockSize: number, parentId: string | null, startedAt: string): CopyStatus {
    return {
      snapshotId: id,
      volumeId,
      volumeSize,
      blockSize,
      state: 'pending',
      progress: 0,
      blocksTotal: 0,
      blocksDone: 0,
      bytesUploaded: 0,
      bytesDeduplicated: 0,
      parentId,
      startedAt,
    };
  }
}

/** What DescribeSnapshots shows while a copy waits out store trouble. */
function retryMessage(n: RetryNotice): string {
  return `Retrying: ${n.what} failed (attempt ${n.attempt}, ${formatSeconds(n.elapsedMs)} into a ${formatSeconds(n.budgetMs)} retry budget): ${errorText(n.error)}`;
}
