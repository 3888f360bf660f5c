import type { ActionTable } from './handler.js';
import { page } from './handler.js';
import { toAttachment, toInstanceStatus, toReservation, toStateChange } from './outputs.js';

export const INSTANCE_ACTIONS = {
  RunInstances: async (services, ctx, i) =>
    toReservation(await services.instances.run(ctx, {
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

  DescribeInstances: (services, ctx, i) => {
    const p = services.instances.describe(ctx, { instanceIds: i.InstanceIds, filters: i.Filters, ...page(i) });
    return { Reservations: p.items.map(toReservation), NextToken: p.nextToken };
  },

  DescribeInstanceStatus: (services, ctx, i) => {
    const p = services.instances.describeStatus(ctx, { instanceIds: i.InstanceIds, filters: i.Filters, includeAllInstances: i.IncludeAllInstances, ...page(i) });
    return { InstanceStatuses: p.items.map(toInstanceStatus), NextToken: p.nextToken };
  },

  StartInstances: async (services, ctx, i) => ({ StartingInstances: (await services.instances.start(ctx, i.InstanceIds)).map(toStateChange) }),
  StopInstances: async (services, ctx, i) => ({ StoppingInstances: (await services.instances.stop(ctx, i.InstanceIds)).map(toStateChange) }),
  TerminateInstances: async (services, ctx, i) => ({ TerminatingInstances: (await services.instances.terminate(ctx, i.InstanceIds)).map(toStateChange) }),

  RebootInstances: async (services, ctx, i) => {
    await services.instances.reboot(ctx, i.InstanceIds);
    return {};
  },

  AttachVolume: async (services, ctx, i) => toAttachment(await services.volumes.attach(ctx, { volumeId: i.VolumeId, instanceId: i.InstanceId, device: i.Device })),

  DetachVolume: async (services, ctx, i) =>
    toAttachment(await services.volumes.detach(ctx, { volumeId: i.VolumeId, instanceId: i.InstanceId, device: i.Device, force: i.Force })),
} satisfies ActionTable;
