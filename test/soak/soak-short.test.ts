/**
 * The soak's short version (about a minute): load, kill -9s, store faults (fault store and
 * moto_server), fuzz and sigv4 isolation, against real servers run from the sources. It must
 * find nothing lost and every answer a proper error. `npm run soak` is the full run.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { BENCH_DIR } from '../../bench/support.js';
import { runSoak } from '../../soak/soak.js';

it('a one-minute soak loses nothing and answers every bad request with a proper error', async () => {
  const root = join(BENCH_DIR, `soak-test-${process.pid}`);
  mkdirSync(root, { recursive: true });
  try {
    const result = await runSoak({ root, compiled: false, seed: 20261202, durationMs: 60_000, log: () => undefined });
    expect(result.failures).toEqual([]);
    // Every phase ran and reported.
    for (const phase of ['load', 'kill -9', 'store faults', 'fuzz', 'isolation (sigv4)']) {
      expect(result.figures.some((f) => f.phase === phase), phase).toBe(true);
    }
    const restored = result.figures.find((f) => f.figure === 'kept snapshots restored byte-exact')!;
    expect(restored.value).toMatch(/^[1-9]\d* of [1-9]\d*$/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}, 600_000);
