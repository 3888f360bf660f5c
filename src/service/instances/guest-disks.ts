/**
 * The simulated page caches of attached volumes: one PageCache per attachment (instance and
 * device), shared by every data-plane request and NBD connection to it, so that an fsync through
 * one is an fsync for all, as with one kernel. A cache is created on first use and retired when
 * its attachment goes away: written back (stop, reboot, detach) or dropped as by a power cut
 * (forced detach, terminate). Each one lives for one boot: a volume grown meanwhile shows its new
 * size after the next start or attach, as to an OS that never rescans its disks.
 */
import { CatalogError } from '../service-errors.js';
import type { BlockStore } from '../../core/block-store.js';
import { PageCache, type CacheClock } from '../../guest/page-cache.js';

export interface GuestDiskOptions {
  /** Dirty pages older than this are written back; 0: write-through. */
  dirtyExpireMs: number;
  clock?: CacheClock;
  maxDirtyBytes?: number;
}

export interface GuestDisk {
  readonly instanceId: string;
  /** `/dev/sdf` */
  readonly device: string;
  readonly volumeId: string;
  readonly cache: PageCache;
}

interface Entry extends GuestDisk {
  readonly inflight: Set<Promise<unknown>>;
  retired: boolean;
}

// A volume re-attached at the same device gets a new disk even while the old one is still being retired.
const keyOf = (instanceId: string, device: string, volumeId: string) => `${instanceId}|${device}|${volumeId}`;

export class GuestDisks {
  private readonly disks = new Map<string, Entry>();

  constructor(
    private readonly store: BlockStore,
    readonly options: GuestDiskOptions,
  ) {}

  /** The disk of a live attachment, created on its first use. */
  open(instanceId: string, device: string, volumeId: string): GuestDisk {
    const key = keyOf(instanceId, device, volumeId);
    const existing = this.disks.get(key);
    if (existing) return existing;
    const cache = new PageCache(this.store, volumeId, this.options);
    const entry: Entry = { instanceId, device, volumeId, cache, inflight: new Set(), retired: false };
    this.disks.set(key, entry);
    return entry;
  }

  peek(instanceId: string, device: string, volumeId: string): GuestDisk | undefined {
    return this.disks.get(keyOf(instanceId, device, volumeId));
  }

  ofInstance(instanceId: string): GuestDisk[] {
    return [...this.disks.values()].filter((d) => d.instanceId === instanceId);
  }

  /** The live disks (page caches) in front of one volume: more than one for a multi-attached volume. */
  ofVolume(volumeId: string): GuestDisk[] {
    return [...this.disks.values()].filter((d) => d.volumeId === volumeId && !d.retired);
  }

  /** True while the disk is in service (not detached, stopped or terminated since it was opened). */
  isCurrent(disk: GuestDisk): boolean {
    return !(disk as Entry).retired && this.disks.get(keyOf(disk.instanceId, disk.device, disk.volumeId)) === disk;
  }

  /** Runs one guest operation; retire() waits for the operations in flight. */
  async use<T>(disk: GuestDisk, op: (cache: PageCache) => Promise<T>): Promise<T> {
    const e = disk as Entry;
    if (!this.isCurrent(e)) throw gone(e);
    const p = op(e.cache);
    e.inflight.add(p);
    try {
      return await p;
    } finally {
      e.inflight.delete(p);
    }
  }

  /**
   * Takes a disk out of service: new I/O fails at once, I/O in flight (writes held by a freeze
   * included: it thaws) finishes, then the dirty pages are written back or lost. Returns how many
   * bytes were written back or lost.
   */
  async retire(instanceId: string, device: string, volumeId: string, how: 'flush' | 'drop'): Promise<number> {
    const key = keyOf(instanceId, device, volumeId);
    const e = this.disks.get(key);
    if (!e) return 0;
    this.disks.delete(key);
    e.retired = true;
    e.cache.thaw();
    await Promise.allSettled([...e.inflight]);
    try {
      if (how === 'drop') return e.cache.drop();
      const bytes = e.cache.dirtyBytes();
      await e.cache.flush();
      return bytes;
    } finally {
      e.cache.dispose();
    }
  }

  /** fsync: writes the disk's dirty pages back; returns how many bytes that was. */
  flush(disk: GuestDisk): Promise<number> {
    return this.use(disk, async (c) => {
      const dirty = c.dirtyBytes();
      await c.flush();
      return dirty;
    });
  }

  /** A clean reboot: every disk of the instance thawed and written back; they stay in service. */
  async flushInstance(instanceId: string): Promise<number> {
    const bytes = await Promise.all(this.ofInstance(instanceId).map((d) => {
      d.cache.thaw();
      return this.flush(d);
    }));
    return bytes.reduce((a, b) => a + b, 0);
  }

  async retireInstance(instanceId: string, how: 'flush' | 'drop'): Promise<number> {
    const bytes = await Promise.all(this.ofInstance(instanceId).map((d) => this.retire(d.instanceId, d.device, d.volumeId, how)));
    return bytes.reduce((a, b) => a + b, 0);
  }

  /** A clean host shutdown: every cache is written back, then released. */
  async closeAll(): Promise<void> {
    const all = [...this.disks.values()];
    await Promise.allSettled(all.map((d) => this.retire(d.instanceId, d.device, d.volumeId, 'flush')));
  }
}

function gone(d: GuestDisk): CatalogError {
  return new CatalogError('ATTACHMENT_NOT_FOUND', `${d.device} of ${d.instanceId} is gone (detached, or the instance stopped since this device was opened); open it again.`);
}
