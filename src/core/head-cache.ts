/**
 * The newest version head of recently written blocks, so that the write path needs no LevelDB
 * seek for a block it saw before. `null` records a block known to have no version (a hole).
 * Only the serialized write path fills it, and only after its batch committed. One LRU over
 * every volume, so its memory is bounded however many volumes are written.
 */
import type { VersionHead } from './records.js';

export class HeadCache {
  private readonly entries = new Map<string, VersionHead | null>();

  constructor(private readonly capacity: number) {}

  get(vol: string, blk: number): VersionHead | null | undefined {
    const key = `${vol}\0${blk}`;
    const v = this.entries.get(key);
    if (v !== undefined) {
      // Refresh: Map iteration order is insertion order, so the oldest entry is evicted first.
      this.entries.delete(key);
      this.entries.set(key, v);
    }
    return v;
  }

  set(vol: string, blk: number, head: VersionHead | null): void {
    const key = `${vol}\0${blk}`;
    this.entries.delete(key);
    this.entries.set(key, head);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  dropVolume(vol: string): void {
    const prefix = `${vol}\0`;
    for (const key of this.entries.keys()) if (key.startsWith(prefix)) this.entries.delete(key);
  }
}
