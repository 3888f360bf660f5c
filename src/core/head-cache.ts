/**
 * The newest version head of recently written blocks, so that the write path needs no LevelDB
 * seek for a block it saw before. `null` records a block known to have no version (a hole).
 * Only the serialized write path fills it, and only after its batch committed.
 */
import type { VersionHead } from './records.js';

export class HeadCache {
  private readonly volumes = new Map<string, Map<number, VersionHead | null>>();

  constructor(private readonly capacityPerVolume: number) {}

  get(vol: string, blk: number): VersionHead | null | undefined {
    const m = this.volumes.get(vol);
    const v = m?.get(blk);
    if (v !== undefined) {
      // Refresh: Map iteration order is insertion order, so the oldest entry is evicted first.
      m!.delete(blk);
      m!.set(blk, v);
    }
    return v;
  }

  set(vol: string, blk: number, head: VersionHead | null): void {
    let m = this.volumes.get(vol);
    if (!m) this.volumes.set(vol, (m = new Map()));
    m.delete(blk);
    m.set(blk, head);
    if (m.size > this.capacityPerVolume) m.delete(m.keys().next().value!);
  }

  dropVolume(vol: string): void {
    this.volumes.delete(vol);
  }
}
