import type { ActionTable } from './handler.js';
import { page } from './handler.js';
import { toProductCodes, toSnapshot, toSnapshotInfo, toTags, toTierStatus } from './outputs.js';

const permissions = (list: Array<{ UserId?: string; Group?: string }> | undefined) => list?.map((p) => ({ userId: p.UserId, group: p.Group }));

export const SNAPSHOT_ACTIONS = {
  CreateSnapshot: async (services, ctx, i) =>
    toSnapshot(await services.snapshots.create(ctx, {
      volumeId: i.VolumeId, description: i.Description, tagSpecifications: i.TagSpecifications, outpostArn: i.OutpostArn,
    })),

  // Crash-consistent snapshots of an instance's volumes, frozen together.
  CreateSnapshots: async (services, ctx, i) => ({
    Snapshots: (await services.snapshots.createSet(ctx, {
      instanceId: i.InstanceSpecification.InstanceId, excludeBootVolume: i.InstanceSpecification.ExcludeBootVolume,
      excludeDataVolumeIds: i.InstanceSpecification.ExcludeDataVolumeIds, description: i.Description,
      tagSpecifications: i.TagSpecifications, copyTagsFromSource: i.CopyTagsFromSource, outpostArn: i.OutpostArn,
    })).map(toSnapshotInfo),
  }),

  DescribeSnapshots: (services, ctx, i) => {
    const p = services.snapshots.describe(ctx, {
      snapshotIds: i.SnapshotIds, ownerIds: i.OwnerIds, restorableByUserIds: i.RestorableByUserIds, filters: i.Filters, ...page(i),
    });
    return { Snapshots: p.items.map(toSnapshot), NextToken: p.nextToken };
  },

  DeleteSnapshot: async (services, ctx, i) => {
    await services.snapshots.delete(ctx, i.SnapshotId);
    return {};
  },

  // PresignedUrl (which both SDKs add by themselves) is not needed: the source region's state is here.
  CopySnapshot: async (services, ctx, i) => {
    const copy = await services.snapshots.copy(ctx, {
      sourceSnapshotId: i.SourceSnapshotId, sourceRegion: i.SourceRegion, destinationRegion: i.DestinationRegion,
      description: i.Description, encrypted: i.Encrypted, kmsKeyId: i.KmsKeyId, tagSpecifications: i.TagSpecifications,
      completionDurationMinutes: i.CompletionDurationMinutes, destinationOutpostArn: i.DestinationOutpostArn,
    });
    return { SnapshotId: copy.snapshotId, Tags: toTags(copy.tags) };
  },

  ModifySnapshotAttribute: async (services, ctx, i) => {
    await services.snapshots.modifyAttribute(ctx, {
      snapshotId: i.SnapshotId, attribute: i.Attribute, operationType: i.OperationType, userIds: i.UserIds, groupNames: i.GroupNames,
      createVolumePermission: i.CreateVolumePermission && {
        add: permissions(i.CreateVolumePermission.Add), remove: permissions(i.CreateVolumePermission.Remove),
      },
    });
    return {};
  },

  DescribeSnapshotAttribute: (services, ctx, i) => {
    const a = services.snapshots.describeAttribute(ctx, { snapshotId: i.SnapshotId, attribute: i.Attribute });
    return {
      SnapshotId: a.snapshotId,
      CreateVolumePermissions: a.createVolumePermissions?.map((p) => ({ UserId: p.userId, Group: p.group })),
      ProductCodes: a.productCodes && toProductCodes(a.productCodes),
    };
  },

  ResetSnapshotAttribute: async (services, ctx, i) => {
    await services.snapshots.resetAttribute(ctx, { snapshotId: i.SnapshotId, attribute: i.Attribute });
    return {};
  },

  ModifySnapshotTier: async (services, ctx, i) => {
    const r = await services.snapshots.modifyTier(ctx, { snapshotId: i.SnapshotId, storageTier: i.StorageTier });
    return { SnapshotId: r.snapshotId, TieringStartTime: r.tieringStartTime };
  },

  RestoreSnapshotTier: async (services, ctx, i) => {
    const r = await services.snapshots.restoreTier(ctx, { snapshotId: i.SnapshotId, temporaryRestoreDays: i.TemporaryRestoreDays, permanentRestore: i.PermanentRestore });
    return { SnapshotId: r.snapshotId, RestoreStartTime: r.restoreStartTime, RestoreDuration: r.restoreDuration, IsPermanentRestore: r.isPermanentRestore };
  },

  DescribeSnapshotTierStatus: (services, ctx, i) => {
    const p = services.snapshots.describeTierStatus(ctx, { filters: i.Filters, ...page(i) });
    return { SnapshotTierStatuses: p.items.map(toTierStatus), NextToken: p.nextToken };
  },
} satisfies ActionTable;
