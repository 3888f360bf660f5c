/**
 * What tests, benchmarks and the control endpoints turn on a running simulator: the copy rate,
 * the object store's faults, the simulated clock and the lock timings. Each call reaches the
 * parts open now, so the controls follow a reset.
 */
import type { HistogramSummary } from './core/histogram.js';
import type { LockTimes } from './core/mutex.js';
import type { CopyEngine } from './copy/copy-engine.js';
import type { BlockStore } from './core/block-store.js';
import type { FaultControls, FaultPlan, FaultReport } from './object-store/fault-plan.js';
import type { ThrottleStore } from './object-store/index.js';
import type { ServiceState } from './service/context.js';

/** The parts the controls reach (the composition root's). */
export interface ControlledParts {
  store: BlockStore;
  objects: ThrottleStore;
  faults: FaultControls | undefined;
  engine: CopyEngine;
  state: ServiceState;
}

export class SimulatorControls {
  constructor(private readonly parts: () => ControlledParts) {}

  /** Changes the copy engine's upload bandwidth (bytes/s; undefined: unlimited), transfers in flight included. */
  setCopyRate(bytesPerSecond: number | undefined): void {
    this.parts().objects.setRate(bytesPerSecond);
  }

  /** Replaces the object store's faults (undefined clears them). Needs `faultInjection`; a reset clears them too. */
  setObjectStoreFaults(plan: FaultPlan | undefined): FaultReport {
    return this.faults().set(plan);
  }

  objectStoreFaults(): FaultReport {
    return this.faults().report();
  }

  /** Simulated time (wall time plus every advance since the last open or reset). */
  clockNow(): Date {
    return this.parts().state.clock.date();
  }

  /**
   * Moves simulated time forward: dirty pages expire and are written back, transitional states
   * settle, tier restores expire, the snapshot interval passes. Resolves once what the advance
   * started (writebacks, scheduled work that fell due) has begun and the writebacks are done.
   */
  async advanceClock(seconds: number): Promise<Date> {
    const { clock } = this.parts().state;
    await clock.advance(seconds * 1000);
    return clock.date();
  }

  /**
   * How long calls waited for each lock and held it, since the last open: the service's lock
   * (catalog mutations), the core's (LevelDB mutations), the copy engine's two.
   */
  lockTimes(): Record<string, LockTimes> {
    const { state, store, engine } = this.parts();
    return { service: state.lock.times(), core: store.lockTimes(), ...engine.lockTimes() };
  }

  /** Per-block copy times of the latest snapshot copies, by snapshot id. */
  copyBlockTimes(): Record<string, HistogramSummary> {
    return this.parts().engine.copyBlockTimes();
  }

  private faults(): FaultControls {
    const faults = this.parts().faults;
    if (!faults) throw new Error('fault injection is off: start the simulator with faultInjection (--allow-control)');
    return faults;
  }
}
