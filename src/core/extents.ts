/**
 * A volume's extents: which runs of bytes hold data and which are holes (read as zeros, nothing
 * stored), from the blocks with a version, without reading any of them (NBD block status).
 */
import type { ClassicLevel } from 'classic-level';
import { loadsFromBacking, type VolumeRecord } from './records.js';
import { allocatedBlocks } from './version-map.js';

/** A run of bytes that either holds data or is a hole (reads as zeros, nothing stored). */
export interface Extent {
  offset: number;
  length: number;
  hole: boolean;
}

/** The extents of [offset, offset + length) of `vol` (a range already checked). */
export async function volumeExtents(db: ClassicLevel<Buffer, Buffer>, vol: VolumeRecord, offset: number, length: number): Promise<Extent[]> {
  const { id } = vol;
  if (length === 0) return [];
  const B = vol.blockSize;
  const first = Math.floor(offset / B);
  const last = Math.floor((offset + length - 1) / B);
  // A restored volume's unwritten blocks may hold the backing snapshot's bytes: all data.
  if (loadsFromBacking(vol.backing)) return [{ offset, length, hole: false }];
  const allocated = [...(await allocatedBlocks(db, id, first, last))].sort((a, b) => a - b);
  const extents: Extent[] = [];
  const add = (from: number, to: number, hole: boolean) => {
    from = Math.max(from, offset);
    to = Math.min(to, offset + length);
    if (to <= from) return;
    const prev = extents[extents.length - 1];
    if (prev && prev.hole === hole && prev.offset + prev.length === from) prev.length += to - from;
    else extents.push({ offset: from, length: to - from, hole });
  };
  let at = offset;
  for (const blk of allocated) {
    add(at, blk * B, true);
    add(blk * B, (blk + 1) * B, false);
    at = (blk + 1) * B;
  }
  add(at, offset + length, true);
  return extents;
}
