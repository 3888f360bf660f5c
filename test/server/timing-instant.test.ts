/**
 * `--timing instant`: every change EC2 makes asynchronously is finished before the answer, as
 * suites written for moto expect, with nothing faked: the snapshot's bytes were really copied.
 */
import { randomBytes } from 'node:crypto';
import {
  AttachVolumeCommand, CopySnapshotCommand, CreateSnapshotCommand, CreateSnapshotsCommand, CreateVolumeCommand, DeleteSnapshotCommand, DescribeSnapshotsCommand,
  DescribeSnapshotTierStatusCommand, DescribeVolumesCommand, DetachVolumeCommand, ModifySnapshotTierCommand, RunInstancesCommand, StopInstancesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { manifestKey } from '../../src/copy/manifest.js';
import { parseFaultPlan } from '../../src/simulator.js';
import { getBytes, putBytes, startSimServer, type SimServer } from '../support/sim-server.js';

let instant: SimServer;
let aws: SimServer;
let ec2: EC2Client;
beforeAll(async () => {
  instant = await startSimServer({ sim: { timing: 'instant' } });
  aws = await startSimServer();
  ec2 = instant.client();
});
afterAll(async () => {
  await instant?.close();
  await aws?.close();
});

describe('--timing instant', () => {
  it('volumes, attachments and instances answer their final states', async () => {
    const vol = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }));
    expect(vol.State).toBe('available');
    const run = await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: 1, MaxCount: 1, Placement: { AvailabilityZone: 'us-east-1a' } }));
    const instanceId = run.Instances![0]!.InstanceId!;
    expect(run.Instances![0]!.State?.Name).toBe('running');
    const attach = await ec2.send(new AttachVolumeCommand({ VolumeId: vol.VolumeId!, InstanceId: instanceId, Device: '/dev/sdf' }));
    expect(attach.State).toBe('attached');
    expect((await ec2.send(new DescribeVolumesCommand({ VolumeIds: [vol.VolumeId!] }))).Volumes![0]!.State).toBe('in-use');
    const detach = await ec2.send(new DetachVolumeCommand({ VolumeId: vol.VolumeId! }));
    expect(detach.State).toBe('detached');
    expect((await ec2.send(new DescribeVolumesCommand({ VolumeIds: [vol.VolumeId!] }))).Volumes![0]!.State).toBe('available');
    const stop = await ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] }));
    expect(stop.StoppingInstances![0]!.CurrentState?.Name).toBe('stopped');
  });

  it('CreateSnapshot, CreateSnapshots and CopySnapshot answer completed, and the bytes are the snapshot instant\'s', async () => {
    const vol = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
    const data = randomBytes(3 * 512 * 1024 + 5);
    expect((await putBytes(instant.endpoint, vol, 0, data)).status).toBe(200);
    const snap = await ec2.send(new CreateSnapshotCommand({ VolumeId: vol }));
    expect(snap).toMatchObject({ State: 'completed', Progress: '100%' });
    await putBytes(instant.endpoint, vol, 0, randomBytes(data.length)); // after the instant: not in it
    const copy = await ec2.send(new CopySnapshotCommand({ SourceSnapshotId: snap.SnapshotId!, SourceRegion: 'us-east-1' }));
    expect((await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [copy.SnapshotId!] }))).Snapshots![0]).toMatchObject({ State: 'completed', Progress: '100%' });
    const restored = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', SnapshotId: copy.SnapshotId! }))).VolumeId!;
    expect((await getBytes(instant.endpoint, restored, 0, data.length)).equals(data)).toBe(true);

    // Tier changes finish at once too.
    await ec2.send(new ModifySnapshotTierCommand({ SnapshotId: snap.SnapshotId!, StorageTier: 'archive' }));
    const tier = (await ec2.send(new DescribeSnapshotTierStatusCommand({ Filters: [{ Name: 'snapshot-id', Values: [snap.SnapshotId!] }] }))).SnapshotTierStatuses![0]!;
    expect(tier).toMatchObject({ StorageTier: 'archive', LastTieringOperationStatus: 'archival-completed' });

    const run = await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: 1, MaxCount: 1, Placement: { AvailabilityZone: 'us-east-1a' } }));
    const set = await ec2.send(new CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: run.Instances![0]!.InstanceId! } }));
    expect(set.Snapshots!.map((s) => [s.State, s.Progress])).toEqual(set.Snapshots!.map(() => ['completed', '100%']));
  });

  it('the default timing keeps EC2\'s asynchronous answers', async () => {
    const c = aws.client();
    const vol = await c.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }));
    expect(vol.State).toBe('creating');
    await putBytes(aws.endpoint, vol.VolumeId!, 0, randomBytes(4 * 512 * 1024));
    expect((await c.send(new CreateSnapshotCommand({ VolumeId: vol.VolumeId! }))).State).toBe('pending');
    const run = await c.send(new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: 1, MaxCount: 1 }));
    expect(run.Instances![0]!.State?.Name).toBe('pending');
  });

  it('DeleteSnapshot answers once recorded, as EC2 does, with its data going after; under instant, before', async () => {
    const s = await startSimServer({ sim: { faultInjection: true } });
    try {
      const c = s.client();
      const manifestGone = (server: SimServer, id: string) => !existsSync(join(server.dir, 'objects', manifestKey(id)));
      const snapshotOf = async (server: SimServer, client: EC2Client) => {
        const vol = (await client.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
        await putBytes(server.endpoint, vol, 0, randomBytes(512 * 1024));
        const id = (await client.send(new CreateSnapshotCommand({ VolumeId: vol }))).SnapshotId!;
        await server.sim.engine.statuses.settled(id);
        expect(manifestGone(server, id)).toBe(false);
        return id;
      };
      // The store's deletes hang: the call still answers, and the snapshot is gone for callers.
      const id = await snapshotOf(s, c);
      s.sim.controls.setObjectStoreFaults(parseFaultPlan({ operations: ['delete'], hang: true }));
      await c.send(new DeleteSnapshotCommand({ SnapshotId: id }));
      await expect(c.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] }))).rejects.toMatchObject({ Code: 'InvalidSnapshot.NotFound' });
      expect(manifestGone(s, id)).toBe(false);
      s.sim.controls.setObjectStoreFaults(undefined); // the hung delete is retried
      await vi.waitFor(() => expect(manifestGone(s, id)).toBe(true), { timeout: 30_000, interval: 50 });

      const early = await snapshotOf(instant, ec2);
      await ec2.send(new DeleteSnapshotCommand({ SnapshotId: early }));
      expect(manifestGone(instant, early)).toBe(true);
    } finally {
      await s.close();
    }
  });
});
