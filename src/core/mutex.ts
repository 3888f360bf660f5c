/**
 * Serializes the core's mutations. Refcounts are shared by every volume (dedup is global), so
 * each mutation reads and writes them with nothing else in between; reads never take the lock.
 * Each lock keeps how long callers waited for it and held it: what queues a call shows there.
 */
import { Histogram } from './histogram.js';

export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  readonly waited = new Histogram();
  readonly held = new Histogram();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const queued = performance.now();
    const timed = async () => {
      const start = performance.now();
      this.waited.add(start - queued);
      try {
        return await fn();
      } finally {
        this.held.add(performance.now() - start);
      }
    };
    const result = this.tail.then(timed, timed);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
