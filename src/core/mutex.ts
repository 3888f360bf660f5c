/**
 * Serializes the core's mutations. Refcounts are shared by every volume (dedup is global), so
 * each mutation reads and writes them with nothing else in between; reads never take the lock.
 * A lock made `timed` keeps how long callers waited for it and held it: what queues a call
 * shows there (GET /_ebs-sim/stats). Untimed locks pay nothing for it.
 */
import { Histogram, type HistogramSummary } from './histogram.js';

export interface LockTimes {
  waited: HistogramSummary;
  held: HistogramSummary;
}

export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly waited: Histogram | undefined;
  private readonly held: Histogram | undefined;

  constructor(options: { timed?: boolean } = {}) {
    if (options.timed) {
      this.waited = new Histogram();
      this.held = new Histogram();
    }
  }

  run<T>(fn: () => Promise<T>): Promise<T> {
    const { waited, held } = this;
    let job = fn;
    if (waited && held) {
      const queued = performance.now();
      job = async () => {
        const start = performance.now();
        waited.add(start - queued);
        try {
          return await fn();
        } finally {
          held.add(performance.now() - start);
        }
      };
    }
    const result = this.tail.then(job, job);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Wait and hold times since the lock was made (empty for an untimed lock). */
  times(): LockTimes {
    const none = new Histogram();
    return { waited: (this.waited ?? none).summary(), held: (this.held ?? none).summary() };
  }
}
