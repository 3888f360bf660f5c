/** The catalog's records survive a reopen, and its indexes answer without scans. */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Catalog } from '../../../src/service/state/catalog.js';
import type { SnapshotMeta, VolumeMeta } from '../../../src/service/state/resource-records.js';
import { BlockStore } from '../../../src/core/block-store.js';
import { tempDir } from '../../support/temp-dir.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function openStore(dir: string): Promise<BlockStore> {
  const store = await BlockStore.open(join(dir, 'db'));
  cleanups.push(() => store.close());
  return store;
}

function volume(c: Catalog, over: Partial<VolumeMeta> = {}): VolumeMeta {
  const seq = c.nextSeq();
  return {
    id: `vol-${seq.toString(16).padStart(17, '0')}`, seq, accountId: '111111111111', region: 'us-east-1',
    availabilityZone: 'us-east-1a', availabilityZoneId: 'use1-az1', sizeGiB: 8, volumeType: 'gp2', iops: 100,
    multiAttachEnabled: false, encrypted: false, snapshotId: '', state: 'available', createTime: new Date().toISOString(),
    tags: [], productCodes: [], attachments: [], ...over,
  };
}

function snapshot(c: Catalog, over: Partial<SnapshotMeta> = {}): SnapshotMeta {
  const seq = c.nextSeq();
  return {
    id: `snap-${seq.toString(16).padStart(17, '0')}`, seq, ownerId: '111111111111', region: 'us-east-1', volumeId: 'vol-00000000000000001',
    volumeSizeGiB: 8, description: '', encrypted: false, startTime: new Date().toISOString(), tags: [], productCodes: [],
    createVolumePermissions: { userIds: [], public: false }, archived: false, ...over,
  };
}

describe('catalog', () => {
  it('reloads volumes, snapshots, settings and ClientTokens after a restart, in creation order', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.remove);
    let store = await openStore(tmp.dir);
    let c = await Catalog.load(store.records);
    const v1 = volume(c, { clientToken: 'tok-1', tags: [{ key: 'Name', value: 'a' }] });
    const s1 = snapshot(c, { createVolumePermissions: { userIds: ['222222222222'], public: false } });
    const v2 = volume(c);
    await c.saveVolume(v2); // saved before v1: order must still follow seq
    await c.saveVolume(v1);
    await c.saveSnapshot(s1);
    await c.saveSettings('111111111111', 'us-east-1', { ebsEncryptionByDefault: true });
    await store.close();
    cleanups.pop();

    store = await openStore(tmp.dir);
    c = await Catalog.load(store.records);
    expect([...c.volumesOf('111111111111', 'us-east-1')].map((v) => v.id)).toEqual([v1.id, v2.id]);
    expect(c.getVolume(v1.id)?.tags).toEqual([{ key: 'Name', value: 'a' }]);
    expect(c.volumeIdForToken('111111111111', 'us-east-1', 'tok-1')).toBe(v1.id);
    expect(c.volumeIdForToken('111111111111', 'eu-west-1', 'tok-1')).toBeUndefined();
    expect([...c.visibleSnapshots('222222222222', 'us-east-1')].map((s) => s.id)).toEqual([s1.id]);
    expect(c.settings('111111111111', 'us-east-1').ebsEncryptionByDefault).toBe(true);
    expect(c.settings('111111111111', 'eu-west-1').ebsEncryptionByDefault).toBe(false);
    expect(c.nextSeq()).toBeGreaterThan(v2.seq);
  });

  it('shows each account its own, shared and public snapshots, per region, in seq order', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.remove);
    const c = await Catalog.load((await openStore(tmp.dir)).records);
    const mine1 = snapshot(c, { ownerId: 'A' });
    const sharedWithMe = snapshot(c, { ownerId: 'B', createVolumePermissions: { userIds: ['A'], public: false } });
    const mine2 = snapshot(c, { ownerId: 'A' });
    const publicOne = snapshot(c, { ownerId: 'C', createVolumePermissions: { userIds: [], public: true } });
    const otherRegion = snapshot(c, { ownerId: 'A', region: 'eu-west-1' });
    const private_ = snapshot(c, { ownerId: 'B' });
    // Records arrive in seq order (new ones take the next seq); sharing comes later, in any order.
    for (const s of [mine1, { ...sharedWithMe, createVolumePermissions: { userIds: [], public: false } }, mine2, publicOne, otherRegion, private_]) c.setSnapshot(s);
    c.setSnapshot(sharedWithMe);
    expect([...c.visibleSnapshots('A', 'us-east-1')].map((s) => s.id)).toEqual([mine1.id, sharedWithMe.id, mine2.id, publicOne.id]);
    expect([...c.visibleSnapshots('B', 'us-east-1')].map((s) => s.id)).toEqual([sharedWithMe.id, publicOne.id, private_.id]);
    expect([...c.visibleSnapshots('A', 'eu-west-1')].map((s) => s.id)).toEqual([otherRegion.id]);
    // Unsharing updates the index.
    c.setSnapshot({ ...sharedWithMe, createVolumePermissions: { userIds: [], public: false } });
    expect([...c.visibleSnapshots('A', 'us-east-1')].map((s) => s.id)).toEqual([mine1.id, mine2.id, publicOne.id]);
    c.removeSnapshot(publicOne.id);
    expect([...c.visibleSnapshots('B', 'us-east-1')].map((s) => s.id)).toEqual([sharedWithMe.id, private_.id]);
  });
});
