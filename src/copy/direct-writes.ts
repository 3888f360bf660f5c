/**
 * The sessions of snapshots written through the EBS direct APIs: started with no volume, open
 * for puts until CompleteSnapshot, then sealed in the background (direct-upload.ts does the
 * storing and the sealing). A seal waits for the puts still in flight.
 */
import { CoreError } from '../core/errors.js';
import type { RecordPut, RecordStore } from '../core/record-store.js';
import type { BlockRepository } from './block-repository.js';
import type { CopyStatus } from './copy-status.js';
import { COPY_NAMESPACE, newStatus, type CopyStatuses } from './copy-statuses.js';
import { putDirectBlock, repinDirectBlocks, sealDirectSnapshot, unpinStored, type DirectSeal, type DirectUploadDeps } from './direct-upload.js';
import type { Manifest } from './manifest.js';
import { errorText } from './retry.js';
import { doneNamespace } from './snapshot-copy-job.js';

export interface DirectWritesOptions {
  repo: BlockRepository;
  records: RecordStore;
  statuses: CopyStatuses;
  now(): number;
  /** Marks a snapshot failed, with its reason. */
  fail(snapshotId: string, message: string): Promise<void>;
  /** The parent's manifest once its copy settled (undefined if it failed); stops waiting on abort. */
  manifestOnceSettled(snapshotId: string, signal: AbortSignal): Promise<Manifest | undefined>;
}

export class DirectWrites {
  /** Puts in flight per direct snapshot: a seal waits for them. */
  private readonly puts = new Map<string, Set<Promise<unknown>>>();
  private readonly seals = new Map<string, { abort: AbortController; done: Promise<void> }>();

  constructor(private readonly opts: DirectWritesOptions) {}

  /** Pins again what pending direct snapshots were put, and restarts the seals a stop cut short (at open). */
  async resume(): Promise<void> {
    for (const st of [...this.opts.statuses.all()]) {
      if (st.state !== 'pending' || !st.direct) continue;
      await repinDirectBlocks(this.deps(), st);
      if (st.direct.sealing) this.startSeal(st, st.direct.sealing);
    }
  }

  /** A pending snapshot with no volume, written block by block (`records` ride in its batch). */
  async start(input: { snapshotId: string; volumeSize: number; blockSize: number; parentId: string | null; volumeId: string; records?: RecordPut[] }): Promise<CopyStatus> {
    const st: CopyStatus = {
      ...newStatus(input.snapshotId, input.volumeId, input.volumeSize, input.blockSize, input.parentId, new Date(this.opts.now()).toISOString()),
      direct: { progress: 0 },
    };
    await this.opts.records.write([...(input.records ?? []), { namespace: COPY_NAMESPACE, id: st.snapshotId, value: st }]);
    this.opts.statuses.adopt(st);
    return { ...st };
  }

  /**
   * Stores block `index` of a direct snapshot still open for writes; `sha256` (hex) is the
   * caller's checked digest of `content`. One put of an index at a time.
   */
  async put(snapshotId: string, put: { index: number; content: Buffer; sha256: string; progress?: number }): Promise<{ deduplicated: boolean }> {
    const st = this.writable(snapshotId);
    const inFlight = this.puts.get(snapshotId) ?? new Set<Promise<unknown>>();
    this.puts.set(snapshotId, inFlight);
    const p = putDirectBlock(this.deps(), st, put);
    const tracked = p.catch(() => undefined).finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    return p;
  }

  /** CompleteSnapshot: no more puts; the seal runs in the background (the snapshot stays pending until it ends). */
  async complete(snapshotId: string, seal: DirectSeal): Promise<void> {
    const st = this.writable(snapshotId);
    const sealing: CopyStatus = { ...st, direct: { ...st.direct!, sealing: seal } };
    this.opts.statuses.adopt(sealing); // puts that arrive from now on are refused
    await this.opts.statuses.save(sealing);
    this.startSeal(sealing, seal);
  }

  /** Fails a direct snapshot still open for writes (its Timeout passed); false if it was not open. */
  async expire(snapshotId: string, message: string): Promise<boolean> {
    const st = this.opts.statuses.current(snapshotId);
    if (st?.state !== 'pending' || !st.direct || st.direct.sealing) return false;
    await this.opts.fail(snapshotId, message);
    await this.release(st);
    return true;
  }

  /** True for a direct snapshot still open for puts (DeleteSnapshot ends it at once). */
  isOpen(st: CopyStatus): boolean {
    return st.direct !== undefined && st.state === 'pending' && !st.direct.sealing;
  }

  /** Drops the pins of a direct snapshot that will never be sealed. */
  async release(st: CopyStatus): Promise<void> {
    await Promise.all([...(this.puts.get(st.snapshotId) ?? [])]);
    this.puts.delete(st.snapshotId);
    const shas: string[] = [];
    for await (const [, sha] of this.opts.records.list<string>(doneNamespace(st.snapshotId))) if (sha) shas.push(sha);
    unpinStored(this.opts.repo, shas, st.blockSize);
  }

  /** Stops the seals (they restart at the next open); resolves once each has stopped. */
  stop(): Promise<void>[] {
    for (const seal of this.seals.values()) seal.abort.abort('close');
    return [...this.seals.values()].map((s) => s.done);
  }

  private writable(snapshotId: string): CopyStatus {
    const st = this.opts.statuses.live(snapshotId);
    if (!this.isOpen(st)) {
      throw new CoreError('SNAPSHOT_WRONG_STATE', `Snapshot ${snapshotId} does not accept blocks: ${st.direct ? (st.state === 'pending' ? 'it is being completed' : `it is ${st.state}`) : 'it was not started with StartSnapshot'}.`);
    }
    return st;
  }

  private startSeal(st: CopyStatus, seal: DirectSeal): void {
    const abort = new AbortController();
    const id = st.snapshotId;
    const done = Promise.all([...(this.puts.get(id) ?? [])])
      .then(() => sealDirectSnapshot(this.deps(abort.signal), st, seal))
      .catch((err: unknown) => (abort.signal.aborted ? undefined : this.opts.fail(id, errorText(err))))
      .finally(() => {
        this.seals.delete(id);
        this.puts.delete(id);
      });
    this.seals.set(id, { abort, done });
  }

  private deps(signal?: AbortSignal): DirectUploadDeps {
    const { repo, records, now, statuses } = this.opts;
    return {
      repo,
      records,
      now,
      update: (id, change, puts) => statuses.saveWith(id, change, puts),
      parentManifest: (p) => this.opts.manifestOnceSettled(p, signal ?? new AbortController().signal),
    };
  }
}
