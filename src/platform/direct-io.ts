/**
 * Buffers for direct I/O (O_DIRECT), which needs the memory, the file offset and the length
 * aligned to the device's logical block; 4 KiB covers 512-byte and 4K-sector devices. JavaScript
 * cannot see an address, so the aligned start of a buffer is found by trying: an O_DIRECT write
 * (or read) from a misaligned address fails with EINVAL. Used by the fs store's I/O threads and by
 * the bench's direct-write baseline, so that both write the disk the same way (hence its own
 * layer, below both: the bench may not import the server's parts).
 */
import { readSync, writeSync } from 'node:fs';

export const DIRECT_ALIGN = 4096;

/** Whether `length` bytes can go through O_DIRECT in one piece. */
export const directSize = (length: number): boolean => length > 0 && length % DIRECT_ALIGN === 0;

const isEinval = (err: unknown) => (err as { code?: string } | null)?.code === 'EINVAL';

/** One caller's (one thread's) aligned buffer, grown as needed. */
export class AlignedBuffer {
  #state: { raw: Uint8Array; start: number } | false | undefined;

  /** This file system has refused direct I/O (at open, or from every start). */
  get refused(): boolean {
    return this.#state === false;
  }

  /** Records a refusal seen elsewhere (EINVAL at open: ramfs, and tmpfs before Linux 6.6). */
  refuse(): void {
    this.#state = false;
  }

  /**
   * At least `length` aligned bytes, probed on `fd` (an O_DIRECT file, written to or, for
   * `reading`, read from at offset 0) when first needed or grown; undefined once refused.
   */
  bytes(fd: number, length: number, reading = false): Uint8Array | undefined {
    const state = this.#state;
    if (state === false) return undefined;
    if (state && state.raw.length - state.start >= length) return state.raw.subarray(state.start, state.start + length);
    const raw = new Uint8Array(length + DIRECT_ALIGN);
    for (let start = 0; start < DIRECT_ALIGN; start += 16) {
      try {
        if (reading) readSync(fd, raw, start, DIRECT_ALIGN, 0);
        else writeSync(fd, raw, start, DIRECT_ALIGN, 0);
        this.#state = { raw, start };
        return raw.subarray(start, start + length);
      } catch (err) {
        if (!isEinval(err)) throw err;
      }
    }
    this.#state = false; // no start works: this file system takes no direct I/O
    return undefined;
  }
}
