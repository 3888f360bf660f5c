/**
 * The object store as the simulator runs it: the one `--object-store` names, under a fault store
 * when test controls may inject faults, under a throttle whose rate (`--copy-rate`) can change
 * while it runs. Unthrottled, the throttle passes the store's fast paths on.
 */
import { FaultControls } from './fault-plan.js';
import { FaultStore } from './fault-store.js';
import { openObjectStore, parseObjectStoreSpec } from './open-object-store.js';
import { ThrottleStore } from './throttle-store.js';

export interface ServedStoreOptions {
  /** The `--object-store` spec. */
  spec: string;
  /** Upload bandwidth in bytes/s; undefined: unlimited. */
  copyRate?: number;
  /** --sync: a completed snapshot's blocks and manifest survive a machine crash, so an fs store fsyncs. */
  durable?: boolean;
  /** An S3 request's own timeout follows the copy engine's attempt timeout, so a timed-out attempt frees its socket. */
  requestTimeoutMs?: number;
  faultInjection?: boolean;
}

export async function openServedStore(options: ServedStoreOptions): Promise<{ objects: ThrottleStore; faults: FaultControls | undefined }> {
  const spec = parseObjectStoreSpec(options.spec);
  if (options.durable && spec.kind === 'fs') spec.options.durable = true;
  if (spec.kind === 'fs') spec.options.startThreads = true; // the first copy does not wait for them to boot
  if (options.requestTimeoutMs !== undefined && spec.kind === 's3') spec.options.requestTimeoutMs = options.requestTimeoutMs;
  const opened = await openObjectStore(spec);
  const faultStore = options.faultInjection ? new FaultStore(opened) : undefined;
  return {
    objects: new ThrottleStore(faultStore ?? opened, { bytesPerSecond: options.copyRate }),
    faults: faultStore ? new FaultControls(faultStore) : undefined,
  };
}
