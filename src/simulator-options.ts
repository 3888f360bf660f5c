/** What `ebs-sim serve`'s flags (and tests) choose when they open a Simulator. */
import type { ServiceOptions } from './service/open-service-state.js';

export interface SimulatorOptions extends ServiceOptions {
  /** Data directory of the storage core and the catalog (LevelDB and chunk packs). */
  dataDir: string;
  /** `fs:<dir>`, `memory:` or `s3://bucket/prefix?endpoint=…` (see object-store/open-object-store.ts). */
  objectStore: string;
  /** Upload bandwidth of the copy engine in bytes/s; undefined: unlimited (the fast paths pass through). */
  copyRate?: number;
  /** fsync every acknowledged mutation. */
  sync?: boolean;
  /** Blocks in flight per snapshot copy. */
  copyConcurrency?: number;
  /** How long a failing object-store call is retried before its copy fails (copy/retry.ts). */
  storeRetryBudgetSeconds?: number;
  /** One object-store call that has not answered in this long is retried. */
  storeTimeoutSeconds?: number;
  /** Puts the object store behind a fault store that setObjectStoreFaults drives (--allow-control). */
  faultInjection?: boolean;
  /** The wall clock under the simulated one (tests only: a fixed one makes rate windows deterministic). */
  wallClock?: () => number;
}
