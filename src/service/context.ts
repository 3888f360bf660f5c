/** What every simulator service shares: the storage core, the copy engine, the catalog, settings. */
import type { Catalog } from './state/catalog.js';
import { dryRunOperation } from './service-errors.js';
import type { BlockStore } from '../core/block-store.js';
import type { Mutex } from '../core/mutex.js';
import type { SnapshotEngine } from './engine-port.js';
import type { SimClock } from './clock.js';
import type { GuestDisks } from './instances/guest-disks.js';
import type { DirectState } from './direct/direct-snapshots.js';

/** Who is calling, where, and whether it is a DryRun. */
export interface CallerContext {
  accountId: string;
  region: string;
  /** Validate everything, change nothing, then fail with DryRunOperation. */
  dryRun?: boolean;
}

export interface Timings {
  /** Minimum time between two snapshots of one volume; 0 is off. */
  snapshotIntervalMs: number;
  /** How long a new volume shows `creating`; 0: it is `available` as soon as CreateVolume returns. */
  volumeCreateDelayMs: number;
  /** How long an archive or restore between storage tiers takes. */
  tieringMs: number;
  /** How long a volume modification spends in `modifying` + `optimizing`. */
  modificationMs: number;
  /** How long an instance stays pending, stopping or shutting-down. */
  instanceStateMs: number;
  /** How long an attachment stays attaching or detaching. */
  attachmentMs: number;
  /**
   * `--timing instant`: every change EC2 makes asynchronously is finished before the answer,
   * snapshot copies included (the bytes really are copied; the call waits for it).
   */
  instant: boolean;
}

export interface ServiceState {
  store: BlockStore;
  engine: SnapshotEngine;
  catalog: Catalog;
  /** Serializes catalog mutations: check-then-write sequences (limits, ClientTokens) stay atomic. */
  lock: Mutex;
  timings: Timings;
  /** Background work (volume deletions, state flips) that close() waits for. */
  background: Set<Promise<unknown>>;
  /** The simulated page caches of attached volumes. */
  guests: GuestDisks;
  /**
   * Simulated time: wall time, moved forward by the test control's advances. Work due later
   * (see schedule()) waits on it; close() cancels that, and the next open resumes it from the records.
   */
  clock: SimClock;
  /** The direct APIs' tokens, rate limits and open snapshots. */
  direct: DirectState;
}

export const GIB = 1024 ** 3;

/** Call at the point where a request would start changing state. */
export function checkDryRun(ctx: CallerContext): void {
  if (ctx.dryRun === true) throw dryRunOperation();
}

export function track(s: ServiceState, work: Promise<unknown>): void {
  const p = work.catch(() => undefined).finally(() => s.background.delete(p));
  s.background.add(p);
}

/** Runs `work` in `delayMs` of simulated time as background work, unless the simulator closes first. */
export function schedule(s: ServiceState, delayMs: number, work: () => Promise<unknown>): void {
  s.clock.at(s.clock.now() + Math.max(0, delayMs), () => track(s, work()));
}
