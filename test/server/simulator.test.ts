/** The simulator without HTTP: what survives a restart, and lookups that must use an index. */
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SnapshotMeta } from '../../src/service/state/resource-records.js';
import type { FsStore, ThrottleStore } from '../../src/object-store/index.js';
import { Simulator, type CallerContext } from '../../src/simulator.js';
import { tempDir } from '../support/temp-dir.js';

const ctx: CallerContext = { accountId: '111111111111', region: 'eu-central-1' };
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function open(dir: string): Promise<Simulator> {
  const sim = await Simulator.open({ dataDir: join(dir, 'db'), objectStore: `fs:${join(dir, 'obj')}` });
  cleanups.push(() => sim.close());
  return sim;
}

describe('simulator', () => {
  it('with sync, makes an fs object store fsync too: a completed snapshot must survive a machine crash', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.remove);
    for (const sync of [false, true]) {
      const sim = await Simulator.open({ dataDir: join(tmp.dir, `db-${sync}`), objectStore: `fs:${join(tmp.dir, 'obj')}`, sync });
      cleanups.push(() => sim.close());
      const fs = (sim.engine.repo.objects as ThrottleStore).inner as FsStore;
      expect([sync, fs.durable]).toEqual([sync, sync]);
    }
  });

  it('copies whole-chunk blocks file to file and hashes downloads in the fs store threads, as the benchmarks measure', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.remove);
    const sim = await open(tmp.dir);
    const fs = (sim.engine.repo.objects as ThrottleStore).inner as FsStore;
    const fromFile = vi.spyOn(fs, 'putIfAbsentFromFile');
    const hashed = vi.spyOn(fs, 'getWithSha256');
    const vol = await sim.services.volumes.create(ctx, { availabilityZone: 'eu-central-1a', sizeGiB: 1 });
    const block = Buffer.alloc(512 * 1024, 'ebs-sim');
    await sim.services.volumes.write({}, vol.volumeId, 0, block);
    const snap = await sim.services.snapshots.create(ctx, { volumeId: vol.volumeId });
    expect((await sim.engine.statuses.settled(snap.snapshotId)).state).toBe('completed');
    expect(fromFile).toHaveBeenCalledTimes(1);
    const restored = await sim.services.volumes.create(ctx, { availabilityZone: 'eu-central-1a', snapshotId: snap.snapshotId });
    expect((await sim.services.volumes.read({}, restored.volumeId, 0, block.length)).equals(block)).toBe(true);
    expect(hashed).toHaveBeenCalled();
  });

  it('keeps the EC2 view across a restart and finishes what was half done', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.remove);
    let sim = await open(tmp.dir);
    const tagged = await sim.services.volumes.create(ctx, { availabilityZone: 'eu-central-1b', sizeGiB: 4, volumeType: 'io2', iops: 500, clientToken: 't1',
      tagSpecifications: [{ ResourceType: 'volume', Tags: [{ Key: 'Name', Value: 'kept' }] }] });
    await sim.services.volumes.write({}, tagged.volumeId, 0, Buffer.from('still here'));
    const snap = await sim.services.snapshots.create(ctx, { volumeId: tagged.volumeId, description: 'kept too' });
    await sim.engine.statuses.settled(snap.snapshotId);
    await sim.services.snapshots.modifyAttribute(ctx, { snapshotId: snap.snapshotId, userIds: ['222222222222'], operationType: 'add' });
    await sim.services.settings.setEncryptionByDefault(ctx, true);
    const dying = await sim.services.volumes.create(ctx, { availabilityZone: 'eu-central-1a', sizeGiB: 1 });
    const born = await sim.services.volumes.create(ctx, { availabilityZone: 'eu-central-1a', sizeGiB: 1 });
    // As a crash would leave them: one volume mid-deletion, one still `creating`.
    await sim.catalog.saveVolume({ ...sim.catalog.getVolume(dying.volumeId)!, state: 'deleting' });
    await sim.catalog.saveVolume({ ...sim.catalog.getVolume(born.volumeId)!, state: 'creating' });
    await sim.close();
    cleanups.pop();

    sim = await open(tmp.dir);
    const vols = sim.services.volumes.describe(ctx, {}).items;
    expect(vols.map((v) => [v.volumeId, v.state])).toEqual(expect.arrayContaining([[tagged.volumeId, 'available'], [born.volumeId, 'available']]));
    expect(vols.find((v) => v.volumeId === tagged.volumeId)).toMatchObject({ volumeType: 'io2', iops: 500, sizeGiB: 4, availabilityZone: 'eu-central-1b', tags: [{ key: 'Name', value: 'kept' }] });
    await vi.waitFor(() => expect(sim.services.volumes.describe(ctx, {}).items.map((v) => v.volumeId)).not.toContain(dying.volumeId));
    expect(() => sim.store.getVolume(dying.volumeId)).toThrow(/does not exist/);
    expect((await sim.services.volumes.create(ctx, { availabilityZone: 'eu-central-1b', sizeGiB: 4, volumeType: 'io2', iops: 500, clientToken: 't1',
      tagSpecifications: [{ ResourceType: 'volume', Tags: [{ Key: 'Name', Value: 'kept' }] }] })).volumeId).toBe(tagged.volumeId);
    expect(sim.services.snapshots.describe({ accountId: '222222222222', region: ctx.region }, {}).items.map((s) => [s.snapshotId, s.state, s.description]))
      .toEqual([[snap.snapshotId, 'completed', 'kept too']]);
    expect(sim.services.settings.encryptionByDefault(ctx)).toBe(true);
    expect((await sim.services.volumes.read({}, tagged.volumeId, 0, 10)).toString()).toBe('still here');
  });

  it('finds snapshots by id among 10,000 without scanning them', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.remove);
    const sim = await open(tmp.dir);
    const ids: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const seq = sim.catalog.nextSeq();
      const id = `snap-${seq.toString(16).padStart(17, '0')}`;
      ids.push(id);
      const meta: SnapshotMeta = {
        id, seq, ownerId: i % 2 ? ctx.accountId : '999999999999', region: ctx.region, volumeId: 'vol-0123456789abcdef0', volumeSizeGiB: 1,
        description: '', encrypted: false, startTime: new Date().toISOString(), tags: [], productCodes: [],
        createVolumePermissions: { userIds: [], public: i % 1000 === 0 }, archived: false,
      };
      sim.catalog.setSnapshot(meta);
    }
    const scan = vi.spyOn(sim.catalog, 'visibleSnapshots');
    const own = ids[5001]!;
    expect(sim.services.snapshots.describe(ctx, { snapshotIds: [own] }).items.map((s) => s.snapshotId)).toEqual([own]);
    expect(sim.services.snapshots.describe(ctx, { filters: [{ Name: 'snapshot-id', Values: [own, ids[5002]!] }] }).items.map((s) => s.snapshotId)).toEqual([own]);
    expect(sim.services.snapshots.describe(ctx, { filters: [{ Name: 'snapshot-id', Values: [ids[3000]!] }] }).items.map((s) => s.ownerId)).toEqual(['999999999999']); // public
    expect(() => sim.services.snapshots.describe(ctx, { snapshotIds: [ids[5002]!] })).toThrow(/does not exist/); // someone else's
    expect(scan).not.toHaveBeenCalled();
    const t = performance.now();
    for (let i = 0; i < 1000; i++) sim.services.snapshots.describe(ctx, { snapshotIds: [ids[2 * (i % 5000) + 1]!] });
    expect((performance.now() - t) / 1000).toBeLessThan(2); // ms per lookup, very loosely
    expect(sim.services.snapshots.describe(ctx, {}).items).toHaveLength(5000 + 10); // its own and the 10 public ones of the other account
  });
});
