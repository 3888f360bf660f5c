/**
 * The block map's source: blockBirths answers, look after look, exactly what a full scan of the
 * epoch index says, though it rescans only what may have changed (seeded random writes, trims,
 * snapshots and deletions of snapshots, looked at between every few of them).
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { volumeBlockBirths } from '../../src/core/block-births.js';
import { BlockStore, GiB } from '../../src/core/block-store.js';
import { Rng } from '../support/random.js';
import { tempDir } from '../support/temp-dir.js';

const B = 512 * 1024;
let tmp: ReturnType<typeof tempDir>;
let store: BlockStore;

beforeEach(async () => {
  tmp = tempDir();
  store = await BlockStore.open(tmp.dir);
});
afterEach(async () => {
  await store.close();
  tmp.remove();
});

const pairs = (b: { blocks: Uint32Array; births: Float64Array }) => Array.from(b.blocks, (blk, i) => `${blk}@${b.births[i]}`);

it('blockBirths, cached and rescanned in part, always equals a full scan', async () => {
  const rng = new Rng(13);
  const vol = await store.createVolume({ size: GiB });
  const snaps: string[] = [];
  const fullScan = async () => pairs(await volumeBlockBirths((store as unknown as { db: Parameters<typeof volumeBlockBirths>[0] }).db, vol.id));
  let looks = 0;
  for (let step = 0; step < 300; step++) {
    const r = rng.next();
    const blk = Math.floor(rng.next() * 40);
    if (r < 0.55) await store.write(vol.id, blk * B + Math.floor(rng.next() * 100) * 4096, Buffer.alloc(4096, 1 + (step % 250)));
    else if (r < 0.65) await store.writeZeroes(vol.id, blk * B, B);
    else if (r < 0.8) snaps.push((await store.snapshot(vol.id)).id);
    else if (r < 0.9 && snaps.length > 0) {
      const [victim] = snaps.splice(Math.floor(rng.next() * snaps.length), 1);
      await store.deleteSnapshot(victim!);
    }
    if (rng.next() < 0.4) {
      looks++;
      expect(pairs(await store.blockBirths(vol.id)), `after step ${step}`).toEqual(await fullScan());
    }
  }
  expect(looks).toBeGreaterThan(50);
});

it('a scan reads every version, past the iterator batches (9,000 blocks)', async () => {
  const vol = await store.createVolume({ size: 8 * GiB });
  for (let i = 0; i < 9000; i += 500) {
    await Promise.all(Array.from({ length: 500 }, (_, k) => store.write(vol.id, (i + k) * B, Buffer.alloc(512, 1))));
  }
  const births = await store.blockBirths(vol.id);
  expect(births.blocks.length).toBe(9000);
  expect(births.blocks[8999]).toBe(8999);
}, 60_000);

it('a trim and a write in one generation, looked at straight after, are both seen (the count of blocks stays the same)', async () => {
  const vol = await store.createVolume({ size: GiB });
  await store.write(vol.id, 0, Buffer.alloc(4096, 1));
  expect(pairs(await store.blockBirths(vol.id))).toEqual(['0@1']);
  await store.writeZeroes(vol.id, 0, B); // block 0, born in this generation, goes: one fewer
  await store.write(vol.id, 5 * B, Buffer.alloc(4096, 2)); // block 5 comes: one more
  expect(pairs(await store.blockBirths(vol.id))).toEqual(['5@1']);
});
