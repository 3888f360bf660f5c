/**
 * The bench's fs baselines on a real directory: plain file writes, and beside them the same
 * blocks written with O_DIRECT, as the fs store writes snapshot blocks.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { plainDirectWrites, plainFileWrites } from '../../src/bench/baselines.js';
import { BlockData } from '../../src/bench/block-data.js';
import { takesDirect } from '../support/takes-direct.js';
import { tempDir } from '../support/temp-dir.js';

const tmp = tempDir('ebs-sim-baselines-');
afterAll(() => tmp.remove());
const BLOCK = 512 * 1024;

it('plain direct writes: one file per block with the block\'s bytes, each timed', async () => {
  const data = new BlockData({ kind: 'random' });
  const dir = join(tmp.dir, 'direct');
  const phase = await plainDirectWrites(dir, data, 6);
  if (!takesDirect(tmp.dir)) {
    expect(phase).toBeUndefined(); // this file system refuses O_DIRECT: no such baseline
    return;
  }
  expect(phase).toMatchObject({ name: 'plain direct writes', bytes: 6 * BLOCK, opBytes: BLOCK });
  expect(phase!.latenciesMs).toHaveLength(6);
  expect(phase!.points.map(([, bytes]) => bytes)).toEqual([1, 2, 3, 4, 5, 6].map((n) => n * BLOCK));
  expect(phase!.bytesPerSec).toBeCloseTo(phase!.bytes / (phase!.durationMs / 1000), 6);
  // Each file holds its block exactly: the aligned buffer's probe wrote only the probe file.
  for (let i = 0; i < 6; i++) expect(readFileSync(join(dir, `block-${i}`)).equals(data.block(i)), `block-${i}`).toBe(true);
  expect(readdirSync(dir).sort()).toEqual(['block-0', 'block-1', 'block-2', 'block-3', 'block-4', 'block-5', 'probe']);
});

it('plain file writes: the same blocks through the page cache', async () => {
  const data = new BlockData({ kind: 'random' });
  const dir = join(tmp.dir, 'plain');
  const phase = await plainFileWrites(dir, data, 3);
  expect(phase).toMatchObject({ name: 'plain file writes', bytes: 3 * BLOCK });
  for (let i = 0; i < 3; i++) expect(readFileSync(join(dir, `block-${i}`)).equals(data.block(i))).toBe(true);
});
