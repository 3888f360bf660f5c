/** The duration histogram behind the locks', calls' and copies' percentiles (src/core/histogram.ts). */
import { describe, expect, it } from 'vitest';
import { BUCKET_GROWTH, Histogram } from '../../src/core/histogram.js';

/** The exact q-quantile, ranked as the histogram ranks (the ceil(q*n)-th smallest). */
const exact = (sorted: number[], q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;

describe('Histogram', () => {
  it('reads each quantile as an upper bound within one bucket (5%) of the exact value', () => {
    // Log-uniform from 10 µs to 10 s, seeded: every scale a lock or a call sees.
    let seed = 42;
    const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const xs = Array.from({ length: 20_000 }, () => 0.01 * 10 ** (6 * next()));
    const h = new Histogram();
    for (const x of xs) h.add(x);
    const sorted = [...xs].sort((a, b) => a - b);
    for (const q of [0.01, 0.5, 0.9, 0.99, 0.999]) {
      const got = h.quantile(q);
      const want = exact(sorted, q);
      expect(got, `q=${q}`).toBeGreaterThanOrEqual(want);
      expect(got, `q=${q}`).toBeLessThanOrEqual(want * BUCKET_GROWTH);
    }
    expect(BUCKET_GROWTH).toBeLessThanOrEqual(1.05);
    const s = h.summary();
    expect(s.count).toBe(20_000);
    expect(s.maxMs).toBe(sorted.at(-1));
    expect(s.p99Ms).toBe(h.quantile(0.99));
  });

  it('is empty at zero, never reads above the largest value, and keeps sub-microsecond times', () => {
    const h = new Histogram();
    expect(h.summary()).toMatchObject({ count: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 });
    h.add(0);
    h.add(0.0004);
    expect(h.quantile(0.5)).toBe(0.0004); // the first bucket's bound (1 µs), capped at the max seen
    h.add(3);
    expect(h.quantile(1)).toBe(3); // its bucket's bound is above 3: capped
  });
});
