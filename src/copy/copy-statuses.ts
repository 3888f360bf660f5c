/**
 * The copy statuses: one per snapshot, persisted (core records, namespace `copy`) and kept in
 * memory, with the waiters of copies that have not settled and the store trouble a pending copy
 * rides out. Saves are group-committed and progress never goes back.
 */
import { EventEmitter } from 'node:events';
import { snapshotNotFound } from '../core/errors.js';
import { Mutex, type LockTimes } from '../core/mutex.js';
import type { RecordPut, RecordStore } from '../core/record-store.js';
import type { CopyStatus } from './copy-status.js';

export const COPY_NAMESPACE = 'copy';

/** A status change waiting for the next group commit (saveWith). */
interface QueuedSave {
  id: string;
  change: (prev: CopyStatus) => CopyStatus | undefined;
  records: RecordPut[];
  resolve(st: CopyStatus | undefined): void;
  reject(err: unknown): void;
}

export class CopyStatuses {
  private readonly events = new EventEmitter();
  private readonly statuses = new Map<string, CopyStatus>();
  private readonly waiters = new Map<string, Array<(s: CopyStatus) => void>>();
  /** Pending copies riding out store trouble: the last failed attempt, shown as their message. */
  private readonly troubles = new Map<string, string>();
  private readonly saveLock = new Mutex({ timed: true });
  private queuedSaves: QueuedSave[] = [];

  /** `onSettled` hears each status that leaves `pending`, after its waiters. */
  constructor(private readonly records: RecordStore, private readonly onSettled: (st: CopyStatus) => void) {}

  /** Loads the persisted statuses (at open). */
  async load(): Promise<void> {
    for await (const [id, st] of this.records.list<CopyStatus>(COPY_NAMESPACE)) this.statuses.set(id, st);
  }

  /** Takes a status its caller has just written (in a batch of its own, such as a freeze's). */
  adopt(st: CopyStatus): void {
    this.statuses.set(st.snapshotId, st);
  }

  /** Forgets a deleted snapshot's status (its record went in the deletion's batch). */
  forget(snapshotId: string): void {
    this.statuses.delete(snapshotId);
  }

  has(snapshotId: string): boolean {
    return this.statuses.has(snapshotId);
  }

  /** The stored status itself, not a copy: for the copy layer's own checks. */
  current(snapshotId: string): CopyStatus | undefined {
    return this.statuses.get(snapshotId);
  }

  /** The stored statuses themselves: for the copy layer's own scans. */
  all(): IterableIterator<CopyStatus> {
    return this.statuses.values();
  }

  /** A copy of the status, with the trouble its pending copy is riding out, if any. */
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

  /** A snapshot that exists and is not being deleted. */
  live(snapshotId: string): CopyStatus {
    const st = this.statuses.get(snapshotId);
    if (!st || st.deleteRequested) throw snapshotNotFound(snapshotId);
    return st;
  }

  /** Resolves with the status once the copy is completed or in error. */
  settled(snapshotId: string): Promise<CopyStatus> {
    const st = this.statuses.get(snapshotId);
    if (!st) return Promise.reject(snapshotNotFound(snapshotId));
    if (st.state !== 'pending') return Promise.resolve({ ...st });
    return new Promise((resolve) => this.waiters.set(snapshotId, [...(this.waiters.get(snapshotId) ?? []), resolve]));
  }

  on(event: 'status', listener: (s: CopyStatus) => void): void {
    this.events.on(event, listener);
  }

  /** Publishes a change of a pending copy's trouble (not persisted: a restart finds it again). */
  setTrouble(id: string, message: string | undefined): void {
    if (this.troubles.get(id) === message) return;
    if (message === undefined) this.troubles.delete(id);
    else this.troubles.set(id, message);
    const st = this.status(id);
    if (st?.state === 'pending') this.events.emit('status', st);
  }

  /** Drops a finished job's trouble without publishing (its final status says what happened). */
  clearTrouble(id: string): void {
    this.troubles.delete(id);
  }

  /** Persists a status with monotonic progress, then publishes it. */
  async save(next: CopyStatus, records: RecordPut[] = []): Promise<void> {
    await this.saveWith(next.snapshotId, () => next, records);
  }

  /**
   * save() of what `change` makes of the current status (undefined: no change, and its records are
   * not written). Group commit: the saves that arrive while one batch is being written go together
   * in the next, so 64 concurrent block puts cost one LevelDB write, not 64 in a row (each waited
   * ~2.5 ms for the core's lock, which capped direct uploads near 90 MB/s).
   */
  saveWith(id: string, change: (prev: CopyStatus) => CopyStatus | undefined, records: RecordPut[] = []): Promise<CopyStatus | undefined> {
    return new Promise((resolve, reject) => {
      this.queuedSaves.push({ id, change, records, resolve, reject });
      if (this.queuedSaves.length === 1) void this.saveLock.run(() => this.writeQueuedSaves());
    });
  }

  /** How long status saves waited for their lock and held it. */
  lockTimes(): LockTimes {
    return this.saveLock.times();
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
        st = nextStatus(working.get(save.id) ?? this.statuses.get(save.id), save.change);
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
        await this.records.write([...writes, ...[...working.values()].map((st) => ({ namespace: COPY_NAMESPACE, id: st.snapshotId, value: st }))]);
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

  private settle(st: CopyStatus): void {
    const waiting = this.waiters.get(st.snapshotId) ?? [];
    this.waiters.delete(st.snapshotId);
    for (const resolve of waiting) resolve({ ...st });
    this.onSettled(st);
  }
}

/** What a save makes of `prev`, with monotonic progress; undefined: nothing to write. */
function nextStatus(prev: CopyStatus | undefined, change: (prev: CopyStatus) => CopyStatus | undefined): CopyStatus | undefined {
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

/** A fresh pending status (nothing uploaded yet). */
export function newStatus(id: string, volumeId: string, volumeSize: number, blockSize: number, parentId: string | null, startedAt: string): CopyStatus {
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
