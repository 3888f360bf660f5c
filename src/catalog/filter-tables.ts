/** The filter names each Describe call accepts (contract §4) and what each one reads. */
import type { FilterTable } from './filters.js';
import type { ModificationView, RegionView, SnapshotView, TagView, TierStatusView, VolumeView, ZoneView } from './views.js';

export const VOLUME_FILTERS: FilterTable<VolumeView> = {
  resource: 'volume',
  idField: 'volume-id',
  tags: (v) => v.tags,
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
