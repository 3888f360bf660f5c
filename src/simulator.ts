/**
 * The composition root: opens the storage core (LevelDB), the object store (object-store/
 * served-store.ts), the copy engine and the service's state, and wires them. Protocols call the resource services (`sim.services.volumes.create(ctx, …)`).
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BlockStore } from './core/block-store.js';
import { CopyEngine } from './copy/copy-engine.js';
import { retryPolicyFrom } from './copy/retry.js';
import type { ExportResolver, NbdClient } from './nbd/block-device.js';
import { ThrottleStore, wipeObjectStore } from './object-store/index.js';
import { openServedStore } from './object-store/served-store.js';
import { SimClock } from './service/clock.js';
import { SimulatorControls, type ControlledParts } from './simulator-controls.js';
import { nbdExports } from './service/instances/index.js';
import { closeServiceState, openServiceState } from './service/open-service-state.js';
import { CatalogError } from './service/service-errors.js';
import { openServices, type Services } from './service/services.js';
import type { Catalog } from './service/state/catalog.js';
import type { SimulatorOptions } from './simulator-options.js';

export type { CallerContext, DataCaller, Services } from './service/services.js';
export type { SimulatorOptions } from './simulator-options.js';
/** For the control endpoint: a fault plan from its JSON. */
export { InvalidFaultPlanError, parseFaultPlan, type FaultPlan, type FaultReport } from './object-store/fault-plan.js';
export type { GuestFlushReport, GuestView } from './service/instances/guest-io.js';

interface Parts extends ControlledParts {
  services: Services;
}

export class Simulator {
  private parts: Parts | undefined;
  /** Set while reset() rebuilds everything: requests get ServiceUnavailable meanwhile. */
  private resetting: Promise<void> | undefined;

  /** Copy rate, faults, clock and lock timings, for tests, benchmarks and the control endpoints. */
  readonly controls = new SimulatorControls(() => this.live());

  private constructor(readonly options: SimulatorOptions) {}

  /** Where the data plane holds chunked uploads until accepted: emptied at every open (a kill -9 leaves files). */
  get spoolDir(): string {
    return spoolDirOf(this.options);
  }

  static async open(options: SimulatorOptions): Promise<Simulator> {
    const sim = new Simulator(options);
    sim.parts = await openParts(options);
    return sim;
  }

  get ready(): boolean {
    return this.parts !== undefined && this.resetting === undefined;
  }

  /** The resource services; ServiceUnavailable while resetting or closed. */
  get services(): Services {
    return this.live().services;
  }

  /** The storage core, copy engine and catalog, for tests and tools (fsck, benchmarks). */
  get store(): BlockStore {
    return this.live().store;
  }

  get engine(): CopyEngine {
    return this.live().engine;
  }

  get catalog(): Catalog {
    return this.live().state.catalog;
  }

  /** What the NBD listener exports (it follows a reset); with `accountOf`, each client sees only its account's. */
  nbdResolver(accountOf?: (client: NbdClient) => string | undefined): ExportResolver {
    return nbdExports(() => this.live().state, accountOf);
  }

  /** Stops background work and closes everything, in dependency order. Idempotent. */
  async close(): Promise<void> {
    const parts = this.parts;
    this.parts = undefined;
    if (parts) await closeParts(parts);
  }

  /** Wipes all state: close, delete the data directory and every object, reopen. */
  async reset(): Promise<void> {
    if (this.resetting) return this.resetting;
    this.resetting = (async () => {
      const parts = this.parts;
      this.parts = undefined;
      if (parts) await closeParts(parts, () => wipeObjectStore(parts.objects, this.options.objectStore));
      await rm(this.options.dataDir, { recursive: true, force: true });
      this.parts = await openParts(this.options);
    })().finally(() => (this.resetting = undefined));
    return this.resetting;
  }

  private live(): Parts {
    if (!this.parts || this.resetting) throw new CatalogError('SERVICE_UNAVAILABLE', 'ebs-sim is resetting or closed; retry shortly.');
    return this.parts;
  }
}

const spoolDirOf = (options: SimulatorOptions) => join(options.dataDir, 'spool');

async function openParts(options: SimulatorOptions): Promise<Parts> {
  const store = await BlockStore.open(options.dataDir, { sync: options.sync ?? false });
  let objects: ThrottleStore | undefined;
  try {
    // After the store's open, which locks the data directory: no other server spools here.
    await rm(spoolDirOf(options), { recursive: true, force: true }).then(() => mkdir(spoolDirOf(options)));
    const timeoutMs = options.storeTimeoutSeconds === undefined ? undefined : options.storeTimeoutSeconds * 1000;
    const served = await openServedStore({ ...options, spec: options.objectStore, durable: options.sync, requestTimeoutMs: timeoutMs });
    objects = served.objects;
    const retry = retryPolicyFrom(options.storeRetryBudgetSeconds, options.storeTimeoutSeconds);
    const clock = new SimClock(options.wallClock);
    const engine = await CopyEngine.open({ store, objects, retry, now: () => clock.now(), concurrency: options.copyConcurrency });
    const state = await openServiceState(store, engine, options, clock);
    return { store, objects, faults: served.faults, engine, state, services: openServices(state) };
  } catch (err) {
    await objects?.close().catch(() => undefined);
    await store.close();
    throw err;
  }
}

/** `beforeObjectsClose` runs once no job uses the object store any more (reset wipes it there). */
async function closeParts(parts: Parts, beforeObjectsClose?: () => Promise<void>): Promise<void> {
  await closeServiceState(parts.state);
  // A throttled upload would hold up the engine's shutdown for as long as the throttle says,
  // and a hung one for ever.
  parts.objects.setRate(undefined);
  parts.faults?.store.clearFaults();
  await parts.engine.close();
  await beforeObjectsClose?.();
  await parts.objects.close();
  await parts.store.close();
}
