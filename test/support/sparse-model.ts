/**
 * The plain in-memory reference the core is checked against: a sparse map of block contents.
 * Blocks are replaced, never mutated, so a snapshot is a shallow copy of the map.
 */
export class SparseModel {
  constructor(
    readonly size: number,
    readonly blockSize: number,
    private blocks = new Map<number, Buffer>(),
  ) {}

  write(offset: number, data: Buffer): void {
    const B = this.blockSize;
    for (let at = offset; at < offset + data.length; ) {
      const blk = Math.floor(at / B);
      const end = Math.min(offset + data.length, (blk + 1) * B);
      const next = Buffer.alloc(B);
      this.blocks.get(blk)?.copy(next);
      data.copy(next, at - blk * B, at - offset, end - offset);
      this.blocks.set(blk, next);
      at = end;
    }
  }

  read(offset: number, length: number): Buffer {
    const out = Buffer.alloc(length);
    const B = this.blockSize;
    for (let at = offset; at < offset + length; ) {
      const blk = Math.floor(at / B);
      const end = Math.min(offset + length, (blk + 1) * B);
      this.blocks.get(blk)?.copy(out, at - offset, at - blk * B, end - blk * B);
      at = end;
    }
    return out;
  }

  block(blk: number): Buffer | undefined {
    return this.blocks.get(blk);
  }

  snapshot(): SparseModel {
    return new SparseModel(this.size, this.blockSize, new Map(this.blocks));
  }
}
