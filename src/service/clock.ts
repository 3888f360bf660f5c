/**
 * The service's one clock: wall time plus an offset that `advance` moves forward (the test
 * control `POST /_ebs-sim/clock`). Everything that derives a state from time (instances,
 * attachments, tiers, modifications, the snapshot interval, timestamps in answers) reads `now()`;
 * what waits (scheduled work, page-cache writeback) hears each advance and catches up at once.
 */
export class SimClock {
  private offsetMs = 0;
  private readonly listeners = new Set<() => unknown>();
  private readonly timers = new Set<NodeJS.Timeout>();

  /** `wall` is the time source under the offset: Date.now, or a fixed one for a test that counts per-second windows. */
  constructor(private readonly wall: () => number = Date.now) {}

  now(): number {
    return this.wall() + this.offsetMs;
  }

  date(): Date {
    return new Date(this.now());
  }

  /**
   * Moves simulated time forward by `ms` (>= 0) and tells whoever waits; resolves once what they
   * started in answer (a page cache's writeback of what expired) is done.
   */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`the clock only moves forward, by a number of ms >= 0: ${ms}`);
    this.offsetMs += ms;
    await Promise.all([...this.listeners].map((listener) => listener()));
  }

  /** Forgets every listener and cancels what at() scheduled: the service closed, nothing may wake up. */
  close(): void {
    this.listeners.clear();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** Calls `listener` after each advance (an advance waits for a promise it returns); returns the function that stops it. */
  onAdvance(listener: () => unknown): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /**
   * Runs `fn` once simulated time reaches `due`: when the wall clock gets there, or at once when
   * an advance passes it. close() cancels it.
   */
  at(due: number, fn: () => void): void {
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      if (timer) this.timers.delete(timer);
      clearTimeout(timer);
      const left = due - this.now();
      if (left <= 0) {
        stop();
        fn();
        return;
      }
      timer = setTimeout(arm, left);
      timer.unref();
      this.timers.add(timer);
    };
    const stop = this.onAdvance(arm);
    arm();
  }
}
