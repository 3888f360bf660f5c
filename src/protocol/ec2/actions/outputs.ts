/** Simulator views → the EC2 output shapes the XML encoder renders. */
import type { ProductCode as ProductCodeMeta, Tag as TagMeta } from '../../../catalog/records.js';
import type { ModificationView, SnapshotView, TierStatusView, VolumeView } from '../../../catalog/views.js';
import type { ProductCode, Snapshot, SnapshotTierStatus, Tag, Volume, VolumeModification } from '../types.generated.js';

export const toTags = (tags: readonly TagMeta[]): Tag[] => tags.map((t) => ({ Key: t.key, Value: t.value }));

export const toProductCodes = (codes: readonly ProductCodeMeta[]): ProductCode[] =>
  codes.map((c) => ({ ProductCodeId: c.productCodeId, ProductCodeType: c.productCodeType }));

export function toVolume(v: VolumeView): Volume {
  return {
    VolumeId: v.volumeId,
    Size: v.sizeGiB,
    SnapshotId: v.snapshotId,
    AvailabilityZone: v.availabilityZone,
    AvailabilityZoneId: v.availabilityZoneId,
    State: v.state,
    CreateTime: v.createTime,
    // Always sent, even empty: the CLI shows "Attachments": [] only when <attachmentSet/> is there.
    Attachments: v.attachments.map((a) => ({
      VolumeId: a.volumeId, InstanceId: a.instanceId, Device: a.device, State: a.state, AttachTime: a.attachTime,
      DeleteOnTermination: a.deleteOnTermination,
    })),
    VolumeType: v.volumeType,
    Iops: v.iops,
    Throughput: v.throughput,
    Encrypted: v.encrypted,
    KmsKeyId: v.kmsKeyId,
    MultiAttachEnabled: v.multiAttachEnabled,
    VolumeInitializationRate: v.volumeInitializationRate,
    Tags: toTags(v.tags),
  };
}

export function toSnapshot(s: SnapshotView): Snapshot {
  return {
    SnapshotId: s.snapshotId,
    VolumeId: s.volumeId,
    State: s.state,
    StateMessage: s.stateMessage,
    StartTime: s.startTime,
    Progress: s.progress,
    CompletionTime: s.completionTime,
    OwnerId: s.ownerId,
    Description: s.description,
    VolumeSize: s.volumeSizeGiB,
    Encrypted: s.encrypted,
    KmsKeyId: s.kmsKeyId,
    StorageTier: s.storageTier,
    RestoreExpiryTime: s.restoreExpiryTime,
    Tags: toTags(s.tags),
  };
}

export function toModification(m: ModificationView): VolumeModification {
  return {
    VolumeId: m.volumeId,
    ModificationState: m.modificationState,
    StatusMessage: m.statusMessage,
    TargetSize: m.targetSize,
    TargetIops: m.targetIops,
    TargetVolumeType: m.targetVolumeType,
    TargetThroughput: m.targetThroughput,
    TargetMultiAttachEnabled: m.targetMultiAttachEnabled,
    OriginalSize: m.originalSize,
    OriginalIops: m.originalIops,
    OriginalVolumeType: m.originalVolumeType,
    OriginalThroughput: m.originalThroughput,
    OriginalMultiAttachEnabled: m.originalMultiAttachEnabled,
    Progress: m.progress,
    StartTime: m.startTime,
    EndTime: m.endTime,
  };
}

export function toTierStatus(t: TierStatusView): SnapshotTierStatus {
  return {
    SnapshotId: t.snapshotId,
    VolumeId: t.volumeId,
    Status: t.state,
    OwnerId: t.ownerId,
    Tags: toTags(t.tags),
    StorageTier: t.storageTier,
    LastTieringStartTime: t.lastTieringStartTime,
    LastTieringProgress: t.lastTieringProgress,
    LastTieringOperationStatus: t.lastTieringOperationStatus,
    LastTieringOperationStatusDetail: t.lastTieringOperationStatusDetail,
    ArchivalCompleteTime: t.archivalCompleteTime,
    RestoreExpiryTime: t.restoreExpiryTime,
  };
}
