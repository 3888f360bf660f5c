/**
 * Pages of a manifest's blocks, and of the differences between two manifests of a lineage:
 * what ListSnapshotBlocks and ListChangedBlocks answer. Only digests are compared, never block
 * bytes. Each manifest's block indexes are sorted once (kept beside the cached manifest), so a
 * page starts with a binary search and costs what it walks. A page stops after a bounded walk
 * even if it found few differences (AWS too answers short pages with a NextToken).
 */
import type { Manifest } from '../../copy/manifest.js';

/** Entries walked per page at most: bounds a page's time whatever the volume holds. */
const MAX_WALK = 1_000_000;

const sortedIndexes = new WeakMap<Manifest, Uint32Array>();

function indexesOf(m: Manifest): Uint32Array {
  let sorted = sortedIndexes.get(m);
  if (!sorted) {
    sorted = Uint32Array.from(m.blocks.keys()).sort();
    sortedIndexes.set(m, sorted);
  }
  return sorted;
}

/** The first position in `sorted` whose index is >= `index`. */
function seek(sorted: Uint32Array, index: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < index) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface Page<T> {
  blocks: T[];
  /** Where the next page starts; undefined on the last page. */
  next?: number;
}

export function snapshotBlocks(m: Manifest, start: number, size: number): Page<{ index: number; sha: string }> {
  const sorted = indexesOf(m);
  const from = seek(sorted, start);
  const to = Math.min(sorted.length, from + size);
  const blocks = [];
  for (let i = from; i < to; i++) blocks.push({ index: sorted[i]!, sha: m.blocks.get(sorted[i]!)! });
  return { blocks, ...(to < sorted.length ? { next: sorted[to]! } : {}) };
}

export interface ChangedBlock {
  index: number;
  /** The digest in the first snapshot, if it holds the block. */
  first?: string;
  second?: string;
}

/**
 * changedBlocks, when the candidates are known (the core's epoch index, for two snapshots of one
 * volume): walks only them, not every block both manifests list.
 */
export function changedAmong(candidates: Uint32Array, first: Manifest, second: Manifest, start: number, size: number): Page<ChangedBlock> {
  const blocks: ChangedBlock[] = [];
  let k = seek(candidates, start);
  for (; k < candidates.length && blocks.length < size; k++) {
    const index = candidates[k]!;
    const sa = first.blocks.get(index);
    const sb = second.blocks.get(index);
    if (sa === sb) continue;
    blocks.push({ index, ...(sa !== undefined ? { first: sa } : {}), ...(sb !== undefined ? { second: sb } : {}) });
  }
  return { blocks, ...(k < candidates.length ? { next: candidates[k]! } : {}) };
}

/** The indexes whose content differs between `first` (or nothing) and `second`, from `start`. */
export function changedBlocks(first: Manifest | undefined, second: Manifest, start: number, size: number): Page<ChangedBlock> {
  if (!first) {
    const page = snapshotBlocks(second, start, size);
    return { blocks: page.blocks.map((b) => ({ index: b.index, second: b.sha })), ...(page.next !== undefined ? { next: page.next } : {}) };
  }
  const a = indexesOf(first);
  const b = indexesOf(second);
  let i = seek(a, start);
  let j = seek(b, start);
  const blocks: ChangedBlock[] = [];
  let walked = 0;
  while ((i < a.length || j < b.length) && blocks.length < size && walked < MAX_WALK) {
    walked++;
    const ai = i < a.length ? a[i]! : Infinity;
    const bj = j < b.length ? b[j]! : Infinity;
    if (ai < bj) {
      blocks.push({ index: ai, first: first.blocks.get(ai)! });
      i++;
    } else if (bj < ai) {
      blocks.push({ index: bj, second: second.blocks.get(bj)! });
      j++;
    } else {
      const sa = first.blocks.get(ai)!;
      const sb = second.blocks.get(bj)!;
      if (sa !== sb) blocks.push({ index: ai, first: sa, second: sb });
      i++;
      j++;
    }
  }
  const more = i < a.length || j < b.length;
  const next = Math.min(i < a.length ? a[i]! : Infinity, j < b.length ? b[j]! : Infinity);
  return { blocks, ...(more ? { next } : {}) };
}
