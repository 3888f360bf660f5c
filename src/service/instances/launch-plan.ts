/**
 * What RunInstances creates for each instance it launches: the root volume (8 GiB gp2 at
 * /dev/sda1) changed or joined by the BlockDeviceMappings, and the tags of TagSpecifications.
 * Everything is validated before anything is created.
 */
import { checkDeviceName } from '../state/attachment-records.js';
import { invalidValue, missingParameter } from '../service-errors.js';
import type { InstanceMeta, Tag, VolumeMeta } from '../state/resource-records.js';
import { mergeTags, type TagSpecificationInput } from '../state/tag-rules.js';
import { resolvePerformance, type VolumeType } from '../state/volume-types.js';
import { newVolumeId } from '../../core/ids.js';
import type { CallerContext, ServiceState } from '../context.js';
import { resolveEncryption } from '../account/encryption.js';
import { usableSnapshot } from '../volumes/volumes.js';

export const ROOT_DEVICE = '/dev/sda1';
const ROOT_SIZE_GIB = 8;

export interface EbsMappingInput {
  volumeSize?: number;
  volumeType?: VolumeType;
  snapshotId?: string;
  iops?: number;
  throughput?: number;
  encrypted?: boolean;
  kmsKeyId?: string;
  deleteOnTermination?: boolean;
}

export interface BlockDeviceMappingInput {
  deviceName?: string;
  ebs?: EbsMappingInput;
  noDevice?: string;
  virtualName?: string;
}

/** One volume every launched instance gets. */
export interface PlannedVolume {
  device: string;
  sizeGiB: number;
  volumeType: VolumeType;
  iops?: number;
  throughput?: number;
  snapshotId: string;
  encrypted: boolean;
  kmsKeyId?: string;
  deleteOnTermination: boolean;
  productCodes: VolumeMeta['productCodes'];
}

/** The volumes each instance gets: the root, changed or joined by the mappings; all validated up front. */
export function planVolumes(s: ServiceState, ctx: CallerContext, mappings: BlockDeviceMappingInput[]): PlannedVolume[] {
  const plan = new Map<string, PlannedVolume>();
  plan.set(ROOT_DEVICE, {
    device: ROOT_DEVICE, sizeGiB: ROOT_SIZE_GIB, volumeType: 'gp2', snapshotId: '', deleteOnTermination: true, productCodes: [],
    ...resolveEncryption(s, ctx, undefined, undefined),
  });
  const seen = new Set<string>();
  for (const [i, m] of mappings.entries()) {
    const where = `BlockDeviceMapping.${i + 1}`;
    if (m.deviceName === undefined) throw missingParameter(`${where}.DeviceName`);
    const device = checkDeviceName(m.deviceName);
    if (seen.has(device)) throw invalidValue(`The device name ${device} appears in more than one block device mapping.`);
    seen.add(device);
    if (m.virtualName !== undefined) throw invalidValue(`${where}: instance store volumes (VirtualName) are not simulated; map EBS volumes only.`);
    if (m.noDevice !== undefined) {
      if (device === ROOT_DEVICE) throw invalidValue(`${where}: the root device ${ROOT_DEVICE} cannot be suppressed with NoDevice.`);
      plan.delete(device);
      continue;
    }
    if (!m.ebs) throw missingParameter(`${where}.Ebs`);
    plan.set(device, planOne(s, ctx, device, m.ebs, plan.get(device), where));
  }
  return [...plan.values()];
}

function planOne(s: ServiceState, ctx: CallerContext, device: string, ebs: EbsMappingInput, base: PlannedVolume | undefined, where: string): PlannedVolume {
  const snapshot = ebs.snapshotId === undefined ? undefined : usableSnapshot(s, ctx, ebs.snapshotId);
  const sizeGiB = ebs.volumeSize ?? snapshot?.volumeSizeGiB ?? base?.sizeGiB;
  if (sizeGiB === undefined) throw missingParameter(`${where}.Ebs.VolumeSize or ${where}.Ebs.SnapshotId`);
  if (snapshot && sizeGiB < snapshot.volumeSizeGiB) {
    throw invalidValue(`Volume of ${sizeGiB}GiB is smaller than snapshot '${snapshot.id}', expect size >= ${snapshot.volumeSizeGiB}GiB`);
  }
  const perf = resolvePerformance({ volumeType: ebs.volumeType ?? base?.volumeType ?? 'gp2', sizeGiB, iops: ebs.iops, throughput: ebs.throughput });
  return {
    device,
    ...perf,
    snapshotId: snapshot?.id ?? '',
    ...resolveEncryption(s, ctx, ebs.encrypted, ebs.kmsKeyId, snapshot),
    // Volumes mapped at launch go with the instance unless told otherwise.
    deleteOnTermination: ebs.deleteOnTermination ?? true,
    productCodes: snapshot?.productCodes ?? [],
  };
}

export function plannedVolume(s: ServiceState, ctx: CallerContext, m: InstanceMeta, p: PlannedVolume, tags: Tag[], now: number): VolumeMeta {
  return {
    id: newVolumeId(),
    seq: s.catalog.nextSeq(),
    accountId: ctx.accountId,
    region: ctx.region,
    availabilityZone: m.availabilityZone,
    availabilityZoneId: m.availabilityZoneId,
    sizeGiB: p.sizeGiB,
    volumeType: p.volumeType,
    ...(p.iops !== undefined ? { iops: p.iops } : {}),
    ...(p.throughput !== undefined ? { throughput: p.throughput } : {}),
    multiAttachEnabled: false,
    encrypted: p.encrypted,
    ...(p.kmsKeyId !== undefined ? { kmsKeyId: p.kmsKeyId } : {}),
    snapshotId: p.snapshotId,
    state: 'available',
    createTime: new Date(now).toISOString(),
    tags: tags.map((t) => ({ ...t })),
    productCodes: p.productCodes,
    // Launch-time devices are attached when the instance shows up (contract §3: `attached`).
    attachments: [{ instanceId: m.id, device: p.device, state: 'attached', attachTime: new Date(now).toISOString(), deleteOnTermination: p.deleteOnTermination }],
  };
}

/** RunInstances tags instances and their volumes; other resource types are not simulated. */
export function splitTags(specs: readonly TagSpecificationInput[] | undefined): { instanceTags: Tag[]; volumeTags: Tag[] } {
  let instanceTags: Tag[] = [];
  let volumeTags: Tag[] = [];
  for (const spec of specs ?? []) {
    if (spec.ResourceType === 'instance') instanceTags = mergeTags(instanceTags, spec.Tags ?? [], 'the instance');
    else if (spec.ResourceType === 'volume') volumeTags = mergeTags(volumeTags, spec.Tags ?? [], 'the volume');
    else throw invalidValue(`'${spec.ResourceType ?? ''}' is not a valid taggable resource type for RunInstances here (expected 'instance' or 'volume').`);
  }
  return { instanceTags, volumeTags };
}

