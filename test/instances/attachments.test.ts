/**
 * AttachVolume and DetachVolume through the JS SDK: attaching → attached, detaching → gone over
 * the clock; DescribeVolumes' attachmentSet and `attachment.*` filters; DescribeInstances' block
 * device mappings; every error code of the issue; DeleteVolume refusing an attached volume.
 */
import {
  AttachVolumeCommand, CreateVolumeCommand, DeleteVolumeCommand, DescribeInstancesCommand, DescribeVolumesCommand,
  DetachVolumeCommand, StopInstancesCommand, TerminateInstancesCommand, type EC2Client,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ec2Error } from '../support/ec2-error.js';
import { startSimServer, type SimServer } from '../support/sim-server.js';
import { launch } from './guest-client.js';

let s: SimServer;
let ec2: EC2Client;

beforeAll(async () => {
  // Ten-minute attachment transitions: they pass only when a test advances the simulated clock.
  s = await startSimServer({ sim: { instanceStateMs: 0, attachmentMs: 600_000 } });
  ec2 = s.client();
});
afterAll(() => s?.close());

const volume = async (zone = 'us-east-1a', extra: Record<string, unknown> = {}) =>
  (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: zone, Size: 4, ...extra }))).VolumeId!;
const describeVolume = async (id: string) => (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [id] }))).Volumes![0]!;

describe('AttachVolume / DetachVolume', () => {
  it('attaching → attached → detaching → available, seen by DescribeVolumes and DescribeInstances', async () => {
    const { instanceId } = await launch(ec2);
    const v = await volume();
    const att = await ec2.send(new AttachVolumeCommand({ VolumeId: v, InstanceId: instanceId, Device: '/dev/sdf' }));
    expect(att).toMatchObject({ VolumeId: v, InstanceId: instanceId, Device: '/dev/sdf', State: 'attaching' });
    expect(att.AttachTime).toBeInstanceOf(Date);
    expect(await describeVolume(v)).toMatchObject({ State: 'in-use', Attachments: [{ State: 'attaching', InstanceId: instanceId, Device: '/dev/sdf', DeleteOnTermination: false }] });
    await s.sim.controls.advanceClock(601);
    expect((await describeVolume(v)).Attachments![0]!.State).toBe('attached');
    const maps = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }))).Reservations![0]!.Instances![0]!.BlockDeviceMappings!;
    expect(maps.map((m) => [m.DeviceName, m.Ebs!.VolumeId, m.Ebs!.Status])).toContainEqual(['/dev/sdf', v, 'attached']);

    // DeleteVolume refuses an attached volume, and one still detaching.
    expect((await ec2Error(ec2.send(new DeleteVolumeCommand({ VolumeId: v })))).name).toBe('VolumeInUse');
    const det = await ec2.send(new DetachVolumeCommand({ VolumeId: v }));
    expect(det).toMatchObject({ VolumeId: v, InstanceId: instanceId, Device: '/dev/sdf', State: 'detaching' });
    expect(await describeVolume(v)).toMatchObject({ State: 'in-use', Attachments: [{ State: 'detaching' }] });
    expect((await ec2Error(ec2.send(new DeleteVolumeCommand({ VolumeId: v })))).name).toBe('VolumeInUse');
    await s.sim.controls.advanceClock(601);
    expect(await describeVolume(v)).toMatchObject({ State: 'available', Attachments: [] });
    await ec2.send(new DeleteVolumeCommand({ VolumeId: v }));
  });

  it('DescribeVolumes filters on attachment.*', async () => {
    const { instanceId, rootVolumeId } = await launch(ec2);
    const v = await volume();
    await ec2.send(new AttachVolumeCommand({ VolumeId: v, InstanceId: instanceId, Device: '/dev/xvdh' }));
    const ids = async (Name: string, Values: string[]) =>
      (await ec2.send(new DescribeVolumesCommand({ Filters: [{ Name, Values }, { Name: 'attachment.instance-id', Values: [instanceId] }] }))).Volumes!.map((x) => x.VolumeId).sort();
    // First, while v is still attaching (for 1.5 s).
    expect(await ids('attachment.status', ['attaching'])).toEqual([v]);
    expect(await ids('attachment.status', ['attached'])).toEqual([rootVolumeId]);
    expect(await ids('attachment.instance-id', [instanceId])).toEqual([rootVolumeId, v].sort());
    expect(await ids('attachment.device', ['/dev/xvdh'])).toEqual([v]);
    expect(await ids('attachment.delete-on-termination', ['true'])).toEqual([rootVolumeId]);
    expect(await ids('attachment.attach-time', ['20*'])).toEqual([rootVolumeId, v].sort());
    expect(await ids('status', ['in-use'])).toEqual([rootVolumeId, v].sort());
  });

  it('answers VolumeInUse, InvalidVolume.ZoneMismatch, InvalidInstanceID.*, InvalidAttachment.NotFound, IncorrectState', async () => {
    const { instanceId: a, rootVolumeId } = await launch(ec2);
    const { instanceId: b } = await launch(ec2);
    const { instanceId: far } = await launch(ec2, { Placement: { AvailabilityZone: 'us-east-1c' } });
    const v = await volume();
    await ec2.send(new AttachVolumeCommand({ VolumeId: v, InstanceId: a, Device: '/dev/sdf' }));
    const attach = (VolumeId: string, InstanceId: string, Device = '/dev/sdg') => ec2Error(ec2.send(new AttachVolumeCommand({ VolumeId, InstanceId, Device })));
    const detach = (input: { VolumeId: string; InstanceId?: string; Device?: string }) => ec2Error(ec2.send(new DetachVolumeCommand(input)));
    const cases: Array<[Promise<{ name: string }>, string]> = [
      [attach(v, b), 'VolumeInUse'],
      [attach(v, a, '/dev/sdh'), 'VolumeInUse'],
      [attach(await volume(), far), 'InvalidVolume.ZoneMismatch'],
      [attach(await volume(), 'i-0123456789abcdef0'), 'InvalidInstanceID.NotFound'],
      [attach(await volume(), 'i-nope'), 'InvalidInstanceID.Malformed'],
      [attach('vol-0123456789abcdef0', a), 'InvalidVolume.NotFound'],
      [attach(await volume(), a, '/dev/sdf'), 'InvalidParameterValue'], // the device is taken
      [attach(await volume(), a, 'sdz'), 'InvalidParameterValue'],
      [detach({ VolumeId: v, InstanceId: b }), 'InvalidAttachment.NotFound'],
      [detach({ VolumeId: v, Device: '/dev/sdq' }), 'InvalidAttachment.NotFound'],
      [detach({ VolumeId: v, InstanceId: 'i-0123456789abcdef0' }), 'InvalidInstanceID.NotFound'],
      [detach({ VolumeId: await volume() }), 'IncorrectState'],
      [detach({ VolumeId: rootVolumeId }), 'IncorrectState'], // the root of a running instance
    ];
    for (const [call, code] of cases) expect((await call).name).toBe(code);
    expect((await describeVolume(v)).Attachments).toHaveLength(1);

    // A terminated instance takes no volume; a stopped one does, and its root may then be detached.
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [b] }));
    expect((await attach(await volume(), b)).name).toBe('IncorrectInstanceState');
    await ec2.send(new StopInstancesCommand({ InstanceIds: [a] }));
    await ec2.send(new AttachVolumeCommand({ VolumeId: await volume(), InstanceId: a, Device: '/dev/sdj' }));
    expect((await ec2.send(new DetachVolumeCommand({ VolumeId: rootVolumeId }))).State).toBe('detaching');
  });

  it('Multi-Attach: an io2 volume on two instances; detaching it needs InstanceId', async () => {
    const { instanceId: a } = await launch(ec2);
    const { instanceId: b } = await launch(ec2);
    const v = await volume('us-east-1a', { VolumeType: 'io2', Iops: 1000, MultiAttachEnabled: true });
    await ec2.send(new AttachVolumeCommand({ VolumeId: v, InstanceId: a, Device: '/dev/sdf' }));
    await ec2.send(new AttachVolumeCommand({ VolumeId: v, InstanceId: b, Device: '/dev/sdf' }));
    expect((await describeVolume(v)).Attachments!.map((x) => x.InstanceId).sort()).toEqual([a, b].sort());
    expect((await ec2Error(ec2.send(new DetachVolumeCommand({ VolumeId: v })))).name).toBe('InvalidParameterCombination');
    await ec2.send(new DetachVolumeCommand({ VolumeId: v, InstanceId: a, Force: true }));
    await s.sim.controls.advanceClock(601);
    expect((await describeVolume(v)).Attachments).toHaveLength(1);
    expect((await describeVolume(v)).Attachments![0]!.InstanceId).toBe(b);
  });
});
