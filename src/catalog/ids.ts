/**
 * Resource id formats. EC2 ids are a prefix and 8 (old) or 17 (current) lower-case hex digits;
 * anything else is "malformed", which EC2 reports differently from "not found".
 */
import { CatalogError } from './errors.js';

const VOLUME_ID = /^vol-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
const SNAPSHOT_ID = /^snap-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

export type ResourceKind = 'volume' | 'snapshot';

export function checkVolumeId(id: string): string {
  if (!VOLUME_ID.test(id)) throw new CatalogError('VOLUME_ID_MALFORMED', `Invalid id: "${id}" (expecting "vol-...")`);
  return id;
}

export function checkSnapshotId(id: string): string {
  if (!SNAPSHOT_ID.test(id)) throw new CatalogError('SNAPSHOT_ID_MALFORMED', `Invalid id: "${id}" (expecting "snap-...")`);
  return id;
}

/** The kind of resource an id names (CreateTags and friends take both). */
export function resourceKind(id: string): ResourceKind {
  if (id.startsWith('vol-')) return (checkVolumeId(id), 'volume');
  if (id.startsWith('snap-')) return (checkSnapshotId(id), 'snapshot');
  throw new CatalogError('RESOURCE_ID_INVALID', `The ID '${id}' is not valid: ebs-sim tags volumes (vol-...) and snapshots (snap-...).`);
}

/** What AWS shows as the volume of a copied snapshot ("an arbitrary volume ID"). */
export const COPIED_SNAPSHOT_VOLUME_ID = 'vol-ffffffff';
