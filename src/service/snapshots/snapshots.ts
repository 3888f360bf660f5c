/**
 * Snapshots: CreateSnapshot freezes the volume when the call is accepted (the copy engine's
 * freeze is one LevelDB batch, with the catalog record riding along), then the snapshot shows
 * `pending` with the engine's real progress until its blocks and manifest are in the object
 * store. DescribeSnapshots, DeleteSnapshot (deferred by the engine while pending), CopySnapshot
 * (same region or across regions: a new snapshot sharing the source's blocks).
 */
import { CatalogError, invalidValue } from '../service-errors.js';
import { compileFilters, type FilterInput } from '../state/filters.js';
import { SNAPSHOT_FILTERS } from '../state/filter-tables.js';
import { checkSnapshotId, COPIED_SNAPSHOT_VOLUME_ID } from '../state/resource-ids.js';
import { pageOf, type Page, type PageRequest } from '../state/pagination.js';
import type { SnapshotMeta, Tag, VolumeMeta } from '../state/resource-records.js';
import { checkRegion } from '../state/zones.js';
import { ownedByAny, ownedSnapshot, restorableBy, visibleSnapshot } from '../state/snapshot-access.js';
import { tagsFromSpecifications, type TagSpecificationInput } from '../state/tag-rules.js';
import type { SnapshotView } from '../state/views.js';
import { VOLUME_TYPE_LIMITS } from '../state/volume-types.js';
import { isCoreError } from '../../core/errors.js';
import { newSnapshotId } from '../../core/ids.js';
import { checkDryRun, type CallerContext, type ServiceState } from '../context.js';
import { resolveEncryption } from '../account/encryption.js';
import { tierState } from './snapshot-tiers.js';
import { callerVolume } from '../volumes/volumes.js';

export const MAX_DESCRIPTION = 255;

export interface CreateSnapshotInput {
  volumeId: string;
  description?: string;
  tagSpecifications?: TagSpecificationInput[];
  outpostArn?: string;
}

export interface DescribeSnapshotsInput extends PageRequest {
  snapshotIds?: string[];
  ownerIds?: string[];
  restorableByUserIds?: string[];
  filters?: FilterInput[];
}

export interface CopySnapshotInput {
  sourceSnapshotId: string;
  sourceRegion: string;
  destinationRegion?: string;
  description?: string;
  encrypted?: boolean;
  kmsKeyId?: string;
  tagSpecifications?: TagSpecificationInput[];
  completionDurationMinutes?: number;
  destinationOutpostArn?: string;
}

export function snapshotView(s: ServiceState, snap: SnapshotMeta, callerAccountId: string): SnapshotView {
  const status = s.engine.statuses.status(snap.id);
  const tier = tierState(snap, s.clock.now());
  return {
    snapshotId: snap.id,
    volumeId: snap.volumeId,
    state: status?.state ?? 'error',
    ...(status?.message !== undefined && status.state === 'error' ? { stateMessage: status.message } : {}),
    ...(status?.trouble !== undefined && status.state === 'pending' ? { stateMessage: status.trouble } : {}),
    ...(status ? {} : { stateMessage: 'The snapshot has no copy status (its copy was lost).' }),
    startTime: new Date(snap.startTime),
    progress: `${status?.progress ?? 0}%`,
    ...(status?.completedAt !== undefined ? { completionTime: new Date(status.completedAt) } : {}),
    ownerId: snap.ownerId,
    description: snap.description,
    volumeSizeGiB: snap.volumeSizeGiB,
    encrypted: snap.encrypted,
    ...(snap.kmsKeyId !== undefined ? { kmsKeyId: snap.kmsKeyId } : {}),
    // Tags belong to the owner: accounts the snapshot is shared with do not see them.
    tags: snap.ownerId === callerAccountId ? snap.tags : [],
    storageTier: tier.storageTier,
    ...(tier.restoreExpiryTime ? { restoreExpiryTime: tier.restoreExpiryTime } : {}),
    ...(status ? { bytesUploaded: status.bytesUploaded } : {}),
  };
}

export function checkDescription(d: string | undefined): string {
  if (d !== undefined && [...d].length > MAX_DESCRIPTION) {
    throw invalidValue(`Value for parameter Description is too long: ${[...d].length} characters; the maximum is ${MAX_DESCRIPTION}.`);
  }
  return d ?? '';
}

export async function createSnapshot(s: ServiceState, ctx: CallerContext, input: CreateSnapshotInput): Promise<SnapshotView> {
  const volume = snapshotSource(s, ctx, input.volumeId);
  const description = checkDescription(input.description);
  if (input.outpostArn !== undefined) throw invalidValue('Outposts are not simulated: omit OutpostArn.');
  const id = newSnapshotId();
  const tags = tagsFromSpecifications(input.tagSpecifications, 'snapshot', id);

  const view = await s.lock.run(async () => {
    const now = s.clock.now();
    checkSnapshotLimits(s, volume, now);
    checkDryRun(ctx);
    const meta = newSnapshotMeta(s, ctx, volume, { id, description, tags, now });
    await s.engine.createSnapshots([{ volumeId: volume.id, snapshotId: id }], { records: [s.catalog.snapshotRecord(meta)] });
    s.catalog.setSnapshot(meta);
    return snapshotView(s, meta, ctx.accountId);
  });
  return (await settledUnderInstantTiming(s, ctx, [view]))[0]!;
}

/**
 * Under `--timing instant`, waits (outside the lock) until the snapshots' copies settled and
 * answers their final views; otherwise answers `views` as they are, `pending`.
 */
export async function settledUnderInstantTiming(s: ServiceState, ctx: CallerContext, views: SnapshotView[]): Promise<SnapshotView[]> {
  if (!s.timings.instant) return views;
  await Promise.all(views.map((v) => s.engine.statuses.settled(v.snapshotId)));
  return views.map((v) => {
    const meta = s.catalog.getSnapshot(v.snapshotId);
    return meta ? snapshotView(s, meta, ctx.accountId) : v;
  });
}

/** A volume of the caller that can be snapshotted now. */
export function snapshotSource(s: ServiceState, ctx: CallerContext, volumeId: string): VolumeMeta {
  const volume = callerVolume(s, ctx, volumeId);
  if (volume.state !== 'available' && volume.state !== 'in-use') {
    throw new CatalogError('INCORRECT_STATE', `The volume '${volume.id}' is '${volume.state}': only available or in-use volumes can be snapshotted.`);
  }
  return volume;
}

/** ConcurrentSnapshotLimitExceeded and SnapshotCreationPerVolumeRateExceeded, for one more snapshot of `volume`. */
export function checkSnapshotLimits(s: ServiceState, volume: VolumeMeta, now: number): void {
  const limit = VOLUME_TYPE_LIMITS[volume.volumeType].concurrentSnapshots;
  const interval = s.timings.snapshotIntervalMs;
  let inFlight = 0;
  let last = 0;
  for (const snap of s.catalog.snapshotsOfVolume(volume.id)) {
    // Snapshots stuck in `error` count too (EBS user guide, "Create snapshots").
    const state = s.engine.statuses.state(snap.id);
    if (state === 'pending' || state === 'error') inFlight++;
    if (interval > 0) last = Math.max(last, Date.parse(snap.startTime));
  }
  if (inFlight >= limit) {
    throw new CatalogError('CONCURRENT_SNAPSHOT_LIMIT_EXCEEDED',
      `Maximum number of concurrent snapshots (${limit}) reached for ${volume.volumeType} volume ${volume.id}; wait for a pending snapshot to complete.`);
  }
  if (interval > 0 && now - last < interval) {
    throw new CatalogError('SNAPSHOT_RATE_EXCEEDED',
      `The maximum per volume CreateSnapshot request rate has been exceeded. Wait at least ${interval / 1000} seconds between snapshots of ${volume.id} (${((interval - (now - last)) / 1000).toFixed(1)} s left).`);
  }
}

/** The catalog record of a snapshot of `volume` taken at `now`. */
export function newSnapshotMeta(
  s: ServiceState, ctx: CallerContext, volume: VolumeMeta, o: { id: string; description: string; tags: Tag[]; now: number },
): SnapshotMeta {
  return {
    id: o.id,
    seq: s.catalog.nextSeq(),
    ownerId: ctx.accountId,
    region: ctx.region,
    volumeId: volume.id,
    volumeSizeGiB: volume.sizeGiB,
    sourceVolumeType: volume.volumeType,
    description: o.description,
    encrypted: volume.encrypted,
    ...(volume.kmsKeyId !== undefined ? { kmsKeyId: volume.kmsKeyId } : {}),
    startTime: new Date(o.now).toISOString(),
    tags: o.tags,
    // "Any AWS Marketplace product codes from the volume are propagated to the snapshot."
    productCodes: volume.productCodes,
    createVolumePermissions: { userIds: [], public: false },
    archived: false,
  };
}

export function describeSnapshots(s: ServiceState, ctx: CallerContext, input: DescribeSnapshotsInput): Page<SnapshotView> {
  const ids = input.snapshotIds ?? [];
  if (ids.length > 0 && input.maxResults !== undefined) {
    throw new CatalogError('INVALID_PARAMETER_COMBINATION', 'The parameter snapshotSet cannot be used with the parameter maxResults');
  }
  const filter = compileFilters(SNAPSHOT_FILTERS, input.filters);
  let candidates: Iterable<SnapshotMeta>;
  if (ids.length > 0) {
    candidates = [...new Set(ids)]
      .map((id) => visibleSnapshot(s.catalog.getSnapshot(checkSnapshotId(id)), ctx, id))
      .sort((a, b) => a.seq - b.seq);
  } else if (filter.ids) {
    candidates = [...filter.ids]
      .map((id) => s.catalog.getSnapshot(id))
      .filter((m): m is SnapshotMeta => m !== undefined && isVisible(m, ctx))
      .sort((a, b) => a.seq - b.seq);
  } else {
    candidates = s.catalog.visibleSnapshots(ctx.accountId, ctx.region);
  }
  const owners = input.ownerIds ?? [];
  const restorable = input.restorableByUserIds ?? [];
  const selected = (m: SnapshotMeta) =>
    (owners.length === 0 || ownedByAny(m, owners, ctx)) && (restorable.length === 0 || restorableBy(m, restorable, ctx));
  return pageOf(
    filterIterable(candidates, selected),
    (m) => snapshotView(s, m, ctx.accountId),
    filter.matches,
    input,
    { min: 5, max: 1000 },
  );
}

function isVisible(m: SnapshotMeta, ctx: CallerContext): boolean {
  try {
    visibleSnapshot(m, ctx, m.id);
    return true;
  } catch {
    return false;
  }
}

function* filterIterable<T>(items: Iterable<T>, keep: (t: T) => boolean): Generator<T> {
  for (const t of items) if (keep(t)) yield t;
}

export async function deleteSnapshot(s: ServiceState, ctx: CallerContext, snapshotId: string): Promise<void> {
  ownedSnapshot(s.catalog.getSnapshot(checkSnapshotId(snapshotId)), ctx, snapshotId);
  checkDryRun(ctx);
  // The request is persisted under the lock (with the catalog record's removal, in one batch);
  // the deletion's object-store calls run after it, holding up no other call.
  const deletion = await s.lock.run(async () => {
    const snap = ownedSnapshot(s.catalog.getSnapshot(snapshotId), ctx, snapshotId);
    const records = [s.catalog.snapshotDeletion(snap.id)];
    const requested = await s.engine.requestDeletion(snap.id, { records }).catch(async (err: unknown) => {
      if (!isCoreError(err, 'SNAPSHOT_NOT_FOUND')) throw err;
      await s.store.records.write(records); // a catalog record whose copy was lost
      return undefined;
    });
    s.catalog.removeSnapshot(snap.id);
    return { deleted: requested?.deleted }; // wrapped: returning the promise itself would hold the lock until it settles
  });
  // The snapshot is gone for every caller now; as in EC2, its data goes after the answer (under
  // --timing instant, before it). A deletion the store makes fail is finished at the next open
  // (the request is persisted): the caller is not told of an error it cannot act on.
  // Not tracked as the service's background work: the engine's close gives it a grace period.
  const deleted = deletion.deleted?.catch(() => undefined);
  if (s.timings.instant) await deleted;
}

export async function copySnapshot(s: ServiceState, ctx: CallerContext, input: CopySnapshotInput): Promise<{ snapshotId: string; tags: Tag[] }> {
  const sourceRegion = checkRegion(input.sourceRegion, 'SourceRegion');
  if (input.destinationRegion !== undefined && input.destinationRegion !== ctx.region) {
    throw invalidValue(`DestinationRegion (${input.destinationRegion}) must be the region the request is sent to (${ctx.region}).`);
  }
  if (input.destinationOutpostArn !== undefined) throw invalidValue('Outposts are not simulated: omit DestinationOutpostArn.');
  const source = visibleSnapshot(s.catalog.getSnapshot(checkSnapshotId(input.sourceSnapshotId)), { ...ctx, region: sourceRegion }, input.sourceSnapshotId);
  const state = s.engine.statuses.state(source.id) ?? 'error';
  if (state !== 'completed') throw new CatalogError('INCORRECT_STATE', `Snapshot '${source.id}' is ${state}: only completed snapshots can be copied.`);
  if (!tierState(source, s.clock.now()).usable) throw new CatalogError('INCORRECT_STATE', `Snapshot '${source.id}' is in the archive tier: restore it first.`);
  if (input.encrypted === false && source.encrypted) {
    throw new CatalogError('INVALID_PARAMETER_COMBINATION', 'Encrypted cannot be false: copies of encrypted snapshots are encrypted.');
  }
  const m = input.completionDurationMinutes;
  if (m !== undefined && (m < 15 || m > 2880 || m % 15 !== 0)) {
    throw invalidValue(`CompletionDurationMinutes must be a multiple of 15 from 15 to 2880, got ${m}.`);
  }
  const encryption = resolveEncryption(s, ctx, input.encrypted, input.kmsKeyId, source);
  const description = checkDescription(input.description ?? `[Copied ${source.id} from ${sourceRegion}]`);
  const id = newSnapshotId();
  const tags = tagsFromSpecifications(input.tagSpecifications, 'snapshot', id);
  checkDryRun(ctx);

  return s.lock.run(async () => {
    const meta: SnapshotMeta = {
      id,
      seq: s.catalog.nextSeq(),
      ownerId: ctx.accountId,
      region: ctx.region,
      volumeId: COPIED_SNAPSHOT_VOLUME_ID,
      volumeSizeGiB: source.volumeSizeGiB,
      description,
      ...encryption,
      startTime: s.clock.date().toISOString(),
      tags,
      productCodes: source.productCodes,
      createVolumePermissions: { userIds: [], public: false },
      archived: false,
      copiedFrom: { snapshotId: source.id, region: sourceRegion },
    };
    // The catalog record rides in the engine's batch: the copy and its EC2 view appear together.
    await s.engine.copySnapshot(source.id, { snapshotId: id, records: [s.catalog.snapshotRecord(meta)] });
    s.catalog.setSnapshot(meta);
    return { snapshotId: id, tags };
  }).then(async (copy) => {
    if (s.timings.instant) await s.engine.statuses.settled(copy.snapshotId);
    return copy;
  });
}
