/**
 * A connection's view of a block device that outlives it: every call goes through `guard` (which
 * may refuse, e.g. once the attachment behind it is gone; a refusal is always a rejected promise)
 * and close() leaves the device open, since other connections and the data plane share it (an
 * instance's page cache).
 */
import type { BlockDevice } from '../nbd/block-device.js';

export type Guard = <T>(op: (device: BlockDevice) => Promise<T>) => Promise<T>;

export class SharedDevice implements BlockDevice {
  constructor(
    private readonly inner: BlockDevice,
    private readonly guard: Guard,
    readonly description: string,
  ) {}

  get size(): number {
    return this.inner.size;
  }

  get blockSize(): number | undefined {
    return this.inner.blockSize;
  }

  get canMultiConn(): boolean | undefined {
    return this.inner.canMultiConn;
  }

  async read(offset: number, length: number): Promise<Buffer> {
    return this.guard((d) => d.read(offset, length));
  }

  async write(offset: number, data: Buffer, opts: { fua: boolean }): Promise<void> {
    return this.guard((d) => d.write(offset, data, opts));
  }

  async flush(): Promise<void> {
    return this.guard((d) => d.flush());
  }

  async trim(offset: number, length: number, opts: { fua: boolean }): Promise<void> {
    return this.guard((d) => d.trim(offset, length, opts));
  }

  async writeZeroes(offset: number, length: number, opts: { fua: boolean; noHole: boolean }): Promise<void> {
    return this.guard((d) => d.writeZeroes(offset, length, opts));
  }

  async blockStatus(offset: number, length: number): Promise<Array<{ length: number; hole: boolean; zero: boolean }>> {
    return this.guard((d) => d.blockStatus?.(offset, length) ?? Promise.resolve([{ length, hole: false, zero: false }]));
  }

  /** The shared device stays open for the others. */
  async close(): Promise<void> {}
}
