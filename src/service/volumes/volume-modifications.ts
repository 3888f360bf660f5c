/**
 * ModifyVolume (grow only, change type, IOPS, throughput) and DescribeVolumesModifications. The
 * new size is usable at once; the modification then shows `modifying`, `optimizing` and
 * `completed` over `modificationMs`, derived from the clock. A volume takes one modification at
 * a time (IncorrectModificationState until the previous one completed).
 */
import { CatalogError, invalidValue } from '../service-errors.js';
import { compileFilters, type FilterInput } from '../state/filters.js';
import { MODIFICATION_FILTERS } from '../state/filter-tables.js';
import { pageOf, type Page, type PageRequest } from '../state/pagination.js';
import type { ModificationMeta, ModificationState } from '../state/resource-records.js';
import type { ModificationView } from '../state/views.js';
import { resolvePerformance, VOLUME_TYPE_LIMITS, type VolumeType } from '../state/volume-types.js';
import { checkDryRun, GIB, type CallerContext, type ServiceState } from '../context.js';
import { callerVolume } from './volumes.js';

export interface ModifyVolumeInput {
  volumeId: string;
  sizeGiB?: number;
  volumeType?: VolumeType;
  iops?: number;
  throughput?: number;
  multiAttachEnabled?: boolean;
}

export function modificationView(m: ModificationMeta, now: number): ModificationView {
  const start = Date.parse(m.startTime);
  const end = Date.parse(m.endTime);
  const state: ModificationState = now >= end ? 'completed' : now >= Date.parse(m.optimizingTime) ? 'optimizing' : 'modifying';
  const progress = state === 'completed' ? 100 : Math.min(99, Math.floor(((now - start) / Math.max(1, end - start)) * 100));
  return {
    volumeId: m.volumeId,
    modificationState: state,
    targetSize: m.target.sizeGiB,
    ...(m.target.iops !== undefined ? { targetIops: m.target.iops } : {}),
    targetVolumeType: m.target.volumeType,
    ...(m.target.throughput !== undefined ? { targetThroughput: m.target.throughput } : {}),
    targetMultiAttachEnabled: m.target.multiAttachEnabled,
    originalSize: m.original.sizeGiB,
    ...(m.original.iops !== undefined ? { originalIops: m.original.iops } : {}),
    originalVolumeType: m.original.volumeType,
    ...(m.original.throughput !== undefined ? { originalThroughput: m.original.throughput } : {}),
    originalMultiAttachEnabled: m.original.multiAttachEnabled,
    progress,
    startTime: new Date(start),
    ...(state === 'completed' ? { endTime: new Date(end) } : {}),
  };
}

export async function modifyVolume(s: ServiceState, ctx: CallerContext, input: ModifyVolumeInput): Promise<ModificationView> {
  return s.lock.run(async () => {
    const v = callerVolume(s, ctx, input.volumeId);
    if (v.state !== 'available' && v.state !== 'in-use') {
      throw new CatalogError('INCORRECT_STATE', `The volume '${v.id}' is '${v.state}' and cannot be modified.`);
    }
    const previous = s.catalog.getModification(v.id);
    if (previous && modificationView(previous, s.clock.now()).modificationState !== 'completed') {
      throw new CatalogError('INCORRECT_MODIFICATION_STATE', `Volume ${v.id} is already being modified (${modificationView(previous, s.clock.now()).modificationState}).`);
    }
    const type = input.volumeType ?? v.volumeType;
    const sameType = type === v.volumeType;
    const limits = VOLUME_TYPE_LIMITS[type];
    const sizeGiB = input.sizeGiB ?? v.sizeGiB;
    if (sizeGiB < v.sizeGiB) throw invalidValue(`New size cannot be smaller than existing size: ${sizeGiB}GiB < ${v.sizeGiB}GiB.`);
    const target = resolvePerformance({
      volumeType: type,
      sizeGiB,
      // Docs: omitted values are kept for the same type; a new provisioned type starts at 3,000 IOPS / 125 MiB/s.
      iops: input.iops ?? (limits.iops ? (sameType ? v.iops : 3_000) : undefined),
      throughput: input.throughput ?? (limits.throughput && sameType ? v.throughput : undefined),
      multiAttachEnabled: input.multiAttachEnabled ?? (limits.multiAttach ? v.multiAttachEnabled : false),
    });
    const original = { sizeGiB: v.sizeGiB, volumeType: v.volumeType, iops: v.iops, throughput: v.throughput, multiAttachEnabled: v.multiAttachEnabled };
    const same = (Object.keys(original) as Array<keyof typeof original>).every((k) => target[k] === original[k]);
    if (same) {
      throw invalidValue(`Modification of ${v.id} changes nothing: give a larger Size, or a new VolumeType, Iops, Throughput or MultiAttachEnabled.`);
    }
    checkDryRun(ctx);
    const now = s.clock.now();
    const m: ModificationMeta = {
      volumeId: v.id,
      seq: s.catalog.nextSeq(),
      accountId: v.accountId,
      region: v.region,
      original,
      target,
      startTime: new Date(now).toISOString(),
      optimizingTime: new Date(now + s.timings.modificationMs / 2).toISOString(),
      endTime: new Date(now + s.timings.modificationMs).toISOString(),
    };
    const updated = { ...v, ...target };
    if (target.iops === undefined) delete updated.iops;
    if (target.throughput === undefined) delete updated.throughput;
    const records = [s.catalog.volumeRecord(updated), s.catalog.modificationRecord(m)];
    // Growing changes the core's size in the same batch as the catalog's records.
    if (sizeGiB > v.sizeGiB) await s.store.resizeVolume(v.id, sizeGiB * GIB, records);
    else await s.store.records.write(records);
    s.catalog.setVolume(updated);
    s.catalog.setModification(m);
    return modificationView(m, now);
  });
}

export function describeVolumesModifications(
  s: ServiceState, ctx: CallerContext, input: PageRequest & { volumeIds?: string[]; filters?: FilterInput[] },
): Page<ModificationView> {
  const ids = new Set(input.volumeIds ?? []);
  for (const id of ids) callerVolume(s, ctx, id);
  const filter = compileFilters(MODIFICATION_FILTERS, input.filters);
  const mods = s.catalog.modificationsOf(ctx.accountId, ctx.region).filter((m) => ids.size === 0 || ids.has(m.volumeId));
  const now = s.clock.now();
  return pageOf(mods, (m) => modificationView(m, now), filter.matches, input, { min: 1, max: 500 });
}
