/**
 * A soft memory limit for the server process, as Go's GOMEMLIMIT is: below it, V8 sizes its heap
 * as it likes; above it, the heap may grow by at most half between two full collections.
 *
 * Why: between two full collections V8 lets its old generation grow up to 4x what the last one
 * kept. In `bench --preset scale` (1,000 snapshots of a chain after 8 GiB written) the heap grew
 * from ~30 MB live to 113 MB before a collection, and the server peaked at 321-343 MB (target
 * < 300). Capped at 2x from the start (--heap-growing-percent=100) it peaked at 272 MB, but the
 * 50-client soak then ran 17% fewer cycles: more collections, on a machine whose 2 cores the
 * clients share. So the cap applies only while the resident size is over the limit: the scale
 * preset then peaked at 264 MB, and the soak's 10-minute run at 231 MiB instead of 254, with the
 * same cycles (6,308 against 6,289).
 *
 * The flag is read at each collection, so setting it at run time takes effect at the next one
 * (measured: a process that set it after start kept the same heap as one started with it). That
 * next one may be far off: the limit it replaces was set by the last, up to 4x, and a run that
 * crossed the limit grew on to 319 MB before it came. So crossing the limit also runs one full
 * collection at once (~30 ms on a 100 MB heap), as Go's runtime does when it nears its limit.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Resident bytes past which the heap's growth is capped (the scale target is 300 MB). */
export const SOFT_LIMIT_BYTES = 240e6;
/** Resident bytes under which it is let go again: a margin, so that it does not flap. */
export const RELEASE_BYTES = 220e6;
/** Heap growth between full collections over the limit: 1.5x (V8's own choice goes up to 4x). */
export const CAPPED_GROWTH_PERCENT = 50;

export interface MemoryBudgetDeps {
  rss(): number;
  setFlags(flags: string): void;
  /** A full garbage collection, now. */
  collect(): void;
}

/** V8's gc(), which only a context made after --expose-gc is set has. */
export function fullCollection(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

export class MemoryBudget {
  private capped = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: MemoryBudgetDeps = { rss: () => process.memoryUsage.rss(), setFlags: setFlagsFromString, collect: fullCollection }) {}

  /** Whether the heap's growth is capped now. */
  get isCapped(): boolean {
    return this.capped;
  }

  /** Compares the resident size with the limit, and caps or frees the heap's growth. */
  check(): void {
    const rss = this.deps.rss();
    if (!this.capped && rss > SOFT_LIMIT_BYTES) {
      this.capped = true;
      this.deps.setFlags(`--heap-growing-percent=${CAPPED_GROWTH_PERCENT}`);
      this.deps.collect(); // the new limit follows from what it keeps
    } else if (this.capped && rss < RELEASE_BYTES) {
      this.capped = false;
      this.deps.setFlags('--heap-growing-percent=0'); // 0: V8's own factor
    }
  }

  /** Checks every `everyMs` until stopped; never keeps the process alive. */
  start(everyMs = 500): this {
    this.timer ??= setInterval(() => this.check(), everyMs).unref();
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
