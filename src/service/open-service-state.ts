/**
 * Opens the service's state over an open core and copy engine: the catalog (from the core's
 * records), the guests' page caches and the timings, then finishes what a previous run left half
 * done. Closing stops its background work first.
 */
import type { BlockStore } from '../core/block-store.js';
import { Mutex } from '../core/mutex.js';
import { track, type ServiceState, type Timings } from './context.js';
import { DEFAULT_DIRTY_EXPIRE_SECONDS } from './defaults.js';
import type { SnapshotEngine } from './engine-port.js';
import { GuestDisks } from './instances/guest-disks.js';
import { resumeInstances } from './instances/instance-lifecycle.js';
import { SimClock } from './clock.js';
import { Catalog } from './state/catalog.js';
import { BlockTokens } from './direct/block-tokens.js';
import { watchTimeout, type DirectState } from './direct/direct-snapshots.js';
import { RateLimits } from './direct/rate-limits.js';
import { purgeVolume } from './volumes/volumes.js';

export interface ServiceOptions {
  /** Minimum seconds between two snapshots of one volume (SnapshotCreationPerVolumeRateExceeded); 0: off. */
  snapshotIntervalSeconds?: number;
  volumeCreateDelayMs?: number;
  tieringMs?: number;
  modificationMs?: number;
  /** How long instances stay pending, stopping, shutting-down (default 1 s). */
  instanceStateMs?: number;
  /** How long attachments stay attaching, detaching (default 500 ms). */
  attachmentMs?: number;
  /** Guest page caches write back pages dirty for this long (default 30, like Linux); 0: write-through. */
  dirtyExpireSeconds?: number;
  /** Above this many dirty bytes per attachment a guest write waits for writeback (default 64 MiB). */
  maxDirtyBytes?: number;
  /** `aws` (default): EC2's asynchronous states; `instant`: each change is done before the answer. */
  timing?: 'aws' | 'instant';
  /** The direct APIs' documented request rates (RequestThrottledException); default on. */
  directRateLimits?: boolean;
}

/** `clock` is shared with the copy engine (completion times); a new one by default. */
export async function openServiceState(store: BlockStore, engine: SnapshotEngine, options: ServiceOptions, clock = new SimClock()): Promise<ServiceState> {
  const catalog = await Catalog.load(store.records);
  const instant = options.timing === 'instant';
  const timings: Timings = {
    snapshotIntervalMs: (options.snapshotIntervalSeconds ?? 0) * 1000,
    volumeCreateDelayMs: instant ? 0 : (options.volumeCreateDelayMs ?? 0),
    tieringMs: instant ? 0 : (options.tieringMs ?? 3000),
    modificationMs: instant ? 0 : (options.modificationMs ?? 2000),
    instanceStateMs: instant ? 0 : (options.instanceStateMs ?? 1000),
    attachmentMs: instant ? 0 : (options.attachmentMs ?? 500),
    instant,
  };
  const guests = new GuestDisks(store, {
    clock,
    dirtyExpireMs: (options.dirtyExpireSeconds ?? DEFAULT_DIRTY_EXPIRE_SECONDS) * 1000,
    ...(options.maxDirtyBytes !== undefined ? { maxDirtyBytes: options.maxDirtyBytes } : {}),
  });
  const direct: DirectState = {
    tokens: await BlockTokens.open(store.records),
    limits: new RateLimits(options.directRateLimits ?? true, () => clock.now()),
    puts: new Set(),
    activity: new Map(),
  };
  const s: ServiceState = { store, engine, catalog, lock: new Mutex({ timed: true }), timings, background: new Set(), guests, clock, direct };
  // What a previous run left half done: deletions to finish (in the background), volumes still
  // `creating`, terminated instances whose volumes were not released yet.
  for (const v of [...catalog.allVolumes()]) {
    if (v.state === 'deleting') track(s, purgeVolume(s, v.id));
    else if (v.state === 'creating') await catalog.saveVolume({ ...v, state: 'available' });
  }
  await resumeInstances(s);
  // Snapshots still open for blocks: their Timeout counts again from now.
  for (const m of catalog.allSnapshots()) {
    const st = engine.statuses.status(m.id);
    if (m.direct && st?.state === 'pending' && !st.direct?.sealing) watchTimeout(s, m, clock.now());
  }
  return s;
}

/** A clean host shutdown: the guests' page caches are written back (kill -9 loses them), background work ends. */
export async function closeServiceState(s: ServiceState): Promise<void> {
  await s.guests.closeAll();
  s.clock.close();
  await Promise.all([...s.background]);
}
