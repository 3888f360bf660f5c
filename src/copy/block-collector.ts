/**
 * Object-store garbage collection, amortised as restic's and kopia's prune are. A deletion
 * queues its snapshot's blocks as candidates (persisted records, so a crash loses none) and
 * drops its manifest: it costs what it frees. A sweep later lists the manifests once for every
 * candidate queued since the last sweep and deletes those that no manifest references and no
 * running copy pinned. A sweep waits for a burst of deletions to end (up to a limit), and sweeps
 * are spaced so that they take at most a tenth of the time.
 *
 * Why not a reference index: the store is the source of truth shared by simulators on one bucket.
 * A sweep sees every simulator's manifests there, as the per-deletion listing did; an index kept
 * here would only know this simulator's. (Pins are still not shared: see block-repository.ts.)
 */
import type { RecordStore } from '../core/record-store.js';
import type { BlockRepository } from './block-repository.js';

export const GC_NAMESPACE = 'gc';

export interface CollectorOptions {
  /** Shortest wait between a deletion and the sweep that collects its blocks. */
  minIntervalMs?: number;
  /** Largest share of wall time spent sweeping: the wait after a sweep grows with its length. */
  dutyCycle?: number;
  /** A burst of deletions pushes its sweep back (to run once it is over), but no longer than this. */
  maxDelayMs?: number;
}

export class BlockCollector {
  /** Snapshots whose candidates are queued and whose manifest is going: sweeps ignore it. */
  private readonly dropping = new Set<string>();
  /** Candidates queued while a sweep runs: that sweep must leave their records in place. */
  private queuedDuringSweep: Set<string> | undefined;
  private sweeping: Promise<number> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** When the first deletion the next sweep is for was queued. */
  private waitingSince: number | undefined;
  private lastSweepEnd = 0;
  private lastSweepMs = 0;
  private closed = false;
  private readonly minIntervalMs: number;
  private readonly dutyCycle: number;
  private readonly maxDelayMs: number;

  constructor(
    private readonly records: RecordStore,
    private readonly repo: BlockRepository,
    options: CollectorOptions = {},
  ) {
    this.minIntervalMs = options.minIntervalMs ?? 1000;
    this.dutyCycle = options.dutyCycle ?? 0.1;
    this.maxDelayMs = options.maxDelayMs ?? 30_000;
  }

  /** Schedules a sweep if an earlier run left candidates queued. */
  async resume(): Promise<void> {
    for await (const _ of this.records.list(GC_NAMESPACE)) return this.schedule();
  }

  /**
   * Queues a snapshot's blocks, before its manifest is deleted: from here on, sweeps treat the
   * manifest as gone. Call `dropped` once it is.
   */
  async queue(snapshotId: string, candidates: Iterable<string>): Promise<void> {
    this.dropping.add(snapshotId);
    const puts = [];
    for (const sha of candidates) {
      this.queuedDuringSweep?.add(sha);
      puts.push({ namespace: GC_NAMESPACE, id: sha, value: 1 });
    }
    if (puts.length > 0) await this.records.write(puts);
  }

  dropped(snapshotId: string): void {
    this.dropping.delete(snapshotId);
    this.schedule();
  }

  /** Runs a sweep now (after the one running, if any); resolves with the blocks it deleted. */
  async collectNow(): Promise<number> {
    while (this.sweeping) await this.sweeping;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.waitingSince = undefined;
    return this.sweep();
  }

  /** Stops scheduling; waits for a running sweep, which stops between two deletes. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.sweeping?.catch(() => undefined);
  }

  private schedule(): void {
    if (this.closed) return;
    const now = performance.now();
    this.waitingSince ??= now;
    clearTimeout(this.timer);
    const spacing = (this.lastSweepMs * (1 - this.dutyCycle)) / this.dutyCycle;
    // The minimum after the latest deletion (a burst shares one sweep, run once it is over),
    // but no later than the longest delay after the first; and the spacing after the last sweep.
    const wait = Math.max(Math.min(this.minIntervalMs, this.waitingSince + this.maxDelayMs - now), this.lastSweepEnd + spacing - now, 0);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.waitingSince = undefined;
      if (this.sweeping) return this.schedule();
      // A failed sweep (the store is down past the retry budget) leaves its queue for the next.
      this.sweep().catch(() => this.schedule());
    }, wait);
    this.timer.unref();
  }

  private sweep(): Promise<number> {
    const run = (async () => {
      const started = performance.now();
      const candidates = new Set<string>();
      for await (const [sha] of this.records.list(GC_NAMESPACE)) candidates.add(sha);
      if (candidates.size === 0) return 0;
      const late = (this.queuedDuringSweep = new Set());
      try {
        const deleted = await this.repo.collect(candidates, {
          ignoring: (id) => this.dropping.has(id),
          stop: () => this.closed,
        });
        if (this.closed) return deleted; // stopped part-way: the next open sweeps them all again
        // Decided: deleted, or kept by a manifest whose own deletion will queue them again.
        const done = [...candidates].filter((sha) => !late.has(sha));
        await this.records.write(done.map((sha) => ({ namespace: GC_NAMESPACE, id: sha, value: null })));
        if (late.size > 0) this.schedule();
        return deleted;
      } finally {
        this.queuedDuringSweep = undefined;
        this.lastSweepEnd = performance.now();
        this.lastSweepMs = this.lastSweepEnd - started;
      }
    })();
    this.sweeping = run;
    return run.finally(() => {
      if (this.sweeping === run) this.sweeping = undefined;
    });
  }
}
