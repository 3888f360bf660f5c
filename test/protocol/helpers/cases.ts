/**
 * Inputs and outputs for every served action, typed with the generated handler types, so these
 * cases also prove the types accept what real clients send and what handlers must return.
 */
import type { Ec2Action, Ec2Input, Ec2Output, Instance, Reservation, Snapshot, Volume } from '../../../src/protocol/ec2/index.js';

type Cases<T extends Record<Ec2Action, unknown>> = { [A in Ec2Action]: Array<T[A]> };

const tags = [{ ResourceType: 'volume' as const, Tags: [{ Key: 'Name', Value: 'a b&c=d/é*' }, { Key: 'empty', Value: '' }] }];
const filters = [
  { Name: 'status', Values: ['available', 'in-use'] },
  { Name: 'tag:Name', Values: ['x y'] },
];

export const INPUTS: Cases<Ec2Input> = {
  CreateVolume: [
    {
      AvailabilityZone: 'us-east-1a', Size: 8, VolumeType: 'gp3', Iops: 3000, Throughput: 125, Encrypted: true,
      KmsKeyId: 'alias/my key', SnapshotId: 'snap-1', MultiAttachEnabled: false, TagSpecifications: tags,
      ClientToken: 'token-1', DryRun: false,
    },
    { AvailabilityZone: 'us-east-1b', Size: 1 }, // ClientToken left to the SDK
  ],
  DeleteVolume: [{ VolumeId: 'vol-1', DryRun: true }],
  DescribeVolumes: [
    { VolumeIds: ['vol-1', 'vol-2'], Filters: filters, MaxResults: 5, NextToken: 'next/1+2=' },
    { VolumeIds: [], Filters: [{ Name: 'size' }] }, // empty lists are not sent
    {},
  ],
  ModifyVolume: [{ VolumeId: 'vol-1', Size: 20, VolumeType: 'io2', Iops: 4000, Throughput: 250, MultiAttachEnabled: true }],
  DescribeVolumesModifications: [{ VolumeIds: ['vol-1'], Filters: [{ Name: 'modification-state', Values: ['modifying', 'optimizing'] }], MaxResults: 10 }],
  DescribeVolumeStatus: [{ VolumeIds: ['vol-1'], Filters: [{ Name: 'volume-status.status', Values: ['ok'] }], MaxResults: 5, NextToken: 'n' }],
  AttachVolume: [{ Device: '/dev/sdf', InstanceId: 'i-1', VolumeId: 'vol-1' }],
  DetachVolume: [{ VolumeId: 'vol-1', InstanceId: 'i-1', Device: '/dev/sdf', Force: true }],
  CreateSnapshot: [{
    VolumeId: 'vol-1', Description: 'nightly backup', Location: 'regional',
    TagSpecifications: [{ ResourceType: 'snapshot', Tags: [{ Key: 'team', Value: 'storage' }, { Key: 'env', Value: 'dev' }] }],
  }],
  CreateSnapshots: [{
    InstanceSpecification: { InstanceId: 'i-1', ExcludeBootVolume: true, ExcludeDataVolumeIds: ['vol-2', 'vol-3'] },
    Description: 'multi', CopyTagsFromSource: 'volume',
    TagSpecifications: [{ ResourceType: 'snapshot', Tags: [{ Key: 'k', Value: 'v' }] }],
  }],
  DescribeSnapshots: [{
    OwnerIds: ['self', '123456789012'], RestorableByUserIds: ['all'], SnapshotIds: ['snap-1', 'snap-2'],
    Filters: [{ Name: 'volume-id', Values: ['vol-1'] }, { Name: 'status', Values: ['completed', 'pending'] }],
    MaxResults: 5, NextToken: 'tok',
  }],
  DeleteSnapshot: [{ SnapshotId: 'snap-1' }],
  CopySnapshot: [{
    SourceRegion: 'us-east-1', SourceSnapshotId: 'snap-1', Description: 'copy', Encrypted: true, KmsKeyId: 'k',
    TagSpecifications: [{ ResourceType: 'snapshot', Tags: [{ Key: 'copy', Value: 'yes' }] }],
  }],
  ModifySnapshotAttribute: [
    {
      SnapshotId: 'snap-1', Attribute: 'createVolumePermission', OperationType: 'add',
      UserIds: ['111122223333'], GroupNames: ['all'],
      CreateVolumePermission: { Add: [{ UserId: '111122223333' }, { Group: 'all' }], Remove: [{ UserId: '444455556666' }] },
    },
    { SnapshotId: 'snap-1', Attribute: 'createVolumePermission', OperationType: 'remove', UserIds: ['111122223333'] },
  ],
  DescribeSnapshotAttribute: [{ SnapshotId: 'snap-1', Attribute: 'createVolumePermission' }],
  ResetSnapshotAttribute: [{ SnapshotId: 'snap-1', Attribute: 'createVolumePermission' }],
  ModifySnapshotTier: [{ SnapshotId: 'snap-1', StorageTier: 'archive' }],
  RestoreSnapshotTier: [{ SnapshotId: 'snap-1', TemporaryRestoreDays: 7, PermanentRestore: false }],
  DescribeSnapshotTierStatus: [{ Filters: [{ Name: 'snapshot-id', Values: ['snap-1'] }], MaxResults: 5, NextToken: 't' }],
  CreateTags: [{ Resources: ['vol-1', 'snap-1'], Tags: [{ Key: 'owner', Value: 'me' }, { Key: 'k2', Value: '' }] }],
  DeleteTags: [{ Resources: ['vol-1'], Tags: [{ Key: 'owner' }, { Key: 'k2', Value: 'v2' }] }],
  DescribeTags: [{ Filters: [{ Name: 'resource-id', Values: ['vol-1'] }, { Name: 'key', Values: ['a', 'b'] }], MaxResults: 10 }],
  DescribeRegions: [{ RegionNames: ['us-east-1', 'eu-west-1'], AllRegions: true }],
  DescribeAvailabilityZones: [{ ZoneNames: ['us-east-1a'], ZoneIds: ['use1-az6'], AllAvailabilityZones: false, Filters: [{ Name: 'region-name', Values: ['us-east-1'] }] }],
  DescribeAccountAttributes: [{ AttributeNames: ['supported-platforms', 'default-vpc'] }],
  GetEbsEncryptionByDefault: [{ DryRun: false }],
  EnableEbsEncryptionByDefault: [{}],
  DisableEbsEncryptionByDefault: [{ DryRun: true }],
  GetEbsDefaultKmsKeyId: [{}],
  ModifyEbsDefaultKmsKeyId: [{ KmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/abcd' }],
  ResetEbsDefaultKmsKeyId: [{}],
  RunInstances: [{
    ImageId: 'ami-12c6146b', MinCount: 1, MaxCount: 2, InstanceType: 't3.micro', KeyName: 'key',
    Placement: { AvailabilityZone: 'us-east-1a', Tenancy: 'default' },
    BlockDeviceMappings: [
      { DeviceName: '/dev/sda1', Ebs: { VolumeSize: 16, VolumeType: 'gp3', DeleteOnTermination: true, Encrypted: false, Iops: 3000 } },
      { DeviceName: '/dev/sdf', Ebs: { SnapshotId: 'snap-1' } },
      { DeviceName: '/dev/sdg', NoDevice: '' },
    ],
    TagSpecifications: [
      { ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'web' }] },
      { ResourceType: 'volume', Tags: [{ Key: 'Name', Value: 'web-root' }] },
    ],
    SecurityGroupIds: ['sg-1', 'sg-2'], Monitoring: { Enabled: true }, EbsOptimized: true, ClientToken: 'run-1',
    // A timestamp and two queryName members (PrivateIpAddresses, Ipv6Addresses) in one request.
    InstanceMarketOptions: { MarketType: 'spot', SpotOptions: { MaxPrice: '0.1', ValidUntil: new Date('2027-01-02T03:04:05.678Z') } },
    NetworkInterfaces: [{
      DeviceIndex: 0, SubnetId: 'subnet-1', PrivateIpAddresses: [{ PrivateIpAddress: '10.0.0.5', Primary: true }],
      Ipv6Addresses: [{ Ipv6Address: '2001:db8::1' }],
    }],
  }],
  DescribeInstances: [{ InstanceIds: ['i-1'], Filters: [{ Name: 'instance-state-name', Values: ['running'] }], MaxResults: 5, NextToken: 'r-1' }],
  DescribeInstanceStatus: [{ InstanceIds: ['i-1'], IncludeAllInstances: true, Filters: [{ Name: 'instance-status.status', Values: ['ok'] }] }],
  StartInstances: [{ InstanceIds: ['i-1', 'i-2'], AdditionalInfo: 'x' }],
  StopInstances: [{ InstanceIds: ['i-1'], Force: true, Hibernate: false }],
  RebootInstances: [{ InstanceIds: ['i-1'] }],
  TerminateInstances: [{ InstanceIds: ['i-1', 'i-2', 'i-3'] }],
};

const t0 = new Date('2026-11-26T22:31:44.000Z');
const t1 = new Date('2026-11-26T22:31:45.123Z');

const volume: Volume = {
  VolumeId: 'vol-1', Size: 8, SnapshotId: '', AvailabilityZone: 'us-east-1a', State: 'in-use', CreateTime: t0,
  Attachments: [{ VolumeId: 'vol-1', InstanceId: 'i-1', Device: '/dev/sdf', State: 'attached', AttachTime: t1, DeleteOnTermination: false }],
  Tags: [{ Key: 'Name', Value: 'a <b> & "c"' }], VolumeType: 'gp3', Iops: 3000, Throughput: 125, Encrypted: false,
  MultiAttachEnabled: false, FastRestored: false, SseType: 'sse-ebs', Operator: { Managed: false },
};

const snapshot: Snapshot = {
  SnapshotId: 'snap-1', VolumeId: 'vol-1', State: 'pending', StartTime: t1, Progress: '42%', OwnerId: '123456789012',
  Description: 'nightly backup', VolumeSize: 8, Encrypted: false, Tags: [], StorageTier: 'standard',
  FullSnapshotSizeInBytes: 17_179_869_184, StateMessage: '',
};

const instance: Instance = {
  InstanceId: 'i-1', ImageId: 'ami-12c6146b', State: { Code: 16, Name: 'running' }, InstanceType: 't3.micro',
  LaunchTime: t0, Placement: { AvailabilityZone: 'us-east-1a', Tenancy: 'default' }, AmiLaunchIndex: 0,
  BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: { VolumeId: 'vol-1', Status: 'attached', AttachTime: t0, DeleteOnTermination: true } }],
  RootDeviceName: '/dev/sda1', RootDeviceType: 'ebs', Tags: [{ Key: 'Name', Value: 'web' }], Monitoring: { State: 'disabled' },
  Architecture: 'x86_64', Hypervisor: 'xen', VirtualizationType: 'hvm', EbsOptimized: false, ProductCodes: [],
  SecurityGroups: [{ GroupId: 'sg-1', GroupName: 'default' }],
};

const reservation: Reservation = { ReservationId: 'r-1', OwnerId: '123456789012', Groups: [], Instances: [instance] };

const stateChange = (id: string, from: [number, 'running' | 'stopped'], to: [number, 'pending' | 'stopping' | 'shutting-down']) => ({
  InstanceId: id, PreviousState: { Code: from[0], Name: from[1] }, CurrentState: { Code: to[0], Name: to[1] },
});

export const OUTPUTS: Cases<Ec2Output> = {
  CreateVolume: [{ ...volume, State: 'creating', Attachments: [] }],
  DeleteVolume: [{}],
  DescribeVolumes: [{ Volumes: [volume, { ...volume, VolumeId: 'vol-2', Attachments: [], Tags: [] }], NextToken: 'next-1' }, { Volumes: [] }],
  ModifyVolume: [{ VolumeModification: { VolumeId: 'vol-1', ModificationState: 'modifying', TargetSize: 20, OriginalSize: 8, Progress: 0, StartTime: t1 } }],
  DescribeVolumesModifications: [{ VolumesModifications: [{ VolumeId: 'vol-1', ModificationState: 'completed', Progress: 100, StartTime: t0, EndTime: t1 }], NextToken: 'm' }],
  DescribeVolumeStatus: [{
    VolumeStatuses: [{
      VolumeId: 'vol-1', AvailabilityZone: 'us-east-1a', Actions: [], Events: [],
      VolumeStatus: { Status: 'ok', Details: [{ Name: 'io-enabled', Status: 'passed' }, { Name: 'io-performance', Status: 'not-applicable' }] },
    }],
  }],
  AttachVolume: [{ VolumeId: 'vol-1', InstanceId: 'i-1', Device: '/dev/sdf', State: 'attaching', AttachTime: t1 }],
  DetachVolume: [{ VolumeId: 'vol-1', InstanceId: 'i-1', Device: '/dev/sdf', State: 'detaching', AttachTime: t1, DeleteOnTermination: false }],
  CreateSnapshot: [snapshot],
  CreateSnapshots: [{ Snapshots: [{ SnapshotId: 'snap-2', VolumeId: 'vol-1', State: 'pending', StartTime: t1, Progress: '0%', OwnerId: '123456789012', VolumeSize: 8, Encrypted: false, Tags: [] }] }],
  DescribeSnapshots: [{ Snapshots: [snapshot, { ...snapshot, SnapshotId: 'snap-2', State: 'completed', Progress: '100%', Tags: [{ Key: 'k', Value: 'v' }] }], NextToken: 'snap-2' }, { Snapshots: [] }],
  DeleteSnapshot: [{}],
  CopySnapshot: [{ SnapshotId: 'snap-3', Tags: [] }],
  ModifySnapshotAttribute: [{}],
  DescribeSnapshotAttribute: [{ SnapshotId: 'snap-1', CreateVolumePermissions: [{ UserId: '111122223333' }, { Group: 'all' }], ProductCodes: [] }],
  ResetSnapshotAttribute: [{}],
  ModifySnapshotTier: [{ SnapshotId: 'snap-1', TieringStartTime: t1 }],
  RestoreSnapshotTier: [{ SnapshotId: 'snap-1', RestoreStartTime: t1, RestoreDuration: 7, IsPermanentRestore: false }],
  DescribeSnapshotTierStatus: [{
    SnapshotTierStatuses: [{ SnapshotId: 'snap-1', VolumeId: 'vol-1', Status: 'completed', OwnerId: '123456789012', Tags: [], StorageTier: 'archive', LastTieringProgress: 100, LastTieringOperationStatus: 'archival-completed', ArchivalCompleteTime: t1 }],
    NextToken: 'x',
  }],
  CreateTags: [{}],
  DeleteTags: [{}],
  DescribeTags: [{ Tags: [{ Key: 'owner', ResourceId: 'vol-1', ResourceType: 'volume', Value: 'me' }, { Key: 'k', ResourceId: 'snap-1', ResourceType: 'snapshot', Value: '' }], NextToken: 'tag-2' }],
  DescribeRegions: [{ Regions: [{ RegionName: 'us-east-1', Endpoint: 'ec2.us-east-1.amazonaws.com', OptInStatus: 'opt-in-not-required' }] }],
  DescribeAvailabilityZones: [{ AvailabilityZones: [{ ZoneName: 'us-east-1a', ZoneId: 'use1-az6', RegionName: 'us-east-1', State: 'available', ZoneType: 'availability-zone', Messages: [], OptInStatus: 'opt-in-not-required' }] }],
  DescribeAccountAttributes: [{ AccountAttributes: [{ AttributeName: 'supported-platforms', AttributeValues: [{ AttributeValue: 'VPC' }] }, { AttributeName: 'default-vpc', AttributeValues: [] }] }],
  GetEbsEncryptionByDefault: [{ EbsEncryptionByDefault: false, SseType: 'sse-ebs' }],
  EnableEbsEncryptionByDefault: [{ EbsEncryptionByDefault: true }],
  DisableEbsEncryptionByDefault: [{ EbsEncryptionByDefault: false }],
  GetEbsDefaultKmsKeyId: [{ KmsKeyId: 'alias/aws/ebs' }],
  ModifyEbsDefaultKmsKeyId: [{ KmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/abcd' }],
  ResetEbsDefaultKmsKeyId: [{ KmsKeyId: 'alias/aws/ebs' }],
  RunInstances: [{ ...reservation, Instances: [{ ...instance, State: { Code: 0, Name: 'pending' } }] }],
  DescribeInstances: [{ Reservations: [reservation], NextToken: 'r-2' }, { Reservations: [] }],
  DescribeInstanceStatus: [{
    InstanceStatuses: [{
      InstanceId: 'i-1', AvailabilityZone: 'us-east-1a', InstanceState: { Code: 16, Name: 'running' }, Events: [],
      InstanceStatus: { Status: 'ok', Details: [{ Name: 'reachability', Status: 'passed' }] },
      SystemStatus: { Status: 'ok', Details: [{ Name: 'reachability', Status: 'passed' }] },
    }],
  }],
  StartInstances: [{ StartingInstances: [stateChange('i-1', [80, 'stopped'], [0, 'pending'])] }],
  StopInstances: [{ StoppingInstances: [stateChange('i-1', [16, 'running'], [64, 'stopping'])] }],
  RebootInstances: [{}],
  TerminateInstances: [{ TerminatingInstances: [stateChange('i-1', [16, 'running'], [32, 'shutting-down'])] }],
};

/** Empty lists and undefined members never reach the wire, so they never come back from the decoder. */
export function withoutEmpty(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutEmpty);
  if (value instanceof Date || value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = withoutEmpty(v);
  }
  return out;
}
