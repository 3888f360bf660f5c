/**
 * A simulated OS page cache in front of one attached volume: what a snapshot misses.
 *
 * A guest write lands in 4 KiB dirty pages held here, not on the volume. It reaches the volume
 * (and so every later snapshot) only by writeback: an fsync (FLUSH, or a FUA write), a sync of
 * the instance, the dirty-expire interval (Linux's dirty_expire_centisecs, 30 s there), or
 * too many dirty bytes (the writer waits, like Linux's balance_dirty_pages). A crash, a forced
 * detach or a terminate drops the dirty pages, as power loss would. Reads through the cache
 * see its dirty pages; reads of the volume itself, and snapshots, do not.
 *
 * Zeroing and trimming bypass the cache: they go straight to the volume (after dropping the
 * cached pages they cover), so a multi-gigabyte discard never has to be held in memory.
 */
import type { BlockStore } from '../core/block-store.js';
import { CoreError } from '../core/errors.js';
import { Mutex } from '../core/mutex.js';
import type { BlockDevice } from '../nbd/block-device.js';

export const PAGE_SIZE = 4096;
/** Largest run of consecutive dirty pages written back in one core write. */
const WRITEBACK_RUN = 2 * 1024 * 1024;
/** Default dirty limit: small, so a guest streaming gigabytes keeps the server's memory bounded. */
export const DEFAULT_MAX_DIRTY_BYTES = 16 * 1024 * 1024;

/** Where the cache reads the time (default: the wall clock), and hears of a simulated clock's advances. */
export interface CacheClock {
  now(): number;
  onAdvance(listener: () => unknown): () => void;
}

export interface PageCacheOptions {
  /** Dirty pages older than this are written back; 0 makes the cache write-through. */
  dirtyExpireMs: number;
  clock?: CacheClock;
  /** Above this many dirty bytes a write waits for writeback first. Default 16 MiB. */
  maxDirtyBytes?: number;
}

interface DirtyPage {
  data: Buffer;
  /** When the page first became dirty (the expire interval counts from here). */
  since: number;
}

export class PageCache implements BlockDevice {
  readonly size: number;
  readonly blockSize = PAGE_SIZE;
  /** Every connection to this attachment shares this one cache: a flush on one is a flush for all. */
  readonly canMultiConn = true;
  private readonly dirty = new Map<number, DirtyPage>();
  /** Serializes cache updates, so two partial writes to one page never lose each other. */
  private readonly updates = new Mutex();
  private readonly writebacks = new Mutex();
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly stopListening: (() => void) | undefined;
  private frozen: { released: Promise<void>; release: () => void } | undefined;

  constructor(
    private readonly store: BlockStore,
    readonly volumeId: string,
    private readonly options: PageCacheOptions,
  ) {
    this.size = store.getVolume(volumeId).size;
    if (options.dirtyExpireMs > 0) {
      this.timer = setInterval(() => void this.expire().catch(() => undefined), Math.min(1000, options.dirtyExpireMs / 2));
      this.timer.unref();
      // An advance of the clock writes back what it made old, before the advance returns.
      this.stopListening = options.clock?.onAdvance(() => this.expire().catch(() => undefined));
    }
  }

  private now(): number {
    return this.options.clock?.now() ?? Date.now();
  }

  get description(): string {
    return `volume ${this.volumeId} behind a simulated page cache`;
  }

  /** Bytes written by the guest that the volume does not hold yet. */
  dirtyBytes(): number {
    return this.dirty.size * PAGE_SIZE;
  }

  /** The dirty pages (numbers of 4 KiB pages), ascending: where the guest's unsaved writes are. */
  dirtyPageNumbers(): number[] {
    return [...this.dirty.keys()].sort((a, b) => a - b);
  }

  async read(offset: number, length: number): Promise<Buffer> {
    // Take the dirty pages first: a writeback racing this read then only makes the volume newer.
    const overlay = this.dirtyPagesIn(offset, length);
    const out = await this.store.read(this.volumeId, offset, length);
    for (const [page, { data }] of overlay) {
      const start = page * PAGE_SIZE;
      const from = Math.max(offset, start);
      const to = Math.min(offset + length, start + PAGE_SIZE);
      data.copy(out, from - offset, from - start, to - start);
    }
    return out;
  }

  async write(offset: number, data: Buffer, opts: { fua: boolean }): Promise<void> {
    await this.frozen?.released;
    if (this.options.dirtyExpireMs === 0) {
      await this.store.write(this.volumeId, offset, data);
      if (opts.fua) await this.store.flush();
      return;
    }
    // Like Linux's balance_dirty_pages: a writer over the limit waits for writeback before it
    // adds its own pages, so dirty memory never grows past the limit by what is in flight.
    const limit = this.options.maxDirtyBytes ?? DEFAULT_MAX_DIRTY_BYTES;
    if (this.dirtyBytes() + data.length > limit) await this.writeback();
    await this.updates.run(() => this.dirtyPages(offset, data));
    if (opts.fua) {
      await this.writeback((page) => page >= Math.floor(offset / PAGE_SIZE) && page * PAGE_SIZE < offset + data.length);
      await this.store.flush();
    }
  }

  /** fsync: every dirty page to the volume, then the volume's flush. */
  async flush(): Promise<void> {
    await this.writeback();
    await this.store.flush();
  }

  trim(offset: number, length: number, opts: { fua: boolean }): Promise<void> {
    return this.writeZeroes(offset, length, { fua: opts.fua, noHole: false });
  }

  async writeZeroes(offset: number, length: number, opts: { fua: boolean; noHole: boolean }): Promise<void> {
    await this.frozen?.released;
    await this.updates.run(async () => {
      for (const [page] of this.dirtyPagesIn(offset, length)) {
        const start = page * PAGE_SIZE;
        if (start >= offset && start + PAGE_SIZE <= offset + length) this.dirty.delete(page);
        else await this.dirtyPages(Math.max(offset, start), Buffer.alloc(Math.min(offset + length, start + PAGE_SIZE) - Math.max(offset, start)));
      }
      await this.store.writeZeroes(this.volumeId, offset, length);
    });
    if (opts.fua) await this.store.flush();
  }

  async blockStatus(offset: number, length: number) {
    // With dirty pages in the range, "data" everywhere is the safe answer.
    if (this.dirtyPagesIn(offset, length).length > 0) return [{ length, hole: false, zero: false }];
    const extents = await this.store.allocation(this.volumeId, offset, length);
    return extents.map((e) => ({ length: e.length, hole: e.hole, zero: e.hole }));
  }

  /** Power loss: the dirty pages are gone. Returns how many bytes were lost. */
  drop(): number {
    const lost = this.dirtyBytes();
    this.dirty.clear();
    return lost;
  }

  /** fsfreeze: write everything back, then hold new writes until thaw. */
  async freeze(): Promise<void> {
    if (this.frozen) return;
    let release!: () => void;
    this.frozen = { released: new Promise<void>((resolve) => (release = resolve)), release };
    await this.flush();
  }

  thaw(): void {
    this.frozen?.release();
    this.frozen = undefined;
  }

  get isFrozen(): boolean {
    return this.frozen !== undefined;
  }

  /** Stops the expire timer. Dirty pages are not written back: call flush() first to keep them. */
  dispose(): void {
    clearInterval(this.timer);
    this.stopListening?.();
    this.thaw();
  }

  private async expire(): Promise<void> {
    const now = this.now();
    await this.writeback((_page, entry) => now - entry.since >= this.options.dirtyExpireMs);
  }

  /** Writes back dirty pages (those `which` selects), in runs of consecutive pages. */
  private writeback(which: (page: number, entry: DirtyPage) => boolean = () => true): Promise<void> {
    return this.writebacks.run(async () => {
      const pages = [...this.dirty].filter(([page, entry]) => which(page, entry)).sort((a, b) => a[0] - b[0]);
      for (let i = 0; i < pages.length; ) {
        let j = i + 1;
        while (j < pages.length && pages[j]![0] === pages[j - 1]![0] + 1 && (j - i) * PAGE_SIZE < WRITEBACK_RUN) j++;
        const run = pages.slice(i, j);
        const start = run[0]![0] * PAGE_SIZE;
        const bytes = Buffer.concat(run.map(([, e]) => e.data)).subarray(0, this.size - start);
        await this.store.write(this.volumeId, start, bytes);
        // A page dirtied again while it was being written stays dirty.
        for (const [page, entry] of run) if (this.dirty.get(page) === entry) this.dirty.delete(page);
        i = j;
      }
    });
  }

  private async dirtyPages(offset: number, data: Buffer): Promise<void> {
    if (offset + data.length > this.size) {
      throw new CoreError('OFFSET_OUT_OF_RANGE', `range [${offset}, ${offset + data.length}) is beyond the end of ${this.volumeId}`);
    }
    const now = this.now();
    for (let at = offset; at < offset + data.length; ) {
      const page = Math.floor(at / PAGE_SIZE);
      const start = page * PAGE_SIZE;
      const to = Math.min(offset + data.length, start + PAGE_SIZE);
      const existing = this.dirty.get(page);
      // Copy on write: a writeback may be sending the old buffer right now.
      const next = Buffer.alloc(PAGE_SIZE);
      if (existing) existing.data.copy(next);
      else if (at > start || to < start + PAGE_SIZE) (await this.store.read(this.volumeId, start, Math.min(PAGE_SIZE, this.size - start))).copy(next);
      data.copy(next, at - start, at - offset, to - offset);
      this.dirty.set(page, { data: next, since: existing?.since ?? now });
      at = to;
    }
  }

  private dirtyPagesIn(offset: number, length: number): Array<[number, DirtyPage]> {
    const first = Math.floor(offset / PAGE_SIZE);
    const last = Math.floor((offset + length - 1) / PAGE_SIZE);
    if (last - first + 1 > this.dirty.size) return [...this.dirty].filter(([p]) => p >= first && p <= last);
    const out: Array<[number, DirtyPage]> = [];
    for (let p = first; p <= last; p++) {
      const e = this.dirty.get(p);
      if (e) out.push([p, e]);
    }
    return out;
  }
}
