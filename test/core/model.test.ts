/**
 * Seeded random model test: thousands of writes of random sizes and offsets, snapshots and
 * snapshot deletions, checked against a plain in-memory reference.
 * Invariant 1: a snapshot reads exactly what was acknowledged before it, whatever comes after.
 * Invariant 3: deleting a snapshot changes what no other snapshot, nor the volume, reads.
 * Invariant 4: a never-written volume of any size holds no map keys and no chunks.
 * Replay a failure with EBS_SIM_SEED=<seed printed below>.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { BlockStore, GiB, TiB } from '../../src/core/block-store.js';
import { Rng, testSeed } from '../support/random.js';
import { SparseModel } from '../support/sparse-model.js';
import { tempDir } from '../support/temp-dir.js';

const seed = testSeed();
console.log(`model test seed: ${seed} (replay with EBS_SIM_SEED=${seed})`);

const HOT_BLOCKS = 24;

describe.each([
  { blockSize: 64 * 1024, ops: 3000, layout: 'pack files', options: {} },
  { blockSize: 512 * 1024, ops: 1200, layout: 'pack files', options: {} },
  // Packs of 1 MiB fill after a few chunks: the sweeps also delete and rewrite packs.
  { blockSize: 64 * 1024, ops: 1500, layout: 'small pack files', options: { packBytes: 1024 * 1024 } },
  { blockSize: 64 * 1024, ops: 1500, layout: 'chunk bytes in LevelDB', options: { chunkBytes: 'level' as const } },
])('random model, block size $blockSize, $layout', ({ blockSize, ops, options }) => {
  const tmp = tempDir();
  afterAll(() => tmp.remove());

  it(`matches the reference after ${ops} random operations (seed ${seed})`, async () => {
    const rng = new Rng(seed ^ blockSize);
    const store = await BlockStore.open(tmp.dir, { sweepDelayMs: 0, ...options });
    const size = GiB + 12_345; // the last block is partial
    const vol = await store.createVolume({ size, blockSize });
    const untouched = await store.createVolume({ size: 64 * TiB, blockSize });
    const model = new SparseModel(size, blockSize);
    const snaps: Array<{ id: string; model: SparseModel }> = [];
    const lastBlock = Math.floor((size - 1) / blockSize);
    const hotBlocks = [...Array(HOT_BLOCKS).keys(), lastBlock - 1, lastBlock];
    const ctx = (op: number, what: string) => `seed ${seed}, op ${op}: ${what}`;

    const randomWrite = (): { offset: number; data: Buffer } => {
      const blk = rng.pick(hotBlocks);
      const base = blk * blockSize;
      const shape = rng.next();
      let offset: number;
      let length: number;
      if (shape < 0.35) {
        length = 4096 * rng.int(1, 8);
        offset = base + 4096 * rng.int(0, blockSize / 4096 - 1);
      } else if (shape < 0.55) {
        length = rng.int(1, 5000);
        offset = base + rng.int(0, blockSize - 1);
      } else if (shape < 0.75) {
        length = blockSize;
        offset = base;
      } else {
        length = rng.int(blockSize / 2, 3 * blockSize);
        offset = base + rng.int(0, blockSize - 1);
      }
      offset = Math.min(offset, size - 1);
      length = Math.max(1, Math.min(length, size - offset));
      const content = rng.next();
      if (content < 0.1) return { offset, data: Buffer.alloc(length) };
      if (content < 0.2 && length === blockSize) {
        const donor = model.block(rng.pick(hotBlocks));
        if (donor) return { offset, data: Buffer.from(donor) }; // dedup hit
      }
      return { offset, data: rng.bytes(length) };
    };

    /** Every snapshot and the volume against the model: all hot blocks, or `sample` random ones. */
    const checkAll = async (op: number, sample?: number) => {
      const blocks = sample === undefined ? hotBlocks : Array.from({ length: sample }, () => rng.pick(hotBlocks));
      const span = (blk: number) => [blk * blockSize, Math.min(blockSize, size - blk * blockSize)] as const;
      for (const blk of blocks) {
        const [offset, length] = span(blk);
        for (const s of snaps) {
          const got = await store.readSnapshot(s.id, offset, length);
          expect(got.equals(s.model.read(offset, length)), ctx(op, `snapshot ${s.id} block ${blk}`)).toBe(true);
        }
        expect((await store.read(vol.id, offset, length)).equals(model.read(offset, length)), ctx(op, `volume block ${blk}`)).toBe(true);
      }
    };

    for (let op = 0; op < ops; op++) {
      if (op % 500 === 499) await checkAll(op);
      const kind = rng.next();
      if (kind < 0.72) {
        const { offset, data } = randomWrite();
        await store.write(vol.id, offset, data);
        model.write(offset, data);
      } else if (kind < 0.82) {
        const offset = rng.int(0, HOT_BLOCKS * blockSize - 1);
        const length = rng.int(0, Math.min(3 * blockSize, size - offset));
        expect((await store.read(vol.id, offset, length)).equals(model.read(offset, length)), ctx(op, `read ${offset}+${length}`)).toBe(true);
      } else if (kind < 0.9 || snaps.length === 0) {
        if (snaps.length >= 12) continue;
        const snap = await store.snapshot(vol.id);
        snaps.push({ id: snap.id, model: model.snapshot() });
      } else if (kind < 0.95) {
        const [victim] = snaps.splice(rng.int(0, snaps.length - 1), 1);
        await store.deleteSnapshot(victim!.id);
        await checkAll(op, 3);
      } else if (kind < 0.97) {
        // A snapshot's frozen content is checked right after more writes landed.
        const s = rng.pick(snaps);
        const offset = rng.int(0, HOT_BLOCKS * blockSize - 1);
        const length = rng.int(1, 2 * blockSize);
        expect((await store.readSnapshot(s.id, offset, length)).equals(s.model.read(offset, length)), ctx(op, `snapshot read`)).toBe(true);
      } else {
        await store.gc();
        const report = await store.fsck();
        expect(report.problems, ctx(op, 'fsck problems')).toEqual([]);
        expect(report.ok, ctx(op, 'fsck')).toBe(true);
      }
    }
    await checkAll(ops);

    // Invariant 4: the untouched 64 TiB volume holds nothing.
    let report = await store.fsck();
    expect(report.ok).toBe(true);
    expect(report.versionsByVolume[untouched.id] ?? 0).toBe(0);

    // Delete everything: nothing may leak.
    while (snaps.length > 0) {
      const [victim] = snaps.splice(rng.int(0, snaps.length - 1), 1);
      await store.deleteSnapshot(victim!.id);
      await checkAll(ops, 3);
    }
    await store.deleteVolume(vol.id);
    await store.gc();
    report = await store.fsck();
    expect(report.ok).toBe(true);
    expect(report.versions).toBe(0);
    expect(report.chunks).toBe(0);
    expect(report.leakedChunks).toEqual([]);
    await store.close();
  });
});
