/**
 * Volumes: CreateVolume (empty, or a lazy restore of a snapshot), DeleteVolume, DescribeVolumes.
 * EC2's state machine: `creating` → `available` ⇄ `in-use` (attachments.ts) → `deleting` →
 * gone (Describe then answers InvalidVolume.NotFound, which the `volume_deleted` waiter expects).
 */
import { createHash } from 'node:crypto';
import { attachmentsAt } from '../state/attachment-records.js';
import { CatalogError, invalidValue, missingParameter, volumeNotFound } from '../service-errors.js';
import { compileFilters, type FilterInput } from '../state/filters.js';
import { VOLUME_FILTERS } from '../state/filter-tables.js';
import { checkSnapshotId, checkVolumeId } from '../state/resource-ids.js';
import { pageOf, type Page, type PageRequest } from '../state/pagination.js';
import type { SnapshotMeta, VolumeMeta } from '../state/resource-records.js';
import { resolveZone } from '../state/zones.js';
import { visibleSnapshot } from '../state/snapshot-access.js';
import { tagsFromSpecifications, type TagSpecificationInput } from '../state/tag-rules.js';
import type { VolumeView } from '../state/views.js';
import { resolvePerformance, type VolumeType } from '../state/volume-types.js';
import { newVolumeId } from '../../core/ids.js';
import type { RecordPut } from '../../core/record-store.js';
import { resolveEncryption } from '../account/encryption.js';
import { checkDryRun, GIB, schedule, track, type CallerContext, type ServiceState } from '../context.js';
import { snapshotUsable } from '../snapshots/snapshot-tiers.js';

export interface CreateVolumeInput {
  availabilityZone?: string;
  availabilityZoneId?: string;
  sizeGiB?: number;
  snapshotId?: string;
  volumeType?: VolumeType;
  iops?: number;
  throughput?: number;
  encrypted?: boolean;
  kmsKeyId?: string;
  multiAttachEnabled?: boolean;
  tagSpecifications?: TagSpecificationInput[];
  clientToken?: string;
  volumeInitializationRate?: number;
  outpostArn?: string;
}

export interface DescribeVolumesInput extends PageRequest {
  volumeIds?: string[];
  filters?: FilterInput[];
}

export function volumeView(v: VolumeMeta, now: number): VolumeView {
  const attachments = attachmentsAt(v, now);
  return {
    volumeId: v.id,
    sizeGiB: v.sizeGiB,
    snapshotId: v.snapshotId,
    availabilityZone: v.availabilityZone,
    availabilityZoneId: v.availabilityZoneId,
    state: v.state === 'available' && attachments.length > 0 ? 'in-use' : v.state,
    createTime: new Date(v.createTime),
    attachments: attachments.map((a) => ({
      volumeId: v.id, instanceId: a.instanceId, device: a.device, state: a.state, attachTime: new Date(a.attachTime), deleteOnTermination: a.deleteOnTermination,
    })),
    volumeType: v.volumeType,
    ...(v.iops !== undefined ? { iops: v.iops } : {}),
    ...(v.throughput !== undefined ? { throughput: v.throughput } : {}),
    encrypted: v.encrypted,
    ...(v.kmsKeyId !== undefined ? { kmsKeyId: v.kmsKeyId } : {}),
    multiAttachEnabled: v.multiAttachEnabled,
    ...(v.volumeInitializationRate !== undefined ? { volumeInitializationRate: v.volumeInitializationRate } : {}),
    tags: v.tags,
    ownerId: v.accountId,
    productCodes: v.productCodes,
  };
}

/** A volume of the caller's account in the caller's region, or InvalidVolume.NotFound. */
export function callerVolume(s: ServiceState, ctx: CallerContext, id: string): VolumeMeta {
  checkVolumeId(id);
  const v = s.catalog.getVolume(id);
  if (!v || v.accountId !== ctx.accountId || v.region !== ctx.region) throw volumeNotFound(id);
  return v;
}

function fingerprint(input: CreateVolumeInput): string {
  const { clientToken: _t, ...rest } = input;
  return createHash('sha256').update(JSON.stringify(rest, Object.keys(rest).sort())).digest('hex');
}

export async function createVolume(s: ServiceState, ctx: CallerContext, input: CreateVolumeInput): Promise<VolumeView> {
  if (input.clientToken !== undefined) {
    if (input.clientToken.length > 64) throw invalidValue('ClientToken must be at most 64 characters.');
    const earlier = replayed(s, ctx, input);
    if (earlier) return earlier;
  }
  if (input.availabilityZone !== undefined && input.availabilityZoneId !== undefined) {
    throw new CatalogError('INVALID_PARAMETER_COMBINATION', 'Specify either AvailabilityZone or AvailabilityZoneId, not both.');
  }
  if (input.availabilityZone === undefined && input.availabilityZoneId === undefined) throw missingParameter('AvailabilityZone');
  const zone = resolveZone(ctx.region, input.availabilityZone, input.availabilityZoneId);
  if (input.outpostArn !== undefined) throw invalidValue('Outposts are not simulated: omit OutpostArn.');

  const snapshot = input.snapshotId === undefined ? undefined : usableSnapshot(s, ctx, input.snapshotId);
  if (input.sizeGiB === undefined && !snapshot) throw missingParameter('Size or SnapshotId');
  const sizeGiB = input.sizeGiB ?? snapshot!.volumeSizeGiB;
  if (snapshot && sizeGiB < snapshot.volumeSizeGiB) {
    throw invalidValue(`Volume of ${sizeGiB}GiB is smaller than snapshot '${snapshot.id}', expect size >= ${snapshot.volumeSizeGiB}GiB`);
  }
  const perf = resolvePerformance({
    volumeType: input.volumeType ?? 'gp2', sizeGiB, iops: input.iops, throughput: input.throughput, multiAttachEnabled: input.multiAttachEnabled,
  });
  if (input.volumeInitializationRate !== undefined) {
    if (!snapshot) throw new CatalogError('INVALID_PARAMETER_COMBINATION', 'VolumeInitializationRate applies only to volumes created from a snapshot.');
    if (input.volumeInitializationRate < 100 || input.volumeInitializationRate > 300) {
      throw invalidValue(`VolumeInitializationRate must be 100 to 300 MiB/s, got ${input.volumeInitializationRate}.`);
    }
  }
  const encryption = resolveEncryption(s, ctx, input.encrypted, input.kmsKeyId, snapshot);
  const id = newVolumeId();
  const tags = tagsFromSpecifications(input.tagSpecifications, 'volume', id);
  checkDryRun(ctx);

  return s.lock.run(async () => {
    if (input.clientToken !== undefined) {
      const earlier = replayed(s, ctx, input); // a concurrent twin got there first
      if (earlier) return earlier;
    }
    const delayed = s.timings.volumeCreateDelayMs > 0;
    const meta: VolumeMeta = {
      id,
      seq: s.catalog.nextSeq(),
      accountId: ctx.accountId,
      region: ctx.region,
      availabilityZone: zone.zoneName,
      availabilityZoneId: zone.zoneId,
      ...perf,
      ...encryption,
      snapshotId: snapshot?.id ?? '',
      ...(input.volumeInitializationRate !== undefined ? { volumeInitializationRate: input.volumeInitializationRate } : {}),
      state: delayed ? 'creating' : 'available',
      createTime: s.clock.date().toISOString(),
      tags,
      productCodes: snapshot?.productCodes ?? [],
      attachments: [],
      ...(input.clientToken !== undefined ? { clientToken: input.clientToken, clientTokenFingerprint: fingerprint(input) } : {}),
    };
    await materializeVolume(s, meta);
    if (delayed) schedule(s, s.timings.volumeCreateDelayMs, () => becomeAvailable(s, id));
    // EC2 answers CreateVolume with `creating`, whatever comes next (`--timing instant`: what is).
    return { ...volumeView(meta, s.clock.now()), state: s.timings.instant ? meta.state : 'creating' };
  });
}

/** Creates the core volume (empty, or a lazy restore of `meta.snapshotId`) with its catalog record in the same batch. */
export async function materializeVolume(s: ServiceState, meta: VolumeMeta, extra: RecordPut[] = []): Promise<void> {
  const records = [s.catalog.volumeRecord(meta), ...extra];
  const size = meta.sizeGiB * GIB;
  if (meta.snapshotId !== '') await s.engine.restores.restoreVolume({ snapshotId: meta.snapshotId, volumeId: meta.id, size, records });
  else await s.store.createVolume({ id: meta.id, size, records });
  s.catalog.setVolume(meta);
}

function replayed(s: ServiceState, ctx: CallerContext, input: CreateVolumeInput): VolumeView | undefined {
  const earlierId = s.catalog.volumeIdForToken(ctx.accountId, ctx.region, input.clientToken!);
  const earlier = earlierId === undefined ? undefined : s.catalog.getVolume(earlierId);
  if (!earlier) return undefined;
  if (earlier.clientTokenFingerprint !== fingerprint(input)) {
    throw new CatalogError('IDEMPOTENT_PARAMETER_MISMATCH',
      `The client token '${input.clientToken}' was already used for volume ${earlier.id} with different parameters.`);
  }
  checkDryRun(ctx);
  return volumeView(earlier, s.clock.now());
}

/** A snapshot the caller may create a volume from now (completed, in the standard tier). */
export function usableSnapshot(s: ServiceState, ctx: CallerContext, snapshotId: string): SnapshotMeta {
  const snap = visibleSnapshot(s.catalog.getSnapshot(checkSnapshotId(snapshotId)), ctx, snapshotId);
  const state = s.engine.statuses.state(snap.id) ?? 'error';
  if (state !== 'completed') throw new CatalogError('INCORRECT_STATE', `Snapshot '${snap.id}' is ${state}: volumes can only be created from completed snapshots.`);
  if (!snapshotUsable(s, snap)) throw new CatalogError('INCORRECT_STATE', `Snapshot '${snap.id}' is in the archive tier: restore it first (RestoreSnapshotTier).`);
  return snap;
}

async function becomeAvailable(s: ServiceState, id: string): Promise<void> {
  await s.lock.run(async () => {
    const v = s.catalog.getVolume(id);
    if (v?.state === 'creating') await s.catalog.saveVolume({ ...v, state: 'available' });
  });
}

export async function deleteVolume(s: ServiceState, ctx: CallerContext, volumeId: string): Promise<void> {
  checkDeletable(callerVolume(s, ctx, volumeId), s.clock.now());
  checkDryRun(ctx);
  await s.lock.run(async () => {
    const current = callerVolume(s, ctx, volumeId);
    if (current.state === 'deleting') return;
    checkDeletable(current, s.clock.now()); // an AttachVolume may have come first
    await s.catalog.saveVolume({ ...current, state: 'deleting' });
  });
  // Freeing the volume's blocks takes time proportional to what was written: EC2 also answers
  // at once and shows `deleting` meanwhile.
  track(s, purgeVolume(s, volumeId));
}

function checkDeletable(v: VolumeMeta, now: number): void {
  const attachments = attachmentsAt(v, now);
  if (attachments.length > 0 || v.state === 'in-use') {
    const to = attachments.map((a) => a.instanceId).join(', ');
    throw new CatalogError('VOLUME_IN_USE', `Volume ${v.id} is currently attached to ${to || 'an instance'}.`);
  }
  if (v.state !== 'available' && v.state !== 'error') {
    throw new CatalogError('INCORRECT_STATE', `The volume '${v.id}' is '${v.state}' and cannot be deleted now.`);
  }
}

/** The core deletion; the catalog record goes in the same batch. Also resumes deletions after a restart. */
export async function purgeVolume(s: ServiceState, volumeId: string): Promise<void> {
  const records = [s.catalog.volumeDeletion(volumeId), s.catalog.modificationDeletion(volumeId)];
  try {
    await s.store.deleteVolume(volumeId, records);
  } catch (err) {
    if ((err as { code?: string }).code !== 'VOLUME_NOT_FOUND') throw err;
    await s.store.records.write(records); // already gone from the core (a crash in between)
  }
  s.catalog.removeVolume(volumeId);
  s.catalog.removeModification(volumeId);
  s.engine.retryDeferredDeletes(); // a snapshot it was restored from may have waited for it
}

/** Restored volumes: how far the background load from the snapshot got. */
export function hydration(s: ServiceState, volumeId: string): ReturnType<ServiceState['engine']['restores']['hydration']> {
  return s.engine.restores.hydration(volumeId);
}

export function describeVolumes(s: ServiceState, ctx: CallerContext, input: DescribeVolumesInput): Page<VolumeView> {
  const ids = input.volumeIds ?? [];
  if (ids.length > 0 && input.maxResults !== undefined) {
    throw new CatalogError('INVALID_PARAMETER_COMBINATION', 'The parameter volumeSet cannot be used with the parameter maxResults');
  }
  const filter = compileFilters(VOLUME_FILTERS, input.filters);
  let candidates: Iterable<VolumeMeta>;
  if (ids.length > 0) {
    candidates = [...new Set(ids)].map((id) => callerVolume(s, ctx, id)).sort((a, b) => a.seq - b.seq);
  } else if (filter.ids) {
    candidates = [...filter.ids]
      .map((id) => s.catalog.getVolume(id))
      .filter((v): v is VolumeMeta => v !== undefined && v.accountId === ctx.accountId && v.region === ctx.region)
      .sort((a, b) => a.seq - b.seq);
  } else {
    candidates = s.catalog.volumesOf(ctx.accountId, ctx.region);
  }
  const now = s.clock.now();
  return pageOf(candidates, (v) => volumeView(v, now), filter.matches, input, { min: 5, max: 500 });
}
