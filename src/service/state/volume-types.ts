/**
 * EBS volume types and their limits, from the EC2 API reference (botocore 1.43 CreateVolume and
 * ModifyVolume docs): sizes in GiB, IOPS, throughput in MiB/s, and the per-GiB ratios of the EBS
 * user guide. gp2 IOPS are not provisioned but derived from the size (3 per GiB, 100 to 16,000).
 */
import { CatalogError, invalidValue, missingParameter } from '../service-errors.js';

export const VOLUME_TYPES = ['standard', 'io1', 'io2', 'gp2', 'sc1', 'st1', 'gp3'] as const;
export type VolumeType = (typeof VOLUME_TYPES)[number];

interface Range {
  min: number;
  max: number;
}

interface TypeLimits {
  size: Range;
  /** Provisioned IOPS: absent when the type takes none. */
  iops?: Range & { default?: number; perGiB: number; required: boolean };
  throughput?: Range & { default: number; perIops: number };
  multiAttach: boolean;
  /** Pending snapshots allowed at once (ConcurrentSnapshotLimitExceeded beyond). */
  concurrentSnapshots: number;
}

export const VOLUME_TYPE_LIMITS: Record<VolumeType, TypeLimits> = {
  gp2: { size: { min: 1, max: 16_384 }, multiAttach: false, concurrentSnapshots: 5 },
  gp3: {
    size: { min: 1, max: 65_536 },
    iops: { min: 3_000, max: 80_000, default: 3_000, perGiB: 500, required: false },
    throughput: { min: 125, max: 2_000, default: 125, perIops: 0.25 },
    multiAttach: false,
    concurrentSnapshots: 5,
  },
  io1: { size: { min: 4, max: 16_384 }, iops: { min: 100, max: 64_000, perGiB: 50, required: true }, multiAttach: true, concurrentSnapshots: 5 },
  io2: { size: { min: 4, max: 65_536 }, iops: { min: 100, max: 256_000, perGiB: 1_000, required: true }, multiAttach: true, concurrentSnapshots: 5 },
  st1: { size: { min: 125, max: 16_384 }, multiAttach: false, concurrentSnapshots: 1 },
  sc1: { size: { min: 125, max: 16_384 }, multiAttach: false, concurrentSnapshots: 1 },
  standard: { size: { min: 1, max: 1_024 }, multiAttach: false, concurrentSnapshots: 5 },
};

export interface Performance {
  volumeType: VolumeType;
  sizeGiB: number;
  /** Provisioned (gp3, io1, io2) or derived (gp2); undefined for st1, sc1, standard. */
  iops?: number;
  /** gp3 only. */
  throughput?: number;
  multiAttachEnabled: boolean;
}

export interface PerformanceRequest {
  volumeType: VolumeType;
  sizeGiB: number;
  iops?: number;
  throughput?: number;
  multiAttachEnabled?: boolean;
}

/** Checks a type/size/IOPS/throughput combination and fills the defaults. */
export function resolvePerformance(req: PerformanceRequest): Performance {
  const { volumeType: type, sizeGiB: size } = req;
  const limits = VOLUME_TYPE_LIMITS[type];
  if (!Number.isInteger(size) || size < limits.size.min || size > limits.size.max) {
    throw invalidValue(`Volume of size ${size}GiB is invalid for ${type}: expected ${limits.size.min} to ${limits.size.max} GiB.`);
  }
  let iops: number | undefined;
  if (limits.iops) {
    if (req.iops === undefined && limits.iops.required) throw missingParameter('Iops');
    iops = req.iops ?? limits.iops.default!;
    if (iops < limits.iops.min || iops > limits.iops.max) {
      throw invalidValue(`Volume iops of ${iops} is invalid for ${type}: expected ${limits.iops.min} to ${limits.iops.max}.`);
    }
    // gp3's 3,000 baseline comes with any size; only IOPS above it must respect the ratio.
    const baseline = limits.iops.default ?? 0;
    if (iops > baseline && iops > size * limits.iops.perGiB) {
      throw invalidValue(`Iops to volume size ratio of ${(iops / size).toFixed(6)} is too high; maximum is ${limits.iops.perGiB.toFixed(6)}.`);
    }
  } else if (req.iops !== undefined) {
    throw new CatalogError('INVALID_PARAMETER_COMBINATION', `The parameter iops is not supported for ${type} volumes.`);
  } else if (type === 'gp2') {
    iops = Math.min(16_000, Math.max(100, 3 * size));
  }
  let throughput: number | undefined;
  if (limits.throughput) {
    throughput = req.throughput ?? limits.throughput.default;
    if (!Number.isInteger(throughput) || throughput < limits.throughput.min || throughput > limits.throughput.max) {
      throw invalidValue(`Throughput of ${throughput} MiB/s is invalid for ${type}: expected ${limits.throughput.min} to ${limits.throughput.max}.`);
    }
    if (throughput > limits.throughput.default && throughput > iops! * limits.throughput.perIops) {
      throw invalidValue(`Throughput (MiB/s) to iops ratio of ${(throughput / iops!).toFixed(6)} is too high; maximum is ${limits.throughput.perIops.toFixed(6)} MiB/s per iops.`);
    }
  } else if (req.throughput !== undefined) {
    throw new CatalogError('INVALID_PARAMETER_COMBINATION', `The parameter throughput is not supported for ${type} volumes.`);
  }
  const multiAttachEnabled = req.multiAttachEnabled ?? false;
  if (multiAttachEnabled && !limits.multiAttach) {
    throw new CatalogError('INVALID_PARAMETER_COMBINATION', `Multi-Attach is supported only for io1 and io2 volumes, not ${type}.`);
  }
  return { volumeType: type, sizeGiB: size, iops, throughput, multiAttachEnabled };
}
