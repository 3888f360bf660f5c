/**
 * What the simulator returns: the EC2 view of each resource at one instant, with live values
 * (snapshot state and progress from the copy engine, tiering and modification progress from the
 * clock) folded in. Field names follow EC2's members in camelCase; sizes are GiB.
 */
import type { InstanceStateName, ModificationState, ProductCode, Tag, TieringStatus, VolumeState } from './resource-records.js';
import type { VolumeType } from './volume-types.js';

export interface AttachmentView {
  volumeId: string;
  instanceId: string;
  device: string;
  state: 'attaching' | 'attached' | 'detaching' | 'detached' | 'busy';
  attachTime: Date;
  deleteOnTermination: boolean;
}

export interface VolumeView {
  volumeId: string;
  sizeGiB: number;
  snapshotId: string;
  availabilityZone: string;
  availabilityZoneId: string;
  state: VolumeState | 'deleted';
  createTime: Date;
  attachments: AttachmentView[];
  volumeType: VolumeType;
  iops?: number;
  throughput?: number;
  encrypted: boolean;
  kmsKeyId?: string;
  multiAttachEnabled: boolean;
  volumeInitializationRate?: number;
  tags: Tag[];
  ownerId: string;
  productCodes: ProductCode[];
}

export type SnapshotState = 'pending' | 'completed' | 'error' | 'recoverable' | 'recovering';

export interface SnapshotView {
  snapshotId: string;
  volumeId: string;
  state: SnapshotState;
  stateMessage?: string;
  startTime: Date;
  /** "<n>%" */
  progress: string;
  completionTime?: Date;
  ownerId: string;
  description: string;
  volumeSizeGiB: number;
  encrypted: boolean;
  kmsKeyId?: string;
  tags: Tag[];
  storageTier: 'standard' | 'archive';
  restoreExpiryTime?: Date;
  /** Bytes the copy engine really uploaded for it (not in EC2's shape; for tests and the UI). */
  bytesUploaded?: number;
}

export interface ModificationView {
  volumeId: string;
  modificationState: ModificationState;
  statusMessage?: string;
  targetSize: number;
  targetIops?: number;
  targetVolumeType: VolumeType;
  targetThroughput?: number;
  targetMultiAttachEnabled: boolean;
  originalSize: number;
  originalIops?: number;
  originalVolumeType: VolumeType;
  originalThroughput?: number;
  originalMultiAttachEnabled: boolean;
  progress: number;
  startTime: Date;
  endTime?: Date;
}

export interface TierStatusView {
  snapshotId: string;
  volumeId: string;
  state: SnapshotState;
  ownerId: string;
  tags: Tag[];
  storageTier: 'standard' | 'archive';
  lastTieringStartTime?: Date;
  lastTieringProgress?: number;
  lastTieringOperationStatus?: TieringStatus;
  lastTieringOperationStatusDetail?: string;
  archivalCompleteTime?: Date;
  restoreExpiryTime?: Date;
}

export interface TagView {
  resourceId: string;
  resourceType: 'volume' | 'snapshot' | 'instance';
  key: string;
  value: string;
  /** All tags of the resource, for the `tag:<key>` filter. */
  resourceTags: Tag[];
}

export interface RegionView {
  regionName: string;
  endpoint: string;
  optInStatus: string;
}

export interface ZoneView {
  zoneName: string;
  zoneId: string;
  regionName: string;
  state: 'available';
  optInStatus: 'opt-in-not-required';
  zoneType: 'availability-zone';
  groupName: string;
  networkBorderGroup: string;
}

export interface SnapshotAttributeView {
  snapshotId: string;
  createVolumePermissions?: Array<{ userId?: string; group?: 'all' }>;
  productCodes?: ProductCode[];
}

export interface InstanceStateView {
  code: number;
  name: InstanceStateName;
}

export interface InstanceBlockDeviceView {
  deviceName: string;
  volumeId: string;
  status: 'attaching' | 'attached' | 'detaching' | 'detached';
  attachTime: Date;
  deleteOnTermination: boolean;
}

export interface InstanceView {
  instanceId: string;
  reservationId: string;
  ownerId: string;
  imageId: string;
  instanceType: string;
  keyName?: string;
  amiLaunchIndex: number;
  state: InstanceStateView;
  stateTransitionReason: string;
  stateReason?: { code: string; message: string };
  launchTime: Date;
  availabilityZone: string;
  availabilityZoneId: string;
  privateIpAddress: string;
  privateDnsName: string;
  rootDeviceName: string;
  blockDeviceMappings: InstanceBlockDeviceView[];
  tags: Tag[];
  clientToken?: string;
}

export interface ReservationView {
  reservationId: string;
  ownerId: string;
  instances: InstanceView[];
}

export interface InstanceStateChangeView {
  instanceId: string;
  currentState: InstanceStateView;
  previousState: InstanceStateView;
}

export type StatusSummary = 'ok' | 'initializing' | 'not-applicable';

export interface InstanceStatusView {
  instanceId: string;
  availabilityZone: string;
  availabilityZoneId: string;
  state: InstanceStateView;
  /** Instance, system and attached-EBS checks share one answer: nothing here ever fails. */
  status: StatusSummary;
}
