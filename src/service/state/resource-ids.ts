/**
 * Resource id formats. EC2 ids are a prefix and 8 (old) or 17 (current) lower-case hex digits;
 * anything else is "malformed", which EC2 reports differently from "not found".
 */
import { randomBytes } from 'node:crypto';
import { CatalogError } from '../service-errors.js';

const VOLUME_ID = /^vol-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
const SNAPSHOT_ID = /^snap-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
const INSTANCE_ID = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

export type ResourceKind = 'volume' | 'snapshot' | 'instance';

export function checkVolumeId(id: string): string {
  if (!VOLUME_ID.test(id)) throw new CatalogError('VOLUME_ID_MALFORMED', `Invalid id: "${id}" (expecting "vol-...")`);
  return id;
}

export function checkSnapshotId(id: string): string {
  if (!SNAPSHOT_ID.test(id)) throw new CatalogError('SNAPSHOT_ID_MALFORMED', `Invalid id: "${id}" (expecting "snap-...")`);
  return id;
}

export function checkInstanceId(id: string): string {
  if (!INSTANCE_ID.test(id)) throw new CatalogError('INSTANCE_ID_MALFORMED', `Invalid id: "${id}" (expecting "i-...")`);
  return id;
}

/** The kind of resource an id names (CreateTags and friends take all three). */
export function resourceKind(id: string): ResourceKind {
  if (id.startsWith('vol-')) return (checkVolumeId(id), 'volume');
  if (id.startsWith('snap-')) return (checkSnapshotId(id), 'snapshot');
  if (id.startsWith('i-')) return (checkInstanceId(id), 'instance');
  throw new CatalogError('RESOURCE_ID_INVALID', `The ID '${id}' is not valid: ebs-sim tags volumes (vol-...), snapshots (snap-...) and instances (i-...).`);
}

/** What AWS shows as the volume of a copied snapshot ("an arbitrary volume ID"). */
export const COPIED_SNAPSHOT_VOLUME_ID = 'vol-ffffffff';

// Volume and snapshot ids come from the core (they name its records); these exist only in the catalog.
const newId = (prefix: string) => `${prefix}-${randomBytes(9).toString('hex').slice(0, 17)}`;
export const newInstanceId = () => newId('i');
export const newReservationId = () => newId('r');
