/** Snapshots through @aws-sdk/client-ec2: freeze, real progress, describe, copy, attributes, tiers, limits. */
import {
  CopySnapshotCommand, CreateSnapshotCommand, CreateTagsCommand, CreateVolumeCommand, DescribeTagsCommand, DeleteSnapshotCommand, DescribeSnapshotAttributeCommand,
  DescribeSnapshotsCommand, DescribeSnapshotTierStatusCommand, ModifySnapshotAttributeCommand, ModifySnapshotTierCommand,
  ResetSnapshotAttributeCommand, RestoreSnapshotTierCommand, waitUntilSnapshotCompleted, type EC2Client,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ec2Error } from '../support/ec2-error.js';
import { getBytes, putBytes, startSimServer, type SimServer } from '../support/sim-server.js';

let s: SimServer;
let ec2: EC2Client;
const MiB = 1024 * 1024;
const wait = (ids: string[], client = ec2) => waitUntilSnapshotCompleted({ client, maxWaitTime: 30, minDelay: 0.2, maxDelay: 0.5 }, { SnapshotIds: ids });
const volume = async (size = 1) => (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: size, VolumeType: 'gp3' }))).VolumeId!;
const snapshot = async (volumeId: string, more: Record<string, unknown> = {}) => ec2.send(new CreateSnapshotCommand({ VolumeId: volumeId, ...more }));

beforeAll(async () => {
  // A window long enough for a loaded CI machine to observe the in-progress states.
  s = await startSimServer({ sim: { tieringMs: 1000 } });
  ec2 = s.client();
});
afterAll(() => s.close());

describe('snapshots', () => {
  it('freezes at CreateSnapshot and reports real, monotonic progress while pending', async () => {
    const v = await volume();
    const before = Buffer.alloc(8 * MiB);
    for (let i = 0; i < before.length; i += 4096) before.fill(i / 4096 + 1, i, i + 4096);
    await putBytes(s.endpoint, v, 0, before);
    s.sim.controls.setCopyRate(8 * MiB); // about a second of upload
    const snap = await snapshot(v, {
      Description: 'nightly backup', TagSpecifications: [{ ResourceType: 'snapshot', Tags: [{ Key: 'team', Value: 'storage' }] }],
    });
    await putBytes(s.endpoint, v, 0, Buffer.alloc(8 * MiB, 0xee)); // after the freeze: not in the snapshot
    expect(snap).toMatchObject({
      State: 'pending', Progress: '0%', VolumeId: v, VolumeSize: 1, OwnerId: '123456789012', Description: 'nightly backup',
      Encrypted: false, StorageTier: 'standard', Tags: [{ Key: 'team', Value: 'storage' }],
    });
    expect(snap.SnapshotId).toMatch(/^snap-[0-9a-f]{17}$/);
    const seen: string[] = [];
    for (;;) {
      const d = (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snap.SnapshotId!] }))).Snapshots![0]!;
      seen.push(`${d.State} ${d.Progress}`);
      if (d.State !== 'pending') break;
      expect(d.Progress).not.toBe('100%');
      await new Promise((r) => setTimeout(r, 100));
    }
    s.sim.controls.setCopyRate(undefined);
    const percents = seen.map((x) => Number(x.split(' ')[1]!.slice(0, -1)));
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(percents.some((p) => p > 0 && p < 100), seen.join(', ')).toBe(true);
    expect(seen.at(-1)).toBe('completed 100%');
    const restored = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1b', SnapshotId: snap.SnapshotId }))).VolumeId!;
    expect((await getBytes(s.endpoint, restored, 0, 8 * MiB)).equals(before)).toBe(true);
  });

  it('DescribeSnapshots: owners, filters, pages; DeleteSnapshot hides it at once, even while pending', async () => {
    const v = await volume();
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      // A volume may have 5 snapshots pending; on a slow disk the first 5 can all still be.
      if (i === 5) await wait(ids);
      await putBytes(s.endpoint, v, i * MiB, Buffer.alloc(4096, i + 1));
      ids.push((await snapshot(v, { Description: `d${i}` })).SnapshotId!);
    }
    await wait(ids);
    const list = async (input: Record<string, unknown>) => ((await ec2.send(new DescribeSnapshotsCommand(input))).Snapshots ?? []).map((x) => x.SnapshotId);
    expect(await list({ OwnerIds: ['self'], Filters: [{ Name: 'volume-id', Values: [v] }] })).toEqual(ids);
    expect(await list({ OwnerIds: ['123456789012'], Filters: [{ Name: 'volume-id', Values: [v] }, { Name: 'description', Values: ['d1', 'd4'] }] })).toEqual([ids[1], ids[4]]);
    expect(await list({ OwnerIds: ['210987654321'], Filters: [{ Name: 'volume-id', Values: [v] }] })).toEqual([]);
    expect(await list({ OwnerIds: ['amazon'] })).toEqual([]);
    expect(await list({ Filters: [{ Name: 'snapshot-id', Values: [ids[2]!, ids[3]!] }, { Name: 'status', Values: ['completed'] }] })).toEqual([ids[2], ids[3]]);
    expect(await list({ RestorableByUserIds: ['self'], Filters: [{ Name: 'volume-id', Values: [v] }] })).toEqual(ids);
    expect(await list({ RestorableByUserIds: ['all'], Filters: [{ Name: 'volume-id', Values: [v] }] })).toEqual([]);

    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const p = await ec2.send(new DescribeSnapshotsCommand({ MaxResults: 5, NextToken: token, Filters: [{ Name: 'volume-id', Values: [v] }] }));
      pages.push(p.Snapshots!.map((x) => x.SnapshotId!));
      token = p.NextToken;
    } while (token);
    expect(pages).toEqual([ids.slice(0, 5), ids.slice(5)]);
    expect((await ec2Error(ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [ids[0]!], MaxResults: 5 })))).name).toBe('InvalidParameterCombination');

    await ec2.send(new DeleteSnapshotCommand({ SnapshotId: ids[0] }));
    expect(await list({ Filters: [{ Name: 'volume-id', Values: [v] }] })).toEqual(ids.slice(1));
    expect((await ec2Error(ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [ids[0]!] })))).name).toBe('InvalidSnapshot.NotFound');
    // The others still restore with their own bytes.
    const r = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', SnapshotId: ids[5] }))).VolumeId!;
    expect((await getBytes(s.endpoint, r, 0, 1))[0]).toBe(1);
    expect((await getBytes(s.endpoint, r, 5 * MiB, 1))[0]).toBe(6);

    s.sim.controls.setCopyRate(1024);
    await putBytes(s.endpoint, v, 0, Buffer.alloc(8192, 9));
    const pending = (await snapshot(v)).SnapshotId!;
    await ec2.send(new DeleteSnapshotCommand({ SnapshotId: pending }));
    expect(await list({ Filters: [{ Name: 'snapshot-id', Values: [pending] }] })).toEqual([]);
    s.sim.controls.setCopyRate(undefined);
  });

  it('CopySnapshot in the same region and across regions; only completed snapshots', async () => {
    const v = await volume();
    await putBytes(s.endpoint, v, 0, Buffer.from('copied bytes'));
    const src = (await snapshot(v)).SnapshotId!;
    await wait([src]);
    const same = await ec2.send(new CopySnapshotCommand({ SourceRegion: 'us-east-1', SourceSnapshotId: src, TagSpecifications: [{ ResourceType: 'snapshot', Tags: [{ Key: 'k', Value: 'v' }] }] }));
    expect(same.Tags).toEqual([{ Key: 'k', Value: 'v' }]);
    await wait([same.SnapshotId!]);
    expect((await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [same.SnapshotId!] }))).Snapshots![0]).toMatchObject({
      VolumeId: 'vol-ffffffff', Description: `[Copied ${src} from us-east-1]`, VolumeSize: 1, State: 'completed',
    });

    const eu = s.client({ region: 'eu-west-1' });
    const far = await eu.send(new CopySnapshotCommand({ SourceRegion: 'us-east-1', SourceSnapshotId: src, Description: 'to Ireland' }));
    await wait([far.SnapshotId!], eu);
    expect((await ec2Error(ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [far.SnapshotId!] })))).name).toBe('InvalidSnapshot.NotFound');
    const r = (await eu.send(new CreateVolumeCommand({ AvailabilityZone: 'eu-west-1a', SnapshotId: far.SnapshotId }))).VolumeId!;
    expect((await getBytes(s.endpoint, r, 0, 12)).toString()).toBe('copied bytes');

    s.sim.controls.setCopyRate(1024);
    await putBytes(s.endpoint, v, 0, Buffer.alloc(8192, 7));
    const pending = (await snapshot(v)).SnapshotId!;
    expect((await ec2Error(ec2.send(new CopySnapshotCommand({ SourceRegion: 'us-east-1', SourceSnapshotId: pending })))).name).toBe('IncorrectState');
    expect((await ec2Error(ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', SnapshotId: pending })))).name).toBe('IncorrectState');
    s.sim.controls.setCopyRate(undefined);
    await wait([pending]);
  });

  it('createVolumePermission (both input forms, group all), reset, and read-only productCodes from the volume', async () => {
    const v = await volume();
    const meta = s.sim.catalog.getVolume(v)!;
    s.sim.catalog.setVolume({ ...meta, productCodes: [{ productCodeId: 'abcd1234efgh5678ijkl9012', productCodeType: 'marketplace' }] });
    const id = (await snapshot(v)).SnapshotId!;
    await ec2.send(new CreateTagsCommand({ Resources: [id, v], Tags: [{ Key: 'shared', Value: 'maybe' }] }));
    const tags = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'key', Values: ['shared'] }, { Name: 'resource-type', Values: ['snapshot'] }] }));
    expect(tags.Tags).toEqual([{ ResourceId: id, ResourceType: 'snapshot', Key: 'shared', Value: 'maybe' }]);
    const attr = async (Attribute: 'createVolumePermission' | 'productCodes') => ec2.send(new DescribeSnapshotAttributeCommand({ SnapshotId: id, Attribute }));
    expect((await attr('productCodes')).ProductCodes).toEqual([{ ProductCodeId: 'abcd1234efgh5678ijkl9012', ProductCodeType: 'marketplace' }]);
    expect((await attr('createVolumePermission')).CreateVolumePermissions).toEqual([]);
    await ec2.send(new ModifySnapshotAttributeCommand({ SnapshotId: id, Attribute: 'createVolumePermission', OperationType: 'add', UserIds: ['111122223333'] }));
    await ec2.send(new ModifySnapshotAttributeCommand({ SnapshotId: id, CreateVolumePermission: { Add: [{ Group: 'all' }, { UserId: '444455556666' }] } }));
    expect((await attr('createVolumePermission')).CreateVolumePermissions).toEqual([{ Group: 'all' }, { UserId: '111122223333' }, { UserId: '444455556666' }]);
    expect((await ec2.send(new DescribeSnapshotsCommand({ RestorableByUserIds: ['all'], Filters: [{ Name: 'volume-id', Values: [v] }] }))).Snapshots!.map((x) => x.SnapshotId)).toEqual([id]);
    await ec2.send(new ModifySnapshotAttributeCommand({ SnapshotId: id, CreateVolumePermission: { Remove: [{ UserId: '111122223333' }] } }));
    expect((await attr('createVolumePermission')).CreateVolumePermissions).toEqual([{ Group: 'all' }, { UserId: '444455556666' }]);
    await ec2.send(new ResetSnapshotAttributeCommand({ SnapshotId: id, Attribute: 'createVolumePermission' }));
    expect((await attr('createVolumePermission')).CreateVolumePermissions).toEqual([]);
    let e = await ec2Error(ec2.send(new ModifySnapshotAttributeCommand({ SnapshotId: id, Attribute: 'productCodes', OperationType: 'add', UserIds: ['111122223333'] })));
    expect(e.name).toBe('InvalidParameterValue');
    e = await ec2Error(ec2.send(new ModifySnapshotAttributeCommand({ SnapshotId: id, CreateVolumePermission: { Add: [{ UserId: 'bob' }] } })));
    expect(e.name).toBe('InvalidParameterValue');
    e = await ec2Error(ec2.send(new ModifySnapshotAttributeCommand({ SnapshotId: id, CreateVolumePermission: { Add: [{ Group: 'all' }] }, OperationType: 'add', UserIds: ['111122223333'] })));
    expect(e.name).toBe('InvalidParameterCombination');
  });

  it('archive and restore tiers as state machines', async () => {
    const v = await volume();
    await putBytes(s.endpoint, v, 0, Buffer.from('tiered'));
    const id = (await snapshot(v)).SnapshotId!;
    await wait([id]);
    const status = async () => (await ec2.send(new DescribeSnapshotTierStatusCommand({ Filters: [{ Name: 'snapshot-id', Values: [id] }] }))).SnapshotTierStatuses![0]!;
    expect(await status()).toMatchObject({ SnapshotId: id, VolumeId: v, Status: 'completed', StorageTier: 'standard' });
    const started = await ec2.send(new ModifySnapshotTierCommand({ SnapshotId: id, StorageTier: 'archive' }));
    expect([started.SnapshotId, started.TieringStartTime instanceof Date]).toEqual([id, true]);
    expect(await status()).toMatchObject({ LastTieringOperationStatus: 'archival-in-progress', StorageTier: 'standard' });
    await s.sim.controls.advanceClock(1.05); // the tier change's second, on the simulated clock
    expect(await status()).toMatchObject({ LastTieringOperationStatus: 'archival-completed', StorageTier: 'archive', LastTieringProgress: 100, ArchivalCompleteTime: expect.any(Date) });
    expect((await ec2.send(new DescribeSnapshotsCommand({ Filters: [{ Name: 'storage-tier', Values: ['archive'] }, { Name: 'snapshot-id', Values: [id] }] }))).Snapshots).toHaveLength(1);
    expect((await ec2Error(ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', SnapshotId: id })))).name).toBe('IncorrectState');
    expect((await ec2Error(ec2.send(new ModifySnapshotTierCommand({ SnapshotId: id })))).name).toBe('IncorrectState');

    const temp = await ec2.send(new RestoreSnapshotTierCommand({ SnapshotId: id, TemporaryRestoreDays: 2 }));
    expect(temp).toMatchObject({ SnapshotId: id, RestoreDuration: 2, IsPermanentRestore: false });
    expect(await status()).toMatchObject({ LastTieringOperationStatus: 'temporary-restore-in-progress', StorageTier: 'archive' });
    await s.sim.controls.advanceClock(1.05); // the tier change's second, on the simulated clock
    const restoredTemp = (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] }))).Snapshots![0]!;
    expect(restoredTemp.StorageTier).toBe('archive');
    expect(restoredTemp.RestoreExpiryTime!.getTime() - Date.now()).toBeGreaterThan(47 * 3600 * 1000);
    const r = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', SnapshotId: id }))).VolumeId!;
    expect((await getBytes(s.endpoint, r, 0, 6)).toString()).toBe('tiered');
    // Two days later the temporary restore has expired: archived again, not restorable.
    await s.sim.controls.advanceClock(48 * 3600 + 60);
    expect((await ec2Error(ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', SnapshotId: id })))).name).toBe('IncorrectState');

    expect((await ec2.send(new RestoreSnapshotTierCommand({ SnapshotId: id, PermanentRestore: true }))).IsPermanentRestore).toBe(true);
    await s.sim.controls.advanceClock(1.05); // the tier change's second, on the simulated clock
    expect(await status()).toMatchObject({ LastTieringOperationStatus: 'permanent-restore-completed', StorageTier: 'standard' });
    expect((await ec2Error(ec2.send(new RestoreSnapshotTierCommand({ SnapshotId: id, PermanentRestore: true })))).name).toBe('IncorrectState');
    expect((await ec2Error(ec2.send(new RestoreSnapshotTierCommand({ SnapshotId: id })))).name).toBe('MissingParameter');
  });
});

describe('--snapshot-interval', () => {
  it('SnapshotCreationPerVolumeRateExceeded within the interval, per volume', async () => {
    const t = await startSimServer({ sim: { snapshotIntervalSeconds: 60 } });
    try {
      const c = t.client();
      const mk = async () => (await c.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
      const [a, b] = [await mk(), await mk()];
      await c.send(new CreateSnapshotCommand({ VolumeId: a }));
      const e = await ec2Error(c.send(new CreateSnapshotCommand({ VolumeId: a })));
      expect([e.name, e.$metadata.httpStatusCode]).toEqual(['SnapshotCreationPerVolumeRateExceeded', 400]);
      expect(e.message).toMatch(/Wait at least 60 seconds/);
      await c.send(new CreateSnapshotCommand({ VolumeId: b }));
    } finally {
      await t.close();
    }
  });
});
