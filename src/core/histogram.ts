/**
 * Durations in a fixed set of log-spaced buckets (each 25% wider than the last, from 1 µs): a
 * long-running server can keep one per lock, and read quantiles within 25%, in constant memory.
 */
const BASE_MS = 0.001;
const GROWTH = 1.25;
const BUCKETS = 110; // up to ~4.6 hours

export interface HistogramSummary {
  count: number;
  totalMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

export class Histogram {
  private readonly counts = new Array<number>(BUCKETS).fill(0);
  private count = 0;
  private totalMs = 0;
  private maxMs = 0;

  add(ms: number): void {
    const i = ms <= BASE_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / BASE_MS) / Math.log(GROWTH)));
    this.counts[i]!++;
    this.count++;
    this.totalMs += ms;
    this.maxMs = Math.max(this.maxMs, ms);
  }

  /** The upper bound of the bucket holding quantile q (0 when empty). */
  quantile(q: number): number {
    let seen = 0;
    const rank = Math.ceil(q * this.count);
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank && seen > 0) return Math.min(this.maxMs, BASE_MS * GROWTH ** i);
    }
    return 0;
  }

  summary(): HistogramSummary {
    return { count: this.count, totalMs: this.totalMs, p50Ms: this.quantile(0.5), p90Ms: this.quantile(0.9), p99Ms: this.quantile(0.99), maxMs: this.maxMs };
  }
}
