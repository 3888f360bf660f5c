/**
 * `--timing instant`: every change EC2 makes asynchronously is finished before the answer, as
 * suites written for moto expect, with nothing faked: the snapshot's bytes were really copied.
 */
import { randomBytes } from 'node:crypto';
import {
  AttachVolumeCommand, CopySnapshotCommand, CreateSnapshotCommand, CreateSnapshotsCommand, CreateVolumeCommand, DescribeSnapshotsCommand,
  DescribeSnapshotTierStatusCommand, DescribeVolumesCommand, DetachVolumeCommand, ModifySnapshotTierCommand, RunInstancesCommand, StopInstancesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
});
