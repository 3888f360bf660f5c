import type { ActionTable } from './handler.js';
import { page } from './handler.js';
import { toAttachment, toInstanceStatus, toReservation, toStateChange } from './outputs.js';

export const INSTANCE_ACTIONS = {
  RunInstances: async (sim, ctx, i) =>
    toReservation(await sim.runInstances(ctx, {
      imageId: i.ImageId, instanceType: i.InstanceType, minCount: i.MinCount, maxCount: i.MaxCount, keyName: i.KeyName,
      availabilityZone: i.Placement?.AvailabilityZone, availabilityZoneId: i.Placement?.AvailabilityZoneId,
      blockDeviceMappings: i.BlockDeviceMappings?.map((m) => ({
        deviceName: m.DeviceName, noDevice: m.NoDevice, virtualName: m.VirtualName,
        ebs: m.Ebs && {
          volumeSize: m.Ebs.VolumeSize, volumeType: m.Ebs.VolumeType, snapshotId: m.Ebs.SnapshotId, iops: m.Ebs.Iops, throughput: m.Ebs.Throughput,
          encrypted: m.Ebs.Encrypted, kmsKeyId: m.Ebs.KmsKeyId, deleteOnTermination: m.Ebs.DeleteOnTermination,
        },
      })),
      tagSpecifications: i.TagSpecifications, clientToken: i.ClientToken,
    })),

  DescribeInstances: (sim, ctx, i) => {
    const p = sim.describeInstances(ctx, { instanceIds: i.InstanceIds, filters: i.Filters, ...page(i) });
    return { Reservations: p.items.map(toReservation), NextToken: p.nextToken };
  },

  DescribeInstanceStatus: (sim, ctx, i) => {
    const p = sim.describeInstanceStatus(ctx, { instanceIds: i.InstanceIds, filters: i.Filters, includeAllInstances: i.IncludeAllInstances, ...page(i) });
    return { InstanceStatuses: p.items.map(toInstanceStatus), NextToken: p.nextToken };
  },

  StartInstances: async (sim, ctx, i) => ({ StartingInstances: (await sim.startInstances(ctx, i.InstanceIds)).map(toStateChange) }),
  StopInstances: async (sim, ctx, i) => ({ StoppingInstances: (await sim.stopInstances(ctx, i.InstanceIds)).map(toStateChange) }),
  TerminateInstances: async (sim, ctx, i) => ({ TerminatingInstances: (await sim.terminateInstances(ctx, i.InstanceIds)).map(toStateChange) }),

  RebootInstances: async (sim, ctx, i) => {
    await sim.rebootInstances(ctx, i.InstanceIds);
    return {};
  },

  AttachVolume: async (sim, ctx, i) => toAttachment(await sim.attachVolume(ctx, { volumeId: i.VolumeId, instanceId: i.InstanceId, device: i.Device })),

  DetachVolume: async (sim, ctx, i) =>
    toAttachment(await sim.detachVolume(ctx, { volumeId: i.VolumeId, instanceId: i.InstanceId, device: i.Device, force: i.Force })),
} satisfies ActionTable;
