/**
 * The fs store threads' memory of the directories they made is bounded: a server that takes a
 * snapshot a second (one manifest directory each) must not grow with them for its whole life.
 */
import { describe, expect, it } from 'vitest';
import { MadeDirs } from '../../src/object-store/made-dirs.js';

describe('MadeDirs', () => {
  it('remembers directories up to its limit, then starts over instead of growing', () => {
    const dirs = new MadeDirs(100);
    for (let i = 0; i < 100; i++) dirs.add(`/root/snapshots/snap-${i}`);
    expect(dirs.size).toBe(100);
    expect(dirs.has('/root/snapshots/snap-0')).toBe(true);

    for (let i = 100; i < 10_000; i++) dirs.add(`/root/snapshots/snap-${i}`);
    expect(dirs.size).toBeLessThanOrEqual(100);
    expect(dirs.has('/root/snapshots/snap-9999')).toBe(true); // the newest is always kept
    expect(dirs.has('/root/snapshots/snap-0')).toBe(false); // an old one costs a mkdir again
  });

  it('forgets a directory a delete pruned', () => {
    const dirs = new MadeDirs();
    dirs.add('/root/blocks');
    dirs.delete('/root/blocks');
    expect(dirs.has('/root/blocks')).toBe(false);
  });
});
