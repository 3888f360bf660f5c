/** The snapshot service: EC2's snapshot actions, multi-volume sets, attributes and storage tiers. */
import { bindTo } from '../bind.js';
import type { ServiceState } from '../context.js';
import { describeSnapshotAttribute, modifySnapshotAttribute, resetSnapshotAttribute } from './snapshot-attributes.js';
import { createSnapshots } from './snapshot-sets.js';
import { describeSnapshotTierStatus, modifySnapshotTier, restoreSnapshotTier } from './snapshot-tiers.js';
import { copySnapshot, createSnapshot, deleteSnapshot, describeSnapshots } from './snapshots.js';

export function snapshotService(s: ServiceState) {
  const bind = bindTo(s);
  return {
    create: bind(createSnapshot),
    /** CreateSnapshots: an instance's volumes, frozen at one instant. */
    createSet: bind(createSnapshots),
    describe: bind(describeSnapshots),
    delete: bind(deleteSnapshot),
    copy: bind(copySnapshot),
    modifyAttribute: bind(modifySnapshotAttribute),
    describeAttribute: bind(describeSnapshotAttribute),
    resetAttribute: bind(resetSnapshotAttribute),
    modifyTier: bind(modifySnapshotTier),
    restoreTier: bind(restoreSnapshotTier),
    describeTierStatus: bind(describeSnapshotTierStatus),
  };
}

export type SnapshotService = ReturnType<typeof snapshotService>;
