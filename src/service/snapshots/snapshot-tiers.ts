/**
 * Snapshot storage tiers as state machines (ModifySnapshotTier, RestoreSnapshotTier,
 * DescribeSnapshotTierStatus). No bytes move: archiving changes what a snapshot may be used for.
 * Each operation lasts `tieringMs`; its state and progress are derived from the clock, so there
 * is no timer to lose in a restart.
 *
 *   standard ──archive──▶ archival-in-progress ──▶ archive (archival-completed)
 *   archive ──permanent──▶ permanent-restore-in-progress ──▶ standard
 *   archive ──temporary(days)──▶ temporary-restore-in-progress ──▶ restored until expiry ──▶ archive
 */
import { CatalogError, invalidValue, missingParameter } from '../service-errors.js';
import { compileFilters, type FilterInput } from '../state/filters.js';
import { TIER_STATUS_FILTERS } from '../state/filter-tables.js';
import { checkSnapshotId } from '../state/resource-ids.js';
import { pageOf, type Page, type PageRequest } from '../state/pagination.js';
import type { SnapshotMeta, TieringStatus } from '../state/resource-records.js';
import { ownedSnapshot } from '../state/snapshot-access.js';
import type { TierStatusView } from '../state/views.js';
import { checkDryRun, type CallerContext, type ServiceState } from '../context.js';

const DAY_MS = 24 * 3600 * 1000;

export interface TierState {
  storageTier: 'standard' | 'archive';
  /** Data readable now: standard tier, or a completed temporary restore that has not expired. */
  usable: boolean;
  /** An archive or restore still running. */
  busy: boolean;
  status?: TieringStatus;
  progress?: number;
  archivalCompleteTime?: Date;
  restoreExpiryTime?: Date;
}

export function tierState(snap: SnapshotMeta, now: number): TierState {
  const op = snap.tiering;
  const base: TierState = { storageTier: snap.archived ? 'archive' : 'standard', usable: !snap.archived, busy: false };
  if (!op) return base;
  const start = Date.parse(op.startTime);
  const end = Date.parse(op.completeTime);
  const done = now >= end;
  const progress = done ? 100 : Math.min(99, Math.floor(((now - start) / Math.max(1, end - start)) * 100));
  switch (op.kind) {
    case 'archive':
      return done
        ? { storageTier: 'archive', usable: false, busy: false, status: 'archival-completed', progress, archivalCompleteTime: new Date(end) }
        : { storageTier: 'standard', usable: true, busy: true, status: 'archival-in-progress', progress };
    case 'permanent-restore':
      return done
        ? { storageTier: 'standard', usable: true, busy: false, status: 'permanent-restore-completed', progress }
        : { storageTier: 'archive', usable: false, busy: true, status: 'permanent-restore-in-progress', progress };
    case 'temporary-restore': {
      if (!done) return { storageTier: 'archive', usable: false, busy: true, status: 'temporary-restore-in-progress', progress };
      const expiry = Date.parse(op.restoreExpiryTime!);
      return { storageTier: 'archive', usable: now < expiry, busy: false, status: 'temporary-restore-completed', progress, restoreExpiryTime: new Date(expiry) };
    }
  }
}

export function snapshotUsable(s: ServiceState, snap: SnapshotMeta): boolean {
  return tierState(snap, s.clock.now()).usable;
}

export async function modifySnapshotTier(
  s: ServiceState, ctx: CallerContext, input: { snapshotId: string; storageTier?: string },
): Promise<{ snapshotId: string; tieringStartTime: Date }> {
  const tier = input.storageTier ?? 'archive';
  if (tier !== 'archive') throw invalidValue(`StorageTier must be 'archive', got '${tier}'.`);
  return s.lock.run(async () => {
    const snap = ownedSnapshot(s.catalog.getSnapshot(checkSnapshotId(input.snapshotId)), ctx, input.snapshotId);
    const state = s.engine.statuses.state(snap.id);
    if (state !== 'completed') throw new CatalogError('INCORRECT_STATE', `Snapshot '${snap.id}' is ${state ?? 'error'}: only completed snapshots can be archived.`);
    const now = tierState(snap, s.clock.now());
    if (now.busy) throw new CatalogError('INCORRECT_STATE', `Snapshot '${snap.id}' has a tiering operation in progress (${now.status}).`);
    if (now.storageTier === 'archive') throw new CatalogError('INCORRECT_STATE', `Snapshot '${snap.id}' is already in the archive tier.`);
    if (snap.createVolumePermissions.public || snap.createVolumePermissions.userIds.length > 0) {
      throw new CatalogError('INCORRECT_STATE', `Snapshot '${snap.id}' is shared: unshare it before archiving.`);
    }
    checkDryRun(ctx);
    const start = s.clock.date();
    await s.catalog.saveSnapshot({
      ...snap,
      archived: false,
      tiering: { kind: 'archive', startTime: start.toISOString(), completeTime: new Date(start.getTime() + s.timings.tieringMs).toISOString() },
    });
    return { snapshotId: snap.id, tieringStartTime: start };
  });
}

export interface RestoreTierResult {
  snapshotId: string;
  restoreStartTime: Date;
  restoreDuration?: number;
  isPermanentRestore: boolean;
}

export async function restoreSnapshotTier(
  s: ServiceState, ctx: CallerContext, input: { snapshotId: string; temporaryRestoreDays?: number; permanentRestore?: boolean },
): Promise<RestoreTierResult> {
  const permanent = input.permanentRestore === true;
  const days = input.temporaryRestoreDays;
  if (permanent && days !== undefined) {
    throw new CatalogError('INVALID_PARAMETER_COMBINATION', 'Specify TemporaryRestoreDays or PermanentRestore, not both.');
  }
  if (!permanent && days === undefined) throw missingParameter('TemporaryRestoreDays (or PermanentRestore=true)');
  if (days !== undefined && (days < 1 || days > 180)) throw invalidValue(`TemporaryRestoreDays must be 1 to 180, got ${days}.`);
  return s.lock.run(async () => {
    const snap = ownedSnapshot(s.catalog.getSnapshot(checkSnapshotId(input.snapshotId)), ctx, input.snapshotId);
    const now = tierState(snap, s.clock.now());
    if (now.busy) throw new CatalogError('INCORRECT_STATE', `Snapshot '${snap.id}' has a tiering operation in progress (${now.status}).`);
    if (now.storageTier !== 'archive') throw new CatalogError('INCORRECT_STATE', `Snapshot '${snap.id}' is not in the archive tier.`);
    checkDryRun(ctx);
    const start = s.clock.date();
    const complete = new Date(start.getTime() + s.timings.tieringMs);
    await s.catalog.saveSnapshot({
      ...snap,
      archived: true,
      tiering: {
        kind: permanent ? 'permanent-restore' : 'temporary-restore',
        startTime: start.toISOString(),
        completeTime: complete.toISOString(),
        ...(days !== undefined ? { temporaryRestoreDays: days, restoreExpiryTime: new Date(complete.getTime() + days * DAY_MS).toISOString() } : {}),
      },
    });
    return { snapshotId: snap.id, restoreStartTime: start, ...(days !== undefined ? { restoreDuration: days } : {}), isPermanentRestore: permanent };
  });
}

export function tierStatusView(s: ServiceState, snap: SnapshotMeta): TierStatusView {
  const t = tierState(snap, s.clock.now());
  return {
    snapshotId: snap.id,
    volumeId: snap.volumeId,
    state: s.engine.statuses.state(snap.id) ?? 'error',
    ownerId: snap.ownerId,
    tags: snap.tags,
    storageTier: t.storageTier,
    ...(snap.tiering ? { lastTieringStartTime: new Date(snap.tiering.startTime), lastTieringProgress: t.progress! } : {}),
    ...(t.status ? { lastTieringOperationStatus: t.status, lastTieringOperationStatusDetail: statusDetail(t) } : {}),
    ...(t.archivalCompleteTime ? { archivalCompleteTime: t.archivalCompleteTime } : {}),
    ...(t.restoreExpiryTime ? { restoreExpiryTime: t.restoreExpiryTime } : {}),
  };
}

function statusDetail(t: TierState): string {
  if (t.status === 'temporary-restore-completed' && !t.usable) return 'Temporary restore expired; the snapshot is archived again.';
  return t.busy ? `In progress: ${t.progress}%` : 'Completed';
}

export function describeSnapshotTierStatus(
  s: ServiceState, ctx: CallerContext, input: PageRequest & { filters?: FilterInput[] },
): Page<TierStatusView> {
  const filter = compileFilters(TIER_STATUS_FILTERS, input.filters);
  return pageOf(s.catalog.ownedSnapshots(ctx.accountId, ctx.region), (snap) => tierStatusView(s, snap), filter.matches, input, { min: 5, max: 1000 });
}
