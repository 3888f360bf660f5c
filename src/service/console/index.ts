/**
 * The console's read service: an overview of an account's resources, block maps of volumes and
 * snapshots, a snapshot's lineage and what deleting it would free. What the web console shows;
 * the console's actions go through the other services, as any client's do.
 */
import { bindTo } from '../bind.js';
import type { ServiceState } from '../context.js';
import { deletionPreview, snapshotBlockMap, volumeBlockMap } from './block-map.js';
import { overview } from './overview.js';
import { progressHistoryOf, progressSamples } from './progress-history.js';
import { snapshotDetail } from './snapshot-detail.js';

export function consoleService(s: ServiceState) {
  const bind = bindTo(s);
  progressHistoryOf(s); // listens from the start, so every copy has its chart
  return {
    overview: bind(overview),
    volumeBlockMap: bind(volumeBlockMap),
    snapshotBlockMap: bind(snapshotBlockMap),
    snapshotDetail: bind(snapshotDetail),
    deletionPreview: bind(deletionPreview),
    /** A snapshot copy's progress over time. */
    progress: bind(progressSamples),
  };
}

export type ConsoleService = ReturnType<typeof consoleService>;
export type { BlockMap, BlockMapCell, Epoch } from './block-map.js';
export type { Overview, SnapshotRow, VolumeRow, InstanceRow } from './overview.js';
export type { SnapshotDetail } from './snapshot-detail.js';
export type { ProgressSample } from './progress-history.js';
