import type { ActionTable } from './handler.js';
import { page } from './handler.js';
import { toModification, toVolume } from './outputs.js';

export const VOLUME_ACTIONS = {
  CreateVolume: async (sim, ctx, i) =>
    toVolume(await sim.createVolume(ctx, {
      availabilityZone: i.AvailabilityZone, availabilityZoneId: i.AvailabilityZoneId, sizeGiB: i.Size, snapshotId: i.SnapshotId,
      volumeType: i.VolumeType, iops: i.Iops, throughput: i.Throughput, encrypted: i.Encrypted, kmsKeyId: i.KmsKeyId,
      multiAttachEnabled: i.MultiAttachEnabled, tagSpecifications: i.TagSpecifications, clientToken: i.ClientToken,
      volumeInitializationRate: i.VolumeInitializationRate, outpostArn: i.OutpostArn,
    })),

  DeleteVolume: async (sim, ctx, i) => {
    await sim.deleteVolume(ctx, i.VolumeId);
    return {};
  },

  DescribeVolumes: (sim, ctx, i) => {
    const p = sim.describeVolumes(ctx, { volumeIds: i.VolumeIds, filters: i.Filters, ...page(i) });
    return { Volumes: p.items.map(toVolume), NextToken: p.nextToken };
  },

  ModifyVolume: async (sim, ctx, i) => ({
    VolumeModification: toModification(await sim.modifyVolume(ctx, {
      volumeId: i.VolumeId, sizeGiB: i.Size, volumeType: i.VolumeType, iops: i.Iops, throughput: i.Throughput, multiAttachEnabled: i.MultiAttachEnabled,
    })),
  }),

  DescribeVolumesModifications: (sim, ctx, i) => {
    const p = sim.describeVolumesModifications(ctx, { volumeIds: i.VolumeIds, filters: i.Filters, ...page(i) });
    return { VolumesModifications: p.items.map(toModification), NextToken: p.nextToken };
  },
} satisfies ActionTable;
