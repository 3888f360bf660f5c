/**
 * What the catalog persists (JSON records in the core's LevelDB, through `store.records`): the
 * EC2 view of volumes and snapshots that the storage core does not hold. Ids are shared with the
 * core; sizes here are GiB, as EC2 shows them. `seq` orders listings and pagination tokens.
 */
import type { VolumeType } from './volume-types.js';

export const NS = {
  volume: 'ec2-volume',
  snapshot: 'ec2-snapshot',
  modification: 'ec2-volume-modification',
  account: 'ec2-account',
  instance: 'ec2-instance',
} as const;

export interface Tag {
  key: string;
  value: string;
}

export interface ProductCode {
  productCodeId: string;
  productCodeType: 'devpay' | 'marketplace';
}

/** EC2's volume states; `deleted` is never stored: a deleted volume has no record. */
export type VolumeState = 'creating' | 'available' | 'in-use' | 'deleting' | 'error';

export interface Attachment {
  instanceId: string;
  device: string;
  /** As stored; `attachmentsAt()` (attachments.ts) derives what the clock says it is now. */
  state: 'attaching' | 'attached' | 'detaching' | 'detached' | 'busy';
  attachTime: string;
  deleteOnTermination: boolean;
  /** When `attaching` becomes `attached`, or a `detaching` attachment is gone. */
  settleTime?: string;
}

export interface VolumeMeta {
  id: string;
  seq: number;
  accountId: string;
  region: string;
  availabilityZone: string;
  availabilityZoneId: string;
  sizeGiB: number;
  volumeType: VolumeType;
  iops?: number;
  throughput?: number;
  multiAttachEnabled: boolean;
  encrypted: boolean;
  kmsKeyId?: string;
  /** The snapshot it was restored from, '' when none (EC2 sends `<snapshotId/>`). */
  snapshotId: string;
  volumeInitializationRate?: number;
  state: VolumeState;
  createTime: string;
  tags: Tag[];
  productCodes: ProductCode[];
  attachments: Attachment[];
  /** CreateVolume idempotency: the token and a fingerprint of the parameters it came with. */
  clientToken?: string;
  clientTokenFingerprint?: string;
}

export interface CreateVolumePermissions {
  userIds: string[];
  /** Group `all`: anyone may see it and create volumes from it. */
  public: boolean;
}

export type TieringStatus =
  | 'archival-in-progress' | 'archival-completed' | 'archival-failed'
  | 'temporary-restore-in-progress' | 'temporary-restore-completed' | 'temporary-restore-failed'
  | 'permanent-restore-in-progress' | 'permanent-restore-completed' | 'permanent-restore-failed';

/** The last tiering operation; the catalog derives its progress from the clock. */
export interface TieringOperation {
  kind: 'archive' | 'temporary-restore' | 'permanent-restore';
  startTime: string;
  /** When the operation completes (start + the simulator's tiering time). */
  completeTime: string;
  /** Temporary restores: when the snapshot goes back to the archive tier. */
  restoreExpiryTime?: string;
  temporaryRestoreDays?: number;
}

export interface SnapshotMeta {
  id: string;
  seq: number;
  ownerId: string;
  region: string;
  /** The source volume ('vol-ffffffff' for a copy, as AWS shows it). */
  volumeId: string;
  volumeSizeGiB: number;
  /** The source volume's type when frozen (st1/sc1 allow one pending snapshot). */
  sourceVolumeType?: VolumeType;
  description: string;
  encrypted: boolean;
  kmsKeyId?: string;
  startTime: string;
  tags: Tag[];
  productCodes: ProductCode[];
  createVolumePermissions: CreateVolumePermissions;
  /** Tier the data is in before any tiering operation in progress completes. */
  archived: boolean;
  tiering?: TieringOperation;
  /** CopySnapshot: where the bytes came from. */
  copiedFrom?: { snapshotId: string; region: string };
  /** Written through the EBS direct APIs (StartSnapshot). */
  direct?: DirectSnapshotMeta;
}

export interface DirectSnapshotMeta {
  parentSnapshotId?: string;
  clientToken?: string;
  /** A digest of StartSnapshot's parameters: the same ClientToken must come with the same ones. */
  request: string;
  timeoutMinutes: number;
  /** What ListChangedBlocks compares within: the parent's lineage, or its own id. */
  lineage: string;
}

export type ModificationState = 'modifying' | 'optimizing' | 'completed' | 'failed';

export interface ModificationMeta {
  /** Keyed by volume: only the latest modification of each volume is kept, as EC2 reports. */
  volumeId: string;
  seq: number;
  accountId: string;
  region: string;
  original: { sizeGiB: number; volumeType: VolumeType; iops?: number; throughput?: number; multiAttachEnabled: boolean };
  target: { sizeGiB: number; volumeType: VolumeType; iops?: number; throughput?: number; multiAttachEnabled: boolean };
  startTime: string;
  /** modifying until this instant, then optimizing until endTime, then completed. */
  optimizingTime: string;
  endTime: string;
}

export interface AccountSettings {
  ebsEncryptionByDefault: boolean;
  /** Customer key for encryption by default; absent: the AWS managed key. */
  defaultKmsKeyId?: string;
}

/** EC2's instance states; pending, stopping and shutting-down settle by the clock (instance-states.ts). */
export type InstanceStateName = 'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped';

/**
 * A simulated instance: no CPU, only what EBS sees of it (a zone, a state, block devices). Its
 * volumes are not listed here: each volume's `attachments` is the one source of truth.
 */
export interface InstanceMeta {
  id: string;
  seq: number;
  accountId: string;
  region: string;
  reservationId: string;
  amiLaunchIndex: number;
  imageId: string;
  instanceType: string;
  keyName?: string;
  availabilityZone: string;
  availabilityZoneId: string;
  rootDeviceName: string;
  privateIpAddress: string;
  /** The last start (EC2 updates LaunchTime on every start). */
  launchTime: string;
  /** The state entered at `stateSince`; a transitional one settles into the next at `stateUntil`. */
  state: InstanceStateName;
  stateSince: string;
  stateUntil?: string;
  /** "User initiated (…)" after a stop or terminate. */
  stateTransitionReason: string;
  tags: Tag[];
  /** Set once a terminated instance's volumes were detached (and DeleteOnTermination ones deleted). */
  released?: boolean;
  clientToken?: string;
  clientTokenFingerprint?: string;
}
