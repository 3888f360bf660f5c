/** Simulator views → the EC2 output shapes the XML encoder renders. */
import type { ProductCode as ProductCodeMeta, Tag as TagMeta } from '../../../service/state/resource-records.js';
import type {
  AttachmentView, InstanceStateChangeView, InstanceStatusView, InstanceView, ModificationView, ReservationView, SnapshotView, TierStatusView, VolumeView,
} from '../../../service/state/views.js';
import { reachability } from '../../../service/state/filter-tables.js';
import type {
  Instance, InstanceStateChange, InstanceStatus, InstanceStatusSummary, InstanceType, ProductCode, Reservation, Snapshot, SnapshotInfo,
  SnapshotTierStatus, Tag, Volume, VolumeAttachment, VolumeModification,
} from '../types.generated.js';

export const toTags = (tags: readonly TagMeta[]): Tag[] => tags.map((t) => ({ Key: t.key, Value: t.value }));
/** AWS omits an untagged volume's or instance's tagSet (boto3 shows `tags` as None); snapshots keep an empty one. */
const toTagsOrNone = (tags: readonly TagMeta[]): Tag[] | undefined => (tags.length === 0 ? undefined : toTags(tags));

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
    Attachments: v.attachments.map(toAttachment),
    VolumeType: v.volumeType,
    Iops: v.iops,
    Throughput: v.throughput,
    Encrypted: v.encrypted,
    KmsKeyId: v.kmsKeyId,
    MultiAttachEnabled: v.multiAttachEnabled,
    VolumeInitializationRate: v.volumeInitializationRate,
    Tags: toTagsOrNone(v.tags),
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

export function toAttachment(a: AttachmentView): VolumeAttachment {
  return {
    VolumeId: a.volumeId, InstanceId: a.instanceId, Device: a.device, State: a.state, AttachTime: a.attachTime, DeleteOnTermination: a.deleteOnTermination,
  };
}

export function toSnapshotInfo(s: SnapshotView): SnapshotInfo {
  return {
    SnapshotId: s.snapshotId,
    VolumeId: s.volumeId,
    State: s.state,
    StartTime: s.startTime,
    Progress: s.progress,
    OwnerId: s.ownerId,
    Description: s.description,
    VolumeSize: s.volumeSizeGiB,
    Encrypted: s.encrypted,
    Tags: toTags(s.tags),
  };
}

export function toInstance(i: InstanceView): Instance {
  return {
    InstanceId: i.instanceId,
    ImageId: i.imageId,
    // Any value the decoder accepted came from the model's enum.
    InstanceType: i.instanceType as InstanceType,
    KeyName: i.keyName,
    AmiLaunchIndex: i.amiLaunchIndex,
    State: { Code: i.state.code, Name: i.state.name },
    StateTransitionReason: i.stateTransitionReason,
    StateReason: i.stateReason && { Code: i.stateReason.code, Message: i.stateReason.message },
    LaunchTime: i.launchTime,
    Placement: { AvailabilityZone: i.availabilityZone, AvailabilityZoneId: i.availabilityZoneId, Tenancy: 'default', GroupName: '' },
    PrivateIpAddress: i.privateIpAddress,
    PrivateDnsName: i.privateDnsName,
    PublicDnsName: '',
    ProductCodes: [],
    Monitoring: { State: 'disabled' },
    Architecture: 'x86_64',
    RootDeviceType: 'ebs',
    RootDeviceName: i.rootDeviceName,
    BlockDeviceMappings: i.blockDeviceMappings.map((b) => ({
      DeviceName: b.deviceName,
      Ebs: { VolumeId: b.volumeId, Status: b.status, AttachTime: b.attachTime, DeleteOnTermination: b.deleteOnTermination },
    })),
    VirtualizationType: 'hvm',
    Hypervisor: 'xen',
    EbsOptimized: false,
    SecurityGroups: [],
    NetworkInterfaces: [],
    ClientToken: i.clientToken,
    Tags: toTagsOrNone(i.tags),
  };
}

export function toReservation(r: ReservationView): Reservation {
  return { ReservationId: r.reservationId, OwnerId: r.ownerId, Groups: [], Instances: r.instances.map(toInstance) };
}

export function toStateChange(c: InstanceStateChangeView): InstanceStateChange {
  return {
    InstanceId: c.instanceId,
    CurrentState: { Code: c.currentState.code, Name: c.currentState.name },
    PreviousState: { Code: c.previousState.code, Name: c.previousState.name },
  };
}

export function toInstanceStatus(v: InstanceStatusView): InstanceStatus {
  const detail = reachability(v.status);
  const summary: InstanceStatusSummary = { Status: v.status, Details: detail ? [{ Name: 'reachability', Status: detail }] : [] };
  return {
    InstanceId: v.instanceId,
    AvailabilityZone: v.availabilityZone,
    AvailabilityZoneId: v.availabilityZoneId,
    InstanceState: { Code: v.state.code, Name: v.state.name },
    InstanceStatus: summary,
    SystemStatus: summary,
    AttachedEbsStatus: summary,
    Events: [],
  };
}
