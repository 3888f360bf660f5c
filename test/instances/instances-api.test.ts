/**
 * Instances through the JS SDK against a real server: RunInstances (root volume, block device
 * mappings, DeleteOnTermination, zones, tags, ClientToken), DescribeInstances (reservations,
 * filters, pagination), DescribeInstanceStatus, and EC2's state transitions over the clock,
 * including across a restart.
 */
import {
  CreateSnapshotCommand, CreateTagsCommand, DescribeInstancesCommand, DescribeInstanceStatusCommand, DescribeTagsCommand,
  DescribeVolumesCommand, RebootInstancesCommand, RunInstancesCommand, StartInstancesCommand, StopInstancesCommand,
  TerminateInstancesCommand, type EC2Client, type Instance,
} from '@aws-sdk/client-ec2';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Simulator } from '../../src/simulator.js';
import { ec2Error } from '../support/ec2-error.js';
import { startSimServer, type SimServer } from '../support/sim-server.js';
import { tempDir } from '../support/temp-dir.js';
import { eventually, launch } from './guest-client.js';

let s: SimServer;
let ec2: EC2Client;

beforeAll(async () => {
  s = await startSimServer({ sim: { instanceStateMs: 0, attachmentMs: 0 } });
  ec2 = s.client();
});
afterAll(() => s?.close());

const describeOne = async (client: EC2Client, id: string): Promise<Instance> =>
  (await client.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!;

describe('RunInstances', () => {
  it('launches MaxCount instances, each with an 8 GiB gp2 root volume at /dev/sda1 in its zone', async () => {
    const r = await ec2.send(new RunInstancesCommand({
      ImageId: 'ami-0abcdef1234567890', MinCount: 2, MaxCount: 3, InstanceType: 'm5.large', KeyName: 'teacher',
      Placement: { AvailabilityZone: 'us-east-1b' },
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'lab' }] }, { ResourceType: 'volume', Tags: [{ Key: 'disk', Value: 'lab' }] }],
    }));
    expect(r.ReservationId).toMatch(/^r-[0-9a-f]{17}$/);
    expect(r.OwnerId).toBe('123456789012');
    expect(r.Instances).toHaveLength(3);
    for (const [n, i] of r.Instances!.entries()) {
      expect(i).toMatchObject({
        ImageId: 'ami-0abcdef1234567890', InstanceType: 'm5.large', KeyName: 'teacher', AmiLaunchIndex: n, RootDeviceName: '/dev/sda1',
        RootDeviceType: 'ebs', State: { Code: 0, Name: 'pending' }, Placement: { AvailabilityZone: 'us-east-1b' }, Tags: [{ Key: 'Name', Value: 'lab' }],
      });
      expect(i.InstanceId).toMatch(/^i-[0-9a-f]{17}$/);
      const [root] = i.BlockDeviceMappings!;
      expect(root).toMatchObject({ DeviceName: '/dev/sda1', Ebs: { Status: 'attached', DeleteOnTermination: true } });
      const v = (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [root!.Ebs!.VolumeId!] }))).Volumes![0]!;
      expect(v).toMatchObject({
        Size: 8, VolumeType: 'gp2', AvailabilityZone: 'us-east-1b', State: 'in-use', Tags: [{ Key: 'disk', Value: 'lab' }],
        Attachments: [{ InstanceId: i.InstanceId, Device: '/dev/sda1', State: 'attached', DeleteOnTermination: true }],
      });
    }
    // instanceStateMs is 0 here: Describe shows running at once.
    expect((await describeOne(ec2, r.Instances![0]!.InstanceId!)).State).toEqual({ Code: 16, Name: 'running' });
  });

  it('honours BlockDeviceMappings: a bigger root, extra volumes, one restored from a snapshot', async () => {
    const { instanceId: seedId, rootVolumeId } = await launch(ec2);
    const snap = await ec2.send(new CreateSnapshotCommand({ VolumeId: rootVolumeId }));
    await s.sim.engine.statuses.settled(snap.SnapshotId!);
    const r = await ec2.send(new RunInstancesCommand({
      ImageId: 'ami-12345678', MinCount: 1, MaxCount: 1,
      BlockDeviceMappings: [
        { DeviceName: '/dev/sda1', Ebs: { VolumeSize: 20, VolumeType: 'gp3' } },
        { DeviceName: '/dev/sdf', Ebs: { VolumeSize: 2, DeleteOnTermination: false } },
        { DeviceName: '/dev/sdg', Ebs: { SnapshotId: snap.SnapshotId } },
      ],
    }));
    const maps = r.Instances![0]!.BlockDeviceMappings!;
    expect(maps.map((m) => [m.DeviceName, m.Ebs!.DeleteOnTermination])).toEqual([['/dev/sda1', true], ['/dev/sdf', false], ['/dev/sdg', true]]);
    const vols = (await ec2.send(new DescribeVolumesCommand({ VolumeIds: maps.map((m) => m.Ebs!.VolumeId!) }))).Volumes!;
    const byId = new Map(vols.map((v) => [v.VolumeId, v]));
    expect(byId.get(maps[0]!.Ebs!.VolumeId)).toMatchObject({ Size: 20, VolumeType: 'gp3', Iops: 3000 });
    expect(byId.get(maps[1]!.Ebs!.VolumeId)).toMatchObject({ Size: 2, VolumeType: 'gp2' });
    expect(byId.get(maps[2]!.Ebs!.VolumeId)).toMatchObject({ Size: 8, SnapshotId: snap.SnapshotId });
    expect(seedId).not.toBe(r.Instances![0]!.InstanceId);
  });

  it('refuses bad launches before creating anything', async () => {
    const before = (await ec2.send(new DescribeVolumesCommand({}))).Volumes!.length;
    const cases: Array<[Partial<ConstructorParameters<typeof RunInstancesCommand>[0]>, string]> = [
      [{ MinCount: 3, MaxCount: 2 }, 'InvalidParameterValue'],
      [{ ImageId: undefined }, 'MissingParameter'],
      [{ BlockDeviceMappings: [{ DeviceName: '/dev/disk0', Ebs: { VolumeSize: 1 } }] }, 'InvalidParameterValue'],
      [{ BlockDeviceMappings: [{ DeviceName: '/dev/sdf', Ebs: {} }] }, 'MissingParameter'],
      [{ BlockDeviceMappings: [{ DeviceName: '/dev/sdf', Ebs: { SnapshotId: 'snap-0123456789abcdef0' } }] }, 'InvalidSnapshot.NotFound'],
      [{ Placement: { AvailabilityZone: 'eu-west-1a' } }, 'InvalidParameterValue'],
      [{ TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: 'a', Value: 'b' }] }] }, 'InvalidParameterValue'],
      [{ DryRun: true }, 'DryRunOperation'],
    ];
    for (const [input, code] of cases) {
      const e = await ec2Error(ec2.send(new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: 1, MaxCount: 1, ...input })));
      expect(e.name, JSON.stringify(input)).toBe(code);
    }
    expect((await ec2.send(new DescribeVolumesCommand({}))).Volumes!.length).toBe(before);
  });

  it('replays a ClientToken: same reservation; other parameters: IdempotentParameterMismatch', async () => {
    const input = { ImageId: 'ami-12345678', MinCount: 2, MaxCount: 2, ClientToken: 'launch-once' };
    const first = await ec2.send(new RunInstancesCommand(input));
    const again = await ec2.send(new RunInstancesCommand(input));
    expect(again.ReservationId).toBe(first.ReservationId);
    expect(again.Instances!.map((i) => i.InstanceId)).toEqual(first.Instances!.map((i) => i.InstanceId));
    const e = await ec2Error(ec2.send(new RunInstancesCommand({ ...input, InstanceType: 'c5.large' })));
    expect(e.name).toBe('IdempotentParameterMismatch');
  });
});

describe('DescribeInstances and DescribeInstanceStatus', () => {
  it('filters, pages reservations, and answers bad requests with EC2 codes', async () => {
    const mine: string[] = [];
    for (let n = 0; n < 6; n++) mine.push((await launch(ec2, { TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'batch', Value: 'paging' }] }] })).instanceId);
    const tagged = { Name: 'tag:batch', Values: ['paging'] };
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const p = await ec2.send(new DescribeInstancesCommand({ Filters: [tagged], MaxResults: 5, NextToken: token }));
      for (const r of p.Reservations!) seen.push(...r.Instances!.map((i) => i.InstanceId!));
      token = p.NextToken;
      pages++;
    } while (token);
    expect([pages, seen]).toEqual([2, mine]);

    const target = mine[2]!;
    const root = (await describeOne(ec2, target)).BlockDeviceMappings![0]!.Ebs!.VolumeId!;
    const byVolume = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'block-device-mapping.volume-id', Values: [root] }] }));
    expect(byVolume.Reservations!.flatMap((r) => r.Instances!.map((i) => i.InstanceId))).toEqual([target]);
    await ec2.send(new StopInstancesCommand({ InstanceIds: [target] }));
    const stopped = await ec2.send(new DescribeInstancesCommand({ Filters: [tagged, { Name: 'instance-state-name', Values: ['stopped'] }] }));
    expect(stopped.Reservations!.flatMap((r) => r.Instances!.map((i) => i.InstanceId))).toEqual([target]);

    // Status: running ones only, unless IncludeAllInstances.
    const running = await ec2.send(new DescribeInstanceStatusCommand({ InstanceIds: mine }));
    expect(running.InstanceStatuses!.map((x) => x.InstanceId)).toEqual(mine.filter((id) => id !== target));
    expect(running.InstanceStatuses![0]).toMatchObject({ InstanceState: { Name: 'running', Code: 16 }, InstanceStatus: { Status: 'ok' }, SystemStatus: { Status: 'ok' } });
    const all = await ec2.send(new DescribeInstanceStatusCommand({ InstanceIds: [target], IncludeAllInstances: true }));
    expect(all.InstanceStatuses![0]).toMatchObject({ InstanceState: { Name: 'stopped' }, InstanceStatus: { Status: 'not-applicable' } });

    const errors: Array<[Promise<unknown>, string]> = [
      [ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] })), 'InvalidInstanceID.NotFound'],
      [ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-xyz'] })), 'InvalidInstanceID.Malformed'],
      [ec2.send(new DescribeInstancesCommand({ InstanceIds: [target], MaxResults: 5 })), 'InvalidParameterCombination'],
      [ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'bogus', Values: ['x'] }] })), 'InvalidParameterValue'],
      [ec2.send(new DescribeInstanceStatusCommand({ MaxResults: 2 })), 'InvalidParameterValue'],
    ];
    for (const [call, code] of errors) expect((await ec2Error(call)).name).toBe(code);
  });

  it('tags instances with CreateTags; DescribeTags lists them', async () => {
    const { instanceId } = await launch(ec2);
    await ec2.send(new CreateTagsCommand({ Resources: [instanceId], Tags: [{ Key: 'owner', Value: 'class-3b' }] }));
    expect((await describeOne(ec2, instanceId)).Tags).toEqual([{ Key: 'owner', Value: 'class-3b' }]);
    const tags = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [instanceId] }] }));
    expect(tags.Tags).toEqual([{ ResourceId: instanceId, ResourceType: 'instance', Key: 'owner', Value: 'class-3b' }]);
  });
});

describe('state transitions', () => {
  it('pending → running → stopping → stopped → pending → running → shutting-down → terminated, over the clock', async () => {
    // Ten-minute transitions: they pass only when the simulated clock is advanced, no wall-clock wait.
    const slow = await startSimServer({ sim: { instanceStateMs: 600_000, attachmentMs: 0 } });
    const advance = () => slow.sim.controls.advanceClock(601);
    try {
      const c = slow.client();
      const state = async (id: string) => (await describeOne(c, id)).State!.Name;
      const { instanceId: id, rootVolumeId } = await launch(c, {
        BlockDeviceMappings: [{ DeviceName: '/dev/sdf', Ebs: { VolumeSize: 1, DeleteOnTermination: false } }],
      });
      const keep = (await describeOne(c, id)).BlockDeviceMappings!.find((b) => b.DeviceName === '/dev/sdf')!.Ebs!.VolumeId!;
      expect(await state(id)).toBe('pending');
      await advance();
      expect(await state(id)).toBe('running');

      const stop = await c.send(new StopInstancesCommand({ InstanceIds: [id] }));
      expect(stop.StoppingInstances).toEqual([{ InstanceId: id, PreviousState: { Code: 16, Name: 'running' }, CurrentState: { Code: 64, Name: 'stopping' } }]);
      expect((await ec2Error(c.send(new StartInstancesCommand({ InstanceIds: [id] })))).name).toBe('IncorrectInstanceState');
      expect((await ec2Error(c.send(new RebootInstancesCommand({ InstanceIds: [id] })))).name).toBe('IncorrectInstanceState');
      await advance();
      expect(await state(id)).toBe('stopped');
      const stopped = await describeOne(c, id);
      expect(stopped.StateTransitionReason).toMatch(/^User initiated \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d GMT\)$/);
      expect(stopped.StateReason).toEqual({ Code: 'Client.UserInitiatedShutdown', Message: 'Client.UserInitiatedShutdown: User initiated shutdown' });
      // Stopping a stopped instance changes nothing; its volumes stay attached.
      expect((await c.send(new StopInstancesCommand({ InstanceIds: [id] }))).StoppingInstances![0]!.CurrentState!.Name).toBe('stopped');
      expect((await c.send(new DescribeVolumesCommand({ VolumeIds: [rootVolumeId] }))).Volumes![0]!.State).toBe('in-use');

      const start = await c.send(new StartInstancesCommand({ InstanceIds: [id] }));
      expect(start.StartingInstances![0]).toMatchObject({ PreviousState: { Name: 'stopped' }, CurrentState: { Code: 0, Name: 'pending' } });
      await advance();
      expect(await state(id)).toBe('running');
      await c.send(new RebootInstancesCommand({ InstanceIds: [id] }));
      expect(await state(id)).toBe('running');

      const term = await c.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
      expect(term.TerminatingInstances![0]).toMatchObject({ PreviousState: { Name: 'running' }, CurrentState: { Code: 32, Name: 'shutting-down' } });
      expect((await c.send(new DescribeVolumesCommand({ VolumeIds: [keep] }))).Volumes![0]!.Attachments![0]!.State).toBe('detaching');
      expect((await ec2Error(c.send(new StopInstancesCommand({ InstanceIds: [id] })))).name).toBe('IncorrectInstanceState');
      await advance();
      expect(await state(id)).toBe('terminated');
      // DeleteOnTermination: the root goes, the data volume stays, detached.
      await eventually(() => c.send(new DescribeVolumesCommand({ VolumeIds: [rootVolumeId] })).then(() => false, (e: Error) => e.name === 'InvalidVolume.NotFound'));
      expect((await c.send(new DescribeVolumesCommand({ VolumeIds: [keep] }))).Volumes![0]).toMatchObject({ State: 'available', Attachments: [] });
      expect((await c.send(new TerminateInstancesCommand({ InstanceIds: [id] }))).TerminatingInstances![0]!.CurrentState!.Name).toBe('terminated');
      expect((await ec2Error(c.send(new StartInstancesCommand({ InstanceIds: [id] })))).name).toBe('IncorrectInstanceState');
    } finally {
      await slow.close();
    }
  });

  it('a restart loses nothing: states come from the clock, a pending termination still releases its volumes', async () => {
    const tmp = tempDir();
    const open = () => Simulator.open({ dataDir: join(tmp.dir, 'db'), objectStore: `fs:${join(tmp.dir, 'obj')}`, instanceStateMs: 60_000, attachmentMs: 0 });
    const ctx = { accountId: '123456789012', region: 'us-east-1' };
    let sim = await open();
    try {
      const r = await sim.services.instances.run(ctx, { imageId: 'ami-1', minCount: 2, maxCount: 2 });
      const [a, b] = r.instances.map((i) => i.instanceId);
      const rootOfB = r.instances[1]!.blockDeviceMappings[0]!.volumeId;
      await sim.services.instances.terminate(ctx, [b!]);
      expect(sim.catalog.getInstance(b!)!.released).toBeUndefined();
      await sim.close(); // before b's volumes were released
      sim = await open();
      const states = () => sim.services.instances.describe(ctx, { instanceIds: [a!, b!] }).items[0]!.instances.map((i) => i.state.name);
      // The clock says where each one is: still in transition a minute long, then past it.
      expect(states()).toEqual(['pending', 'shutting-down']);
      await sim.controls.advanceClock(61);
      expect(states()).toEqual(['running', 'terminated']);
      await eventually(() => sim.catalog.getVolume(rootOfB) === undefined);
      expect((await sim.store.fsck()).ok).toBe(true);
    } finally {
      await sim.close();
      tmp.remove();
    }
  });
});
