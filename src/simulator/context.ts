/** What every simulator service shares: the storage core, the copy engine, the catalog, settings. */
import type { Catalog } from '../catalog/catalog.js';
import { dryRunOperation } from '../catalog/errors.js';
import type { BlockStore } from '../core/block-store.js';
import type { Mutex } from '../core/mutex.js';
import type { SnapshotEngine } from './engine-port.js';

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
}

export interface Services {
  store: BlockStore;
  engine: SnapshotEngine;
  catalog: Catalog;
  /** Serializes catalog mutations: check-then-write sequences (limits, ClientTokens) stay atomic. */
  lock: Mutex;
  timings: Timings;
  /** Background work (volume deletions, state flips) that close() waits for. */
  background: Set<Promise<unknown>>;
}

export const GIB = 1024 ** 3;

/** Call at the point where a request would start changing state. */
export function checkDryRun(ctx: CallerContext): void {
  if (ctx.dryRun === true) throw dryRunOperation();
}

export function track(s: Services, work: Promise<unknown>): void {
  const p = work.catch(() => undefined).finally(() => s.background.delete(p));
  s.background.add(p);
}
