/** The filter names each Describe call accepts (contract §4) and what each one reads. */
import type { FilterTable } from './filters.js';
import type {
  InstanceStatusView, InstanceView, ModificationView, RegionView, SnapshotView, TagView, TierStatusView, VolumeView, ZoneView,
} from './views.js';

export const VOLUME_FILTERS: FilterTable<VolumeView> = {
  resource: 'volume',
  idField: 'volume-id',
  tags: (v) => v.tags,
  tagValue: true,
  fields: {
    'attachment.attach-time': (v) => v.attachments.map((a) => a.attachTime),
    'attachment.delete-on-termination': (v) => v.attachments.map((a) => a.deleteOnTermination),
    'attachment.device': (v) => v.attachments.map((a) => a.device),
    'attachment.instance-id': (v) => v.attachments.map((a) => a.instanceId),
    'attachment.status': (v) => v.attachments.map((a) => a.state),
    'availability-zone': (v) => v.availabilityZone,
    'availability-zone-id': (v) => v.availabilityZoneId,
    'create-time': (v) => v.createTime,
    encrypted: (v) => v.encrypted,
    'fast-restored': () => false,
    'multi-attach-enabled': (v) => v.multiAttachEnabled,
    'operator.managed': () => false,
    'operator.principal': () => undefined,
    size: (v) => v.sizeGiB,
    'snapshot-id': (v) => v.snapshotId,
    status: (v) => v.state,
    'volume-id': (v) => v.volumeId,
    'volume-type': (v) => v.volumeType,
  },
};

export const SNAPSHOT_FILTERS: FilterTable<SnapshotView> = {
  resource: 'snapshot',
  idField: 'snapshot-id',
  tags: (s) => s.tags,
  tagValue: true,
  fields: {
    description: (s) => s.description,
    encrypted: (s) => s.encrypted,
    'owner-alias': () => undefined,
    'owner-id': (s) => s.ownerId,
    progress: (s) => s.progress,
    'snapshot-id': (s) => s.snapshotId,
    'start-time': (s) => s.startTime,
    status: (s) => s.state,
    'storage-tier': (s) => s.storageTier,
    'transfer-type': () => 'standard',
    'volume-id': (s) => s.volumeId,
    'volume-size': (s) => s.volumeSizeGiB,
  },
};

export const TAG_FILTERS: FilterTable<TagView> = {
  resource: 'tag',
  fields: {
    key: (t) => t.key,
    'resource-id': (t) => t.resourceId,
    'resource-type': (t) => t.resourceType,
    value: (t) => t.value,
  },
  // DescribeTags' `tag:<key>`: rows of resources that carry that tag.
  tags: (t) => t.resourceTags,
};

export const MODIFICATION_FILTERS: FilterTable<ModificationView> = {
  resource: 'volume modification',
  idField: 'volume-id',
  fields: {
    'modification-state': (m) => m.modificationState,
    'original-iops': (m) => m.originalIops,
    'original-size': (m) => m.originalSize,
    'original-volume-type': (m) => m.originalVolumeType,
    'original-multi-attach-enabled': (m) => m.originalMultiAttachEnabled,
    'start-time': (m) => m.startTime,
    'target-iops': (m) => m.targetIops,
    'target-size': (m) => m.targetSize,
    'target-volume-type': (m) => m.targetVolumeType,
    'target-throughput': (m) => m.targetThroughput,
    'target-multi-attach-enabled': (m) => m.targetMultiAttachEnabled,
    'volume-id': (m) => m.volumeId,
  },
};

export const TIER_STATUS_FILTERS: FilterTable<TierStatusView> = {
  resource: 'snapshot tier status',
  idField: 'snapshot-id',
  fields: {
    'snapshot-id': (t) => t.snapshotId,
    'volume-id': (t) => t.volumeId,
    'last-tiering-operation': (t) => t.lastTieringOperationStatus,
  },
};

export const REGION_FILTERS: FilterTable<RegionView> = {
  resource: 'region',
  fields: {
    endpoint: (r) => r.endpoint,
    'opt-in-status': (r) => r.optInStatus,
    'region-name': (r) => r.regionName,
  },
};

export const ZONE_FILTERS: FilterTable<ZoneView> = {
  resource: 'availability zone',
  fields: {
    'group-long-name': () => undefined,
    'group-name': (z) => z.groupName,
    message: () => undefined,
    'opt-in-status': (z) => z.optInStatus,
    'parent-zone-id': () => undefined,
    'parent-zone-name': () => undefined,
    'region-name': (z) => z.regionName,
    state: (z) => z.state,
    'zone-id': (z) => z.zoneId,
    'zone-name': (z) => z.zoneName,
    'zone-type': (z) => z.zoneType,
  },
};

/** DescribeInstances: the EBS-relevant names of contract §4.4, and a few more every tool uses. */
export const INSTANCE_FILTERS: FilterTable<InstanceView> = {
  resource: 'instance',
  idField: 'instance-id',
  tags: (i) => i.tags,
  tagValue: true,
  fields: {
    'ami-launch-index': (i) => i.amiLaunchIndex,
    architecture: () => 'x86_64',
    'availability-zone': (i) => i.availabilityZone,
    'block-device-mapping.attach-time': (i) => i.blockDeviceMappings.map((b) => b.attachTime),
    'block-device-mapping.delete-on-termination': (i) => i.blockDeviceMappings.map((b) => b.deleteOnTermination),
    'block-device-mapping.device-name': (i) => i.blockDeviceMappings.map((b) => b.deviceName),
    'block-device-mapping.status': (i) => i.blockDeviceMappings.map((b) => b.status),
    'block-device-mapping.volume-id': (i) => i.blockDeviceMappings.map((b) => b.volumeId),
    'client-token': (i) => i.clientToken,
    'image-id': (i) => i.imageId,
    'instance-id': (i) => i.instanceId,
    'instance-state-code': (i) => i.state.code,
    'instance-state-name': (i) => i.state.name,
    'instance-type': (i) => i.instanceType,
    'key-name': (i) => i.keyName,
    'launch-time': (i) => i.launchTime,
    'owner-id': (i) => i.ownerId,
    'private-dns-name': (i) => i.privateDnsName,
    'private-ip-address': (i) => i.privateIpAddress,
    'reservation-id': (i) => i.reservationId,
    'root-device-name': (i) => i.rootDeviceName,
    'root-device-type': () => 'ebs',
    'state-reason-code': (i) => i.stateReason?.code,
  },
};

export const INSTANCE_STATUS_FILTERS: FilterTable<InstanceStatusView> = {
  resource: 'instance status',
  idField: 'instance-id',
  fields: {
    'availability-zone': (s) => s.availabilityZone,
    'instance-id': (s) => s.instanceId,
    'instance-state-code': (s) => s.state.code,
    'instance-state-name': (s) => s.state.name,
    'instance-status.reachability': (s) => reachability(s.status),
    'instance-status.status': (s) => s.status,
    'system-status.reachability': (s) => reachability(s.status),
    'system-status.status': (s) => s.status,
    'attached-ebs-status.status': (s) => s.status,
    'attached-ebs-status.reachability': (s) => reachability(s.status),
  },
};

/** The one check's detail for a summary status (`reachability`: passed / initializing / n.a.). */
export function reachability(status: InstanceStatusView['status']): 'passed' | 'initializing' | undefined {
  return status === 'ok' ? 'passed' : status === 'initializing' ? 'initializing' : undefined;
}
