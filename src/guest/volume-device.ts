/**
 * A volume as a block device, write-through: what NBD serves for an export named by a volume
 * id. Every acknowledged write is in the core (durable against a process kill); FLUSH and FUA
 * are the core's flush, which also makes it survive a machine crash.
 */
import type { BlockStore } from '../core/block-store.js';
import type { BlockDevice } from '../nbd/block-device.js';

export class VolumeDevice implements BlockDevice {
  readonly size: number;
  readonly blockSize: number;
  /** The core is shared by every connection: a flush on one is a flush for all. */
  readonly canMultiConn = true;

  constructor(
    private readonly store: BlockStore,
    readonly volumeId: string,
  ) {
    const vol = store.getVolume(volumeId);
    this.size = vol.size;
    this.blockSize = vol.blockSize;
  }

  get description(): string {
    return `ebs-sim volume ${this.volumeId} (write-through)`;
  }

  read(offset: number, length: number): Promise<Buffer> {
    return this.store.read(this.volumeId, offset, length);
  }

  async write(offset: number, data: Buffer, opts: { fua: boolean }): Promise<void> {
    await this.store.write(this.volumeId, offset, data);
    if (opts.fua) await this.store.flush();
  }

  flush(): Promise<void> {
    return this.store.flush();
  }

  trim(offset: number, length: number, opts: { fua: boolean }): Promise<void> {
    return this.writeZeroes(offset, length, { fua: opts.fua, noHole: false });
  }

  async writeZeroes(offset: number, length: number, opts: { fua: boolean; noHole: boolean }): Promise<void> {
    await this.store.writeZeroes(this.volumeId, offset, length);
    if (opts.fua) await this.store.flush();
  }

  async blockStatus(offset: number, length: number) {
    const extents = await this.store.allocation(this.volumeId, offset, length);
    return extents.map((e) => ({ length: e.length, hole: e.hole, zero: e.hole }));
  }
}
