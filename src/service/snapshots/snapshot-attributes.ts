/**
 * Snapshot attributes: createVolumePermission (share with accounts, or with everyone through the
 * group `all`) and productCodes (read-only: they come from the volume).
 */
import { CatalogError, invalidValue, missingParameter } from '../service-errors.js';
import { checkSnapshotId } from '../state/resource-ids.js';
import type { SnapshotMeta } from '../state/resource-records.js';
import { ownedSnapshot } from '../state/snapshot-access.js';
import type { SnapshotAttributeView } from '../state/views.js';
import { checkDryRun, type CallerContext, type ServiceState } from '../context.js';
import { tierState } from './snapshot-tiers.js';

export type SnapshotAttributeName = 'createVolumePermission' | 'productCodes';

export interface PermissionInput {
  userId?: string;
  group?: string;
}

export interface ModifySnapshotAttributeInput {
  snapshotId: string;
  attribute?: SnapshotAttributeName;
  operationType?: 'add' | 'remove';
  userIds?: string[];
  groupNames?: string[];
  createVolumePermission?: { add?: PermissionInput[]; remove?: PermissionInput[] };
}

const ACCOUNT_ID = /^\d{12}$/;

interface Change {
  add: PermissionInput[];
  remove: PermissionInput[];
}

/** The two equivalent input forms (contract §1.3) as one list of additions and removals. */
function changesOf(input: ModifySnapshotAttributeInput): Change {
  if (input.attribute === 'productCodes') throw invalidValue('The productCodes attribute of a snapshot cannot be modified.');
  const structured = input.createVolumePermission;
  const flat = (input.userIds?.length ?? 0) + (input.groupNames?.length ?? 0) > 0 || input.operationType !== undefined;
  if (structured && flat) {
    throw new CatalogError('INVALID_PARAMETER_COMBINATION', 'Use either CreateVolumePermission.Add/Remove or OperationType with UserId/UserGroup, not both.');
  }
  if (structured) return { add: structured.add ?? [], remove: structured.remove ?? [] };
  if (!flat) throw missingParameter('CreateVolumePermission');
  if (input.operationType === undefined) throw missingParameter('OperationType');
  const entries = [...(input.userIds ?? []).map((userId) => ({ userId })), ...(input.groupNames ?? []).map((group) => ({ group }))];
  if (entries.length === 0) throw missingParameter('UserId or UserGroup');
  return input.operationType === 'add' ? { add: entries, remove: [] } : { add: [], remove: entries };
}

function checkEntry(p: PermissionInput): void {
  if ((p.userId === undefined) === (p.group === undefined)) throw invalidValue('Each permission names either a UserId or a Group.');
  if (p.group !== undefined && p.group !== 'all') throw invalidValue(`The only group is 'all', got '${p.group}'.`);
  if (p.userId !== undefined && !ACCOUNT_ID.test(p.userId)) throw invalidValue(`'${p.userId}' is not an AWS account id (12 digits).`);
}

export async function modifySnapshotAttribute(s: ServiceState, ctx: CallerContext, input: ModifySnapshotAttributeInput): Promise<void> {
  const change = changesOf(input);
  for (const p of [...change.add, ...change.remove]) checkEntry(p);
  await s.lock.run(async () => {
    const snap = ownedSnapshot(s.catalog.getSnapshot(checkSnapshotId(input.snapshotId)), ctx, input.snapshotId);
    const users = new Set(snap.createVolumePermissions.userIds);
    let isPublic = snap.createVolumePermissions.public;
    for (const p of change.add) {
      if (p.group === 'all') isPublic = true;
      else users.add(p.userId!);
    }
    for (const p of change.remove) {
      if (p.group === 'all') isPublic = false;
      else users.delete(p.userId!);
    }
    if ((isPublic || users.size > 0) && tierState(snap, s.clock.now()).storageTier === 'archive') {
      throw new CatalogError('INCORRECT_STATE', `Snapshot '${snap.id}' is archived: archived snapshots cannot be shared.`);
    }
    if (isPublic && !snap.createVolumePermissions.public && snap.encrypted) {
      throw invalidValue(`Snapshot '${snap.id}' is encrypted: encrypted snapshots cannot be made public.`);
    }
    checkDryRun(ctx);
    await s.catalog.saveSnapshot({ ...snap, createVolumePermissions: { userIds: [...users], public: isPublic } });
  });
}

export function describeSnapshotAttribute(
  s: ServiceState, ctx: CallerContext, input: { snapshotId: string; attribute: SnapshotAttributeName },
): SnapshotAttributeView {
  const snap = ownedSnapshot(s.catalog.getSnapshot(checkSnapshotId(input.snapshotId)), ctx, input.snapshotId);
  checkDryRun(ctx);
  if (input.attribute === 'productCodes') return { snapshotId: snap.id, productCodes: snap.productCodes };
  return { snapshotId: snap.id, createVolumePermissions: permissionsOf(snap) };
}

function permissionsOf(snap: SnapshotMeta): Array<{ userId?: string; group?: 'all' }> {
  return [
    ...(snap.createVolumePermissions.public ? [{ group: 'all' as const }] : []),
    ...snap.createVolumePermissions.userIds.map((userId) => ({ userId })),
  ];
}

export async function resetSnapshotAttribute(
  s: ServiceState, ctx: CallerContext, input: { snapshotId: string; attribute: SnapshotAttributeName },
): Promise<void> {
  if (input.attribute === 'productCodes') throw invalidValue('The productCodes attribute of a snapshot cannot be reset.');
  await s.lock.run(async () => {
    const snap = ownedSnapshot(s.catalog.getSnapshot(checkSnapshotId(input.snapshotId)), ctx, input.snapshotId);
    checkDryRun(ctx);
    await s.catalog.saveSnapshot({ ...snap, createVolumePermissions: { userIds: [], public: false } });
  });
}
