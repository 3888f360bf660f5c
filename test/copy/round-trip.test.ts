/**
 * Round trip on every backend: write a volume, snapshot it, overwrite half of it while the copy
 * runs (slowed by the throttle wrapper), wait for completed, restore, and compare byte for byte
 * with the content at freeze time. Seeded; replay with EBS_SIM_SEED. Plus the fs store bare, where
 * whole-chunk blocks take the file-to-file path (ObjectStore.putIfAbsentFromFile).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FsStore, MemoryStore, S3Store, ThrottleStore, type ObjectStore } from '../../src/object-store/index.js';
import { findOnPath, startMotoServer, type MotoServer } from '../support/moto-server.js';
import { Rng, testSeed } from '../support/random.js';
import { tempDir } from '../support/temp-dir.js';
import { B, copyEnv } from './env.js';

const seed = testSeed();
console.log(`copy round-trip seed: ${seed} (replay with EBS_SIM_SEED=${seed})`);
const BLOCKS = 48;
const moto = findOnPath('moto_server');

async function roundTrip(objects: ObjectStore) {
  const rng = new Rng(seed);
  // Slow enough that the overwrite lands while the copy is pending.
  const throttled = new ThrottleStore(objects, { bytesPerSecond: 16 * 1024 * 1024 });
  const env = await copyEnv(throttled);
  try {
    const vol = await env.store.createVolume({ size: 1024 ** 3 });
    const original = rng.bytes(BLOCKS * B);
    original.fill(0, 10 * B, 12 * B); // a hole in the middle
    await env.store.write(vol.id, 0, original);
    const [snap] = await env.engine.createSnapshots([{ volumeId: vol.id }]);
    expect(snap!.state).toBe('pending');
    // Overwrite every other block while the copy runs.
    for (let b = 0; b < BLOCKS; b += 2) await env.store.write(vol.id, b * B, rng.bytes(B));
    expect(env.engine.statuses.status(snap!.snapshotId)!.state).toBe('pending');
    const done = await env.engine.statuses.settled(snap!.snapshotId);
    expect(done).toMatchObject({ state: 'completed', progress: 100, blocksDone: BLOCKS - 2 });
    throttled.setRate(undefined); // the rest of the test need not crawl
    const restored = await env.engine.restores.restoreVolume({ snapshotId: snap!.snapshotId });
    expect((await env.store.read(restored.id, 0, BLOCKS * B)).equals(original)).toBe(true);
    expect((await env.engine.readSnapshot(snap!.snapshotId, 0, BLOCKS * B)).equals(original)).toBe(true);
    // Progress was published as it went, never went back, and was 100 only when completed.
    const mine = env.events.filter((e) => e.snapshotId === snap!.snapshotId);
    expect(mine.length).toBeGreaterThan(1);
    for (let i = 1; i < mine.length; i++) expect(mine[i]!.progress).toBeGreaterThanOrEqual(mine[i - 1]!.progress);
    for (const e of mine) expect(e.progress === 100).toBe(e.state === 'completed');
  } finally {
    await env.close();
  }
}

describe('snapshot round trip through the copy engine', () => {
  it('memory store', () => roundTrip(new MemoryStore()));

  it('fs store', async () => {
    const dir = tempDir();
    try {
      await roundTrip(await FsStore.open({ root: dir.dir }));
    } finally {
      dir.remove();
    }
  });

  it('fs store, unthrottled: whole-chunk blocks go from pack file to object in the store threads', async () => {
    const dir = tempDir();
    const rng = new Rng(seed + 1);
    const objects = await FsStore.open({ root: dir.dir });
    const fromFile = vi.spyOn(objects, 'putIfAbsentFromFile');
    const env = await copyEnv(objects);
    try {
      const vol = await env.store.createVolume({ size: 1024 ** 3 });
      const original = rng.bytes(16 * B);
      original.fill(0, 4 * B, 5 * B); // a hole
      await env.store.write(vol.id, 0, original);
      const patch = rng.bytes(4096); // block 7 becomes a chunk plus a delta: read and hashed instead
      await env.store.write(vol.id, 7 * B + 100, patch);
      patch.copy(original, 7 * B + 100);
      const [snap] = await env.engine.createSnapshots([{ volumeId: vol.id }]);
      for (let b = 0; b < 16; b++) await env.store.write(vol.id, b * B, rng.bytes(B)); // after the freeze
      expect(await env.engine.statuses.settled(snap!.snapshotId)).toMatchObject({ state: 'completed', bytesUploaded: 15 * B }); // 16 blocks, one a hole
      expect(fromFile).toHaveBeenCalledTimes(15 - 1);
      expect((await env.engine.readSnapshot(snap!.snapshotId, 0, 16 * B)).equals(original)).toBe(true);
    } finally {
      await env.close();
      dir.remove();
    }
  });

  describe.skipIf(moto === undefined)(`s3 store (moto_server)${moto ? '' : ' skipped: moto_server is not on PATH'}`, () => {
    let server: MotoServer;
    beforeAll(async () => {
      server = await startMotoServer(moto!);
    });
    afterAll(() => server?.stop());
    it('s3 store', async () => {
      const objects = await S3Store.open({
        endpoint: server.endpoint,
        bucket: 'ebs-sim-copy',
        prefix: 'round-trip',
        forcePathStyle: true,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        createBucket: true,
      });
      await roundTrip(objects);
    });
  });
});
