/** The direct-API service: snapshots read and written block by block (the EBS direct APIs). */
import { bindTo } from '../bind.js';
import type { ServiceState } from '../context.js';
import { completeSnapshot, getSnapshotBlock, listChangedBlocks, listSnapshotBlocks, putSnapshotBlock, startSnapshot } from './direct-snapshots.js';

export function directService(s: ServiceState) {
  const bind = bindTo(s);
  return {
    start: bind(startSnapshot),
    putBlock: bind(putSnapshotBlock),
    complete: bind(completeSnapshot),
    getBlock: bind(getSnapshotBlock),
    listBlocks: bind(listSnapshotBlocks),
    listChanged: bind(listChangedBlocks),
  };
}

export type DirectService = ReturnType<typeof directService>;
