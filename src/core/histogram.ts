/**
 * Durations in log-spaced buckets (each 5% wider than the last, from 1 µs): a long-running server
 * can keep one per lock, per kind of call and per recent copy, and read quantiles within 5%, in
 * bounded memory: a counter only for each bucket that was hit (durations cluster in a few dozen).
 */
const BASE_MS = 0.001;
export const BUCKET_GROWTH = 1.05;
const BUCKETS = 500; // up to ~10 hours

export interface HistogramSummary {
  count: number;
  totalMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

export class Histogram {
  /** Hits by bucket index. */
  private readonly counts = new Map<number, number>();
  private count = 0;
  private totalMs = 0;
  private maxMs = 0;

  add(ms: number): void {
    const i = ms <= BASE_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / BASE_MS) / Math.log(BUCKET_GROWTH)));
    this.counts.set(i, (this.counts.get(i) ?? 0) + 1);
    this.count++;
    this.totalMs += ms;
    this.maxMs = Math.max(this.maxMs, ms);
  }

  /** The upper bound of the bucket holding quantile q (0 when empty). */
  quantile(q: number): number {
    let seen = 0;
    const rank = Math.ceil(q * this.count);
    for (const i of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(i)!;
      if (seen >= rank) return Math.min(this.maxMs, BASE_MS * BUCKET_GROWTH ** i);
    }
    return 0;
  }

  summary(): HistogramSummary {
    return { count: this.count, totalMs: this.totalMs, p50Ms: this.quantile(0.5), p90Ms: this.quantile(0.9), p99Ms: this.quantile(0.99), maxMs: this.maxMs };
  }
}
