import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { decodeManifest, manifestKey } from '../../src/copy/manifest.js';
import { FaultStore, MemoryStore, ThrottleStore } from '../../src/object-store/index.js';
import { Rng } from '../support/random.js';
import { B, blockKeys, copyEnv, type CopyEnv } from './env.js';

const rng = new Rng(7);

async function withEnv<T>(
  objects: ConstructorParameters<typeof FaultStore>[0],
  fn: (env: CopyEnv) => Promise<T>,
  options: Parameters<typeof copyEnv>[1] = {},
) {
  const env = await copyEnv(objects, options);
  try {
    return await fn(env);
  } finally {
    await env.close();
  }
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('incremental copies', () => {
  it('uploads exactly the changed blocks for each snapshot of a chain of 5 (1% changed)', () =>
    withEnv(new MemoryStore(), async ({ store, engine, objects }) => {
      const BLOCKS = 400;
      const vol = await store.createVolume({ size: 1024 ** 3 });
      for (let b = 0; b < BLOCKS; b += 50) await store.write(vol.id, b * B, rng.bytes(50 * B));
      let uploadsBefore = objects.stats().puts;
      for (let i = 0; i < 5; i++) {
        const changed = new Set<number>();
        if (i > 0) {
          while (changed.size < BLOCKS / 100) changed.add(rng.int(0, BLOCKS - 1));
          for (const b of changed) await store.write(vol.id, b * B + rng.int(0, B - 4096), rng.bytes(4096));
        }
        const [s] = await engine.createSnapshots([{ volumeId: vol.id }]);
        const done = await engine.statuses.settled(s!.snapshotId);
        const uploads = objects.stats().puts - uploadsBefore - 1; // minus the manifest
        uploadsBefore = objects.stats().puts;
        expect(done.state).toBe('completed');
        expect(uploads).toBe(i === 0 ? BLOCKS : changed.size);
        expect(done.bytesUploaded).toBe(uploads * B);
        const manifest = decodeManifest(await objects.get(manifestKey(s!.snapshotId)));
        expect(manifest.blocks.size).toBe(BLOCKS); // each manifest is complete, not a delta
        // A changed block is a chunk plus a delta, built in the copy worker's reused buffer.
        for (const b of changed) {
          expect((await engine.readSnapshot(s!.snapshotId, b * B, B)).equals(await store.read(vol.id, b * B, B))).toBe(true);
        }
      }
    }));

  it('does not upload a block already in the store, and never uploads zero blocks', () =>
    withEnv(new MemoryStore(), async ({ store, engine, objects }) => {
      const a = await store.createVolume({ size: 1024 ** 3 });
      const b = await store.createVolume({ size: 1024 ** 3 });
      const block = rng.bytes(B);
      await store.write(a.id, 0, block);
      await store.write(b.id, 3 * B, block);
      await store.write(b.id, 5 * B, Buffer.alloc(B)); // zeros: a hole
      await store.write(b.id, 6 * B + 10, Buffer.alloc(100)); // a zero delta on a hole
      const [sa] = await engine.createSnapshots([{ volumeId: a.id }]);
      await engine.statuses.settled(sa!.snapshotId);
      const [sb] = await engine.createSnapshots([{ volumeId: b.id }]);
      const done = await engine.statuses.settled(sb!.snapshotId);
      expect(done).toMatchObject({ state: 'completed', bytesUploaded: 0, bytesDeduplicated: B });
      expect(await blockKeys(objects)).toEqual([`blocks/${sha(block)}`]);
      const m = decodeManifest(await objects.get(manifestKey(sb!.snapshotId)));
      expect([...m.blocks.keys()]).toEqual([3]);
    }));
});

describe('progress', () => {
  it('keeps copying while its progress is being saved: saves fold together, none waited for per block', () =>
    withEnv(new MemoryStore(), async ({ store, engine, objects, events }) => {
      const BLOCKS = 20; // every block is 5%: each crosses a percent, and used to wait for its own save
      const vol = await store.createVolume({ size: 1024 ** 3 });
      await store.write(vol.id, 0, rng.bytes(BLOCKS * B));
      // Hold every status save of the copy until released.
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const save = engine.statuses.save.bind(engine.statuses);
      const saves: number[] = [];
      vi.spyOn(engine.statuses, 'save').mockImplementation(async (next, records) => {
        if (next.state === 'pending' && next.blocksDone > 0) {
          saves.push(next.blocksDone);
          await released;
        }
        return save(next, records);
      });
      const [s] = await engine.createSnapshots([{ volumeId: vol.id }]);
      // Every block is uploaded while the first save is still held (8 workers once waited on it).
      await expect.poll(async () => (await blockKeys(objects)).length, { timeout: 10_000 }).toBe(BLOCKS);
      expect(saves.length).toBe(1);
      release();
      const done = await engine.statuses.settled(s!.snapshotId);
      expect(done.state).toBe('completed');
      // The held save was followed by at most one more, with every block done meanwhile.
      expect(saves.length).toBeLessThanOrEqual(2);
      const progress = events.filter((e) => e.snapshotId === s!.snapshotId).map((e) => e.progress);
      expect(progress).toEqual([...progress].sort((a, b) => a - b)); // never backwards
      for (let b = 0; b < BLOCKS; b += 7) {
        expect((await engine.readSnapshot(s!.snapshotId, b * B, B)).equals(await store.read(vol.id, b * B, B))).toBe(true);
      }
    }));
});

describe('faults', () => {
  it('completes despite transient upload failures', () =>
    withEnv(new FaultStore(new MemoryStore(), [{ op: 'put', nth: 2 }, { op: 'put', nth: 5, times: 3 }]), async (env) => {
      const faulty = env.objects as FaultStore;
      const vol = await env.store.createVolume({ size: 1024 ** 3 });
      const data = rng.bytes(12 * B);
      await env.store.write(vol.id, 0, data);
      const [s] = await env.engine.createSnapshots([{ volumeId: vol.id }]);
      expect(await env.engine.statuses.settled(s!.snapshotId)).toMatchObject({ state: 'completed', progress: 100 });
      expect(faulty.unusedFaults()).toEqual([]);
      const m = decodeManifest(await env.objects.get(manifestKey(s!.snapshotId)));
      for (const digest of m.blocks.values()) expect(await env.objects.head(`blocks/${digest}`)).toBeDefined();
      expect((await env.engine.readSnapshot(s!.snapshotId, 0, data.length)).equals(data)).toBe(true);
    }));

  it('ends in error with a message when the store keeps failing, never completed', () =>
    withEnv(new FaultStore(new MemoryStore(), [{ op: 'put', always: true }]), async (env) => {
      const vol = await env.store.createVolume({ size: 1024 ** 3 });
      await env.store.write(vol.id, 0, rng.bytes(3 * B));
      const [s] = await env.engine.createSnapshots([{ volumeId: vol.id }]);
      const done = await env.engine.statuses.settled(s!.snapshotId);
      expect(done.state).toBe('error');
      expect(done.progress).toBeLessThan(100);
      expect(done.message).toMatch(/upload of blocks\/[0-9a-f]{64} failed after 6 attempts: injected fault/);
      expect(await env.objects.head(manifestKey(s!.snapshotId))).toBeUndefined();
      // The error survives a restart, and the snapshot cannot be restored.
      await env.reopen();
      expect(env.engine.statuses.status(s!.snapshotId)).toMatchObject({ state: 'error' });
      await expect(env.engine.restores.restoreVolume({ snapshotId: s!.snapshotId })).rejects.toMatchObject({ code: 'SNAPSHOT_WRONG_STATE' });
    }));

  it('puts every member of a multi-volume set in error when one fails', async () => {
    const bad = rng.bytes(B);
    const faulty = new FaultStore(new MemoryStore(), [{ op: 'put', keyPrefix: `blocks/${sha(bad)}`, always: true }]);
    await withEnv(faulty, async ({ store, engine }) => {
      const a = await store.createVolume({ size: 1024 ** 3 });
      const b = await store.createVolume({ size: 1024 ** 3 });
      await store.write(a.id, 0, rng.bytes(B));
      await store.write(b.id, 0, bad);
      const [sa, sb] = await engine.createSnapshots([{ volumeId: a.id }, { volumeId: b.id }]);
      expect((await engine.statuses.settled(sb!.snapshotId)).state).toBe('error');
      await expect.poll(() => engine.statuses.status(sa!.snapshotId)?.state).toBe('error');
      expect(engine.statuses.status(sa!.snapshotId)!.message).toContain(sb!.snapshotId);
    });
  });
});

describe('a failed parent', () => {
  it('makes the next snapshot list every block it sees, not only its changes', async () => {
    const a = rng.bytes(B);
    // The parent's upload of block a fails through its whole retry budget (6 attempts), then works.
    const faulty = new FaultStore(new MemoryStore(), [{ op: 'put', keyPrefix: `blocks/${sha(a)}`, nth: 1, times: 6 }]);
    await withEnv(faulty, async ({ store, engine }) => {
      const vol = await store.createVolume({ size: 1024 ** 3 });
      await store.write(vol.id, 0, a);
      const [parent] = await engine.createSnapshots([{ volumeId: vol.id }]);
      expect((await engine.statuses.settled(parent!.snapshotId)).state).toBe('error');
      const b = rng.bytes(B);
      await store.write(vol.id, 3 * B, b);
      const [child] = await engine.createSnapshots([{ volumeId: vol.id }]);
      expect(await engine.statuses.settled(child!.snapshotId)).toMatchObject({ state: 'completed', blocksDone: 2 });
      const restored = await engine.restores.restoreVolume({ snapshotId: child!.snapshotId });
      expect((await store.read(restored.id, 0, B)).equals(a)).toBe(true);
      expect((await store.read(restored.id, 3 * B, B)).equals(b)).toBe(true);
    });
  });
});

describe('deleting snapshots', () => {
  it('deleting the middle of a chain keeps the others restorable and drops exactly its unique blocks', () =>
    withEnv(new MemoryStore(), async ({ store, engine, objects }) => {
      const vol = await store.createVolume({ size: 1024 ** 3 });
      const span = 20 * B;
      const contents: Buffer[] = [];
      const ids: string[] = [];
      await store.write(vol.id, 0, rng.bytes(span));
      for (let i = 0; i < 3; i++) {
        // The middle snapshot rewrites blocks 0-3, the newest 0-1 again: blocks 0 and 1 as the
        // middle one saw them are its own, blocks 2 and 3 it shares with the newest.
        for (const blk of i === 1 ? [0, 1, 2, 3] : i === 2 ? [0, 1] : []) await store.write(vol.id, blk * B, rng.bytes(B));
        contents.push(await store.read(vol.id, 0, span));
        const [s] = await engine.createSnapshots([{ volumeId: vol.id }]);
        await engine.statuses.settled(s!.snapshotId);
        ids.push(s!.snapshotId);
      }
      const manifests = await Promise.all(ids.map(async (id) => decodeManifest(await objects.get(manifestKey(id)))));
      const others = new Set([...manifests[0]!.blocks.values(), ...manifests[2]!.blocks.values()]);
      const unique = new Set([...manifests[1]!.blocks.values()].filter((d) => !others.has(d)));
      expect(unique.size).toBe(2);
      const before = (await blockKeys(objects)).length;
      await engine.deleteSnapshot(ids[1]!);
      expect(engine.statuses.status(ids[1]!)).toBeUndefined();
      expect(await engine.collectGarbage()).toBe(unique.size);
      expect((await blockKeys(objects)).length).toBe(before - unique.size);
      expect(await objects.head(manifestKey(ids[1]!))).toBeUndefined();
      for (const i of [0, 2]) {
        const restored = await engine.restores.restoreVolume({ snapshotId: ids[i]! });
        expect((await store.read(restored.id, 0, span)).equals(contents[i]!), `snapshot ${i}`).toBe(true);
        expect((await engine.readSnapshot(ids[i]!, 0, span)).equals(contents[i]!)).toBe(true);
      }
      expect((await store.fsck()).ok).toBe(true);
    }));

  it('deletes a pending snapshot once its copy completes', async () => {
    const throttled = new ThrottleStore(new MemoryStore(), { bytesPerSecond: 4 * 1024 * 1024 });
    await withEnv(throttled, async ({ store, engine, objects }) => {
      const vol = await store.createVolume({ size: 1024 ** 3 });
      await store.write(vol.id, 0, rng.bytes(8 * B));
      const [s] = await engine.createSnapshots([{ volumeId: vol.id }]);
      await engine.deleteSnapshot(s!.snapshotId);
      expect(engine.statuses.status(s!.snapshotId)).toMatchObject({ state: 'pending', deleteRequested: true });
      await expect(engine.restores.restoreVolume({ snapshotId: s!.snapshotId })).rejects.toMatchObject({ code: 'SNAPSHOT_NOT_FOUND' });
      await expect.poll(() => engine.statuses.status(s!.snapshotId), { timeout: 20_000 }).toBeUndefined();
      await engine.collectGarbage();
      expect(await blockKeys(objects)).toEqual([]);
      await expect(store.getSnapshot(s!.snapshotId)).rejects.toMatchObject({ code: 'SNAPSHOT_NOT_FOUND' });
    });
  });

  it('queues one deletion attempt per deferred snapshot, however often deferred deletions are retried', async () => {
    const throttled = new ThrottleStore(new MemoryStore());
    await withEnv(throttled, async ({ store, engine }) => {
      const vol = await store.createVolume({ size: 1024 ** 3 });
      await store.write(vol.id, 0, rng.bytes(4 * B));
      const [source, other] = await engine.createSnapshots([{ volumeId: vol.id }]).then(async (a) => [...a, ...(await engine.createSnapshots([{ volumeId: vol.id }]))]);
      for (const s of [source!, other!]) expect((await engine.statuses.settled(s.snapshotId)).state).toBe('completed');
      throttled.setRate(1024); // the restored volume keeps loading from its source: the deletion waits
      await engine.restores.restoreVolume({ snapshotId: source!.snapshotId });
      await engine.deleteSnapshot(source!.snapshotId);
      expect(engine.statuses.status(source!.snapshotId)?.deleteRequested).toBe(true);
      const before = engine.lockTimes().deletions.held.count;
      for (let i = 0; i < 100; i++) engine.retryDeferredDeletes(); // as 100 volume deletions in a row do
      throttled.setRate(undefined);
      await engine.deleteSnapshot(other!.snapshotId); // queued behind whatever the retries queued
      expect(engine.lockTimes().deletions.held.count - before).toBeLessThanOrEqual(5);
      expect(engine.statuses.status(source!.snapshotId)?.deleteRequested).toBe(true); // still held for the restore
    });
  });
});

describe('stopping', () => {
  it('closes at once while a copy waits for its still-pending parent, and resumes both at the next open', async () => {
    const throttled = new ThrottleStore(new MemoryStore(), { bytesPerSecond: 64 * 1024 });
    const env = await copyEnv(throttled);
    try {
      const vol = await env.store.createVolume({ size: 1024 ** 3 });
      await env.store.write(vol.id, 0, rng.bytes(4 * B));
      const [first] = await env.engine.createSnapshots([{ volumeId: vol.id }]);
      // Nothing new: the second copy has no block to upload and goes straight to waiting for its parent.
      const [second] = await env.engine.createSnapshots([{ volumeId: vol.id }]);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const t = performance.now();
      const closing = env.engine.close(30_000); // a long grace: every job must really stop
      throttled.setRate(undefined); // uploads already in flight may finish
      await closing;
      expect(performance.now() - t).toBeLessThan(5_000);
      await env.reopen();
      expect(await env.engine.statuses.settled(first!.snapshotId)).toMatchObject({ state: 'completed' });
      expect(await env.engine.statuses.settled(second!.snapshotId)).toMatchObject({ state: 'completed', blocksDone: 0 });
    } finally {
      await env.close();
    }
  });
});

describe('copies and restores', () => {
  it('copies a snapshot without uploading a block', () =>
    withEnv(new MemoryStore(), async ({ store, engine, objects }) => {
      const vol = await store.createVolume({ size: 1024 ** 3 });
      const data = rng.bytes(6 * B);
      await store.write(vol.id, 0, data);
      const [s] = await engine.createSnapshots([{ volumeId: vol.id }]);
      await engine.statuses.settled(s!.snapshotId);
      const puts = objects.stats().puts;
      const copy = await engine.copySnapshot(s!.snapshotId);
      expect(await engine.statuses.settled(copy.snapshotId)).toMatchObject({ state: 'completed', bytesUploaded: 0, bytesDeduplicated: 6 * B });
      expect(objects.stats().puts - puts).toBe(1); // the manifest only
      await engine.deleteSnapshot(s!.snapshotId); // the copy keeps the blocks alive
      expect((await engine.readSnapshot(copy.snapshotId, 0, data.length)).equals(data)).toBe(true);
    }));

  it('restores in O(1): readable and writable at once, then hydrated in the background', async () => {
    const throttled = new ThrottleStore(new MemoryStore());
    // Hydration two blocks at a time: it reaches blocks 14 and 15 well after the read below.
    await withEnv(throttled, async ({ store, engine }) => {
      const vol = await store.createVolume({ size: 1024 ** 3 });
      const data = rng.bytes(16 * B);
      await store.write(vol.id, 0, data);
      const [s] = await engine.createSnapshots([{ volumeId: vol.id }]);
      await engine.statuses.settled(s!.snapshotId);
      throttled.setRate(2 * 1024 * 1024); // hydration crawls: the first read fetches on demand
      const getsBefore = throttled.stats().gets;
      const restored = await engine.restores.restoreVolume({ snapshotId: s!.snapshotId });
      expect(engine.restores.hydration(restored.id)).toMatchObject({ state: 'hydrating', blocksTotal: 16 });
      expect((await store.read(restored.id, 14 * B, 2 * B)).equals(data.subarray(14 * B))).toBe(true);
      await store.write(restored.id, 15 * B + 7, Buffer.from('written at once'));
      throttled.setRate(undefined);
      await expect.poll(() => engine.restores.hydration(restored.id)?.state, { timeout: 20_000 }).toBe('done');
      // Each block came from the store once: what the first read fetched, the volume kept, and
      // the hydration found it there.
      expect(throttled.stats().gets - getsBefore).toBe(16);
      const expected = Buffer.from(data);
      Buffer.from('written at once').copy(expected, 15 * B + 7);
      expect((await store.read(restored.id, 0, 16 * B)).equals(expected)).toBe(true);
      // A snapshot of the restored volume builds on the source: only the changed block uploads.
      const [again] = await engine.createSnapshots([{ volumeId: restored.id }]);
      expect(await engine.statuses.settled(again!.snapshotId)).toMatchObject({ state: 'completed', blocksDone: 1, bytesUploaded: B });
      expect((await engine.readSnapshot(again!.snapshotId, 0, 16 * B)).equals(expected)).toBe(true);
    }, { hydrationConcurrency: 2 });
  });
});
