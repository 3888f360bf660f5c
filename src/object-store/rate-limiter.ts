/**
 * One byte budget shared by all callers: the time a link of `bytesPerSecond` needs to carry the
 * bytes, whoever sends them (a token bucket that may go into debt, in its GCRA form). N
 * concurrent transfers therefore share the rate instead of each getting it.
 *
 * A transfer is charged in slices of about 50 ms at the current rate, so setRate() takes effect
 * within a slice, even for a 512 KiB block at a few KiB/s. Rate 0 pauses every transfer until
 * the rate is raised; undefined means unlimited.
 */

const SLICE_SECONDS = 0.05;
/** Timers cannot sleep for microseconds: let small debts accumulate, then sleep them off at once. */
const MIN_SLEEP_MS = 4;

export class RateLimiter {
  #bytesPerSecond: number | undefined;
  /** When the shared link finishes the bytes already charged (performance.now() clock). */
  #busyUntil = 0;
  readonly #sleepers = new Set<() => void>();

  constructor(bytesPerSecond?: number) {
    this.setRate(bytesPerSecond);
  }

  get bytesPerSecond(): number | undefined {
    return this.#bytesPerSecond;
  }

  setRate(bytesPerSecond: number | undefined): void {
    if (bytesPerSecond !== undefined && !(bytesPerSecond >= 0 && Number.isFinite(bytesPerSecond))) {
      throw new RangeError(`rate must be a finite number >= 0 bytes/s, or undefined: ${bytesPerSecond}`);
    }
    this.#bytesPerSecond = bytesPerSecond;
    // Backlog charged at the old rate no longer applies; waiting transfers recompute now.
    this.#busyUntil = Math.min(this.#busyUntil, performance.now());
    for (const wake of [...this.#sleepers]) wake();
  }

  /** Resolves once `bytes` have passed through the shared link. */
  async consume(bytes: number): Promise<void> {
    let left = bytes;
    while (left > 0) {
      const rate = this.#bytesPerSecond;
      if (rate === undefined) return;
      if (rate === 0) {
        await this.#sleep(Infinity);
        continue;
      }
      const slice = Math.min(left, Math.max(1, Math.ceil(rate * SLICE_SECONDS)));
      const now = performance.now();
      this.#busyUntil = Math.max(now, this.#busyUntil) + (slice / rate) * 1000;
      left -= slice;
      const wait = this.#busyUntil - now;
      if (wait >= MIN_SLEEP_MS) await this.#sleep(wait);
    }
  }

  /** Sleeps `ms`, or until setRate() wakes every sleeper. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms === Infinity ? undefined : setTimeout(wake, ms);
      const sleepers = this.#sleepers;
      function wake(): void {
        clearTimeout(timer);
        sleepers.delete(wake);
        resolve();
      }
      sleepers.add(wake);
    });
  }
}
