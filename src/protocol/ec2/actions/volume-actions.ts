import type { ActionTable } from './handler.js';
import { page } from './handler.js';
import { toModification, toVolume } from './outputs.js';

export const VOLUME_ACTIONS = {
  CreateVolume: async (services, ctx, i) =>
    toVolume(await services.volumes.create(ctx, {
      availabilityZone: i.AvailabilityZone, availabilityZoneId: i.AvailabilityZoneId, sizeGiB: i.Size, snapshotId: i.SnapshotId,
      volumeType: i.VolumeType, iops: i.Iops, throughput: i.Throughput, encrypted: i.Encrypted, kmsKeyId: i.KmsKeyId,
      multiAttachEnabled: i.MultiAttachEnabled, tagSpecifications: i.TagSpecifications, clientToken: i.ClientToken,
      volumeInitializationRate: i.VolumeInitializationRate, outpostArn: i.OutpostArn,
    })),

  DeleteVolume: async (services, ctx, i) => {
    await services.volumes.delete(ctx, i.VolumeId);
    return {};
  },

  DescribeVolumes: (services, ctx, i) => {
    const p = services.volumes.describe(ctx, { volumeIds: i.VolumeIds, filters: i.Filters, ...page(i) });
    return { Volumes: p.items.map(toVolume), NextToken: p.nextToken };
  },

  ModifyVolume: async (services, ctx, i) => ({
    VolumeModification: toModification(await services.volumes.modify(ctx, {
      volumeId: i.VolumeId, sizeGiB: i.Size, volumeType: i.VolumeType, iops: i.Iops, throughput: i.Throughput, multiAttachEnabled: i.MultiAttachEnabled,
    })),
  }),

  DescribeVolumesModifications: (services, ctx, i) => {
    const p = services.volumes.describeModifications(ctx, { volumeIds: i.VolumeIds, filters: i.Filters, ...page(i) });
    return { VolumesModifications: p.items.map(toModification), NextToken: p.nextToken };
  },
} satisfies ActionTable;
