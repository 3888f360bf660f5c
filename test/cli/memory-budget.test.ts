import { expect, it } from 'vitest';
import { CAPPED_GROWTH_PERCENT, fullCollection, MemoryBudget, RELEASE_BYTES, SOFT_LIMIT_BYTES } from '../../src/cli/memory-budget.js';

it('caps the heap growth while the resident size is over the soft limit, and frees it well under', () => {
  let rss = 150e6;
  const flags: string[] = [];
  let collections = 0;
  const budget = new MemoryBudget({ rss: () => rss, setFlags: (f) => flags.push(f), collect: () => collections++ });
  budget.check();
  expect(flags).toEqual([]); // under the limit: V8 decides
  rss = SOFT_LIMIT_BYTES + 1;
  budget.check();
  budget.check(); // set once, not at every check
  expect(flags).toEqual([`--heap-growing-percent=${CAPPED_GROWTH_PERCENT}`]);
  expect(collections).toBe(1); // at once, so that the cap applies from now on
  expect(budget.isCapped).toBe(true);
  rss = (SOFT_LIMIT_BYTES + RELEASE_BYTES) / 2; // in the margin: stays capped
  budget.check();
  expect(budget.isCapped).toBe(true);
  rss = RELEASE_BYTES - 1;
  budget.check();
  expect(flags).toEqual([`--heap-growing-percent=${CAPPED_GROWTH_PERCENT}`, '--heap-growing-percent=0']);
  expect(budget.isCapped).toBe(false);
  expect(collections).toBe(1);
});

it('collects for real: what nothing references is freed by the full collection', async () => {
  let finalized = false;
  const registry = new FinalizationRegistry(() => (finalized = true));
  (() => registry.register({ payload: new Array(1000).fill(0) }, 'dropped'))();
  fullCollection();
  // Finalizers run in a later task: a few turns of the event loop, not a wait on the clock.
  for (let turn = 0; turn < 100 && !finalized; turn++) await new Promise((resolve) => setImmediate(resolve));
  expect(finalized).toBe(true);
});
