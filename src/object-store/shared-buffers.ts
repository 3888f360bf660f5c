/**
 * Buffers in shared memory, which the fs store's threads read from and write to without a copy,
 * kept for reuse: by copy jobs for the blocks they upload, by the fs store for the objects it
 * reads. A SharedArrayBuffer is zeroed when made: a job making one per worker spent more on that
 * than on the rest of the copy of a small snapshot (measured back to back: 8 x 512 KiB per
 * CreateSnapshot was the largest item of the server's profile).
 */
export class SharedBuffers {
  private readonly free = new Map<number, Buffer[]>();

  /** Keeps at most `keep` free buffers of each size. */
  constructor(private readonly keep = 32) {}

  take(size: number): Buffer {
    return this.free.get(size)?.pop() ?? Buffer.from(new SharedArrayBuffer(size));
  }

  /** Only once nothing reads or writes `buffer` any more. */
  give(buffer: Buffer): void {
    let list = this.free.get(buffer.length);
    if (!list) this.free.set(buffer.length, (list = []));
    if (list.length < this.keep) list.push(buffer);
  }
}
