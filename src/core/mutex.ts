/**
 * Serializes the core's mutations. Refcounts are shared by every volume (dedup is global), so
 * each mutation reads and writes them with nothing else in between; reads never take the lock.
 */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
