/**
 * Who may see and use a snapshot. The owner; accounts named in its createVolumePermission; anyone
 * when it is public (group `all`). All of it within the snapshot's region. Only the owner may
 * change, tag, share or delete it; the others may describe it, copy it and create volumes from it.
 */
import { CatalogError, snapshotNotFound } from '../service-errors.js';
import type { SnapshotMeta } from './resource-records.js';

export interface Caller {
  accountId: string;
  region: string;
}

export function canUse(s: SnapshotMeta, accountId: string): boolean {
  return s.ownerId === accountId || s.createVolumePermissions.public || s.createVolumePermissions.userIds.includes(accountId);
}

/** Whether `id` names a snapshot the account may see (any region: a copy's source is elsewhere). */
export function canSee(lookup: (id: string) => SnapshotMeta | undefined, accountId: string, id: string): boolean {
  const s = lookup(id);
  return s !== undefined && canUse(s, accountId);
}

/** The snapshot if the caller may see it in its region; otherwise InvalidSnapshot.NotFound. */
export function visibleSnapshot(s: SnapshotMeta | undefined, caller: Caller, id: string): SnapshotMeta {
  if (!s || s.region !== caller.region || !canUse(s, caller.accountId)) throw snapshotNotFound(id);
  return s;
}

/** The snapshot if the caller owns it; a visible one owned by another account is UnauthorizedOperation. */
export function ownedSnapshot(s: SnapshotMeta | undefined, caller: Caller, id: string): SnapshotMeta {
  const snap = visibleSnapshot(s, caller, id);
  if (snap.ownerId !== caller.accountId) {
    throw new CatalogError('UNAUTHORIZED_OPERATION', `You are not authorized to modify snapshot '${id}': it belongs to another account.`);
  }
  return snap;
}

/**
 * DescribeSnapshots' RestorableBy.N: `all` (public snapshots), `self` (the caller) or account ids.
 * An account can restore a snapshot it owns, one shared with it, or a public one.
 */
export function restorableBy(s: SnapshotMeta, who: readonly string[], caller: Caller): boolean {
  return who.some((w) => (w === 'all' ? s.createVolumePermissions.public : canUse(s, w === 'self' ? caller.accountId : w)));
}

/** DescribeSnapshots' Owner.N: `self`, `amazon`/`aws-marketplace` (never us), or account ids. */
export function ownedByAny(s: SnapshotMeta, owners: readonly string[], caller: Caller): boolean {
  return owners.some((o) => (o === 'self' ? s.ownerId === caller.accountId : s.ownerId === o));
}
