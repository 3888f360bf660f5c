/**
 * The blocks a bench run writes, made on the fly so that gigabytes are never held: random blocks
 * come from a small pool of random bytes, each stamped with its number, version and the run's salt,
 * so that no two are alike (nothing dedups by accident, within a run or across runs).
 */
import { randomBytes } from 'node:crypto';
import { BLOCK, type DataKind } from './config.js';

const POOL = 32;
/** Duplicated blocks repeat one of this many contents. */
const DUPLICATE_CONTENTS = 8;

export class BlockData {
  private readonly pool = Array.from({ length: POOL }, () => randomBytes(BLOCK));
  private readonly zeros = Buffer.alloc(BLOCK);
  private readonly salt = randomBytes(8).readDoubleBE(0);

  constructor(readonly kind: DataKind) {}

  /** Whether block `n` of version `version` repeats another block's bytes (duplicate data only). */
  isDuplicate(n: number, version = 0): boolean {
    if (this.kind.kind !== 'duplicate') return false;
    // A fixed hash of (n, version) spread over [0, 1): the same blocks repeat on every run.
    const h = Math.imul((n + 1) ^ Math.imul(version + 1, 0x9e3779b1), 0x85ebca6b) >>> 0;
    return h / 2 ** 32 < this.kind.ratio;
  }

  /**
   * Block `n`'s bytes at `version` (0: first written; k: after the k-th change). The buffer is
   * reused by the next call: copy it to keep it.
   */
  block(n: number, version = 0): Buffer {
    if (this.kind.kind === 'zeros') return this.zeros;
    const b = this.pool[n % POOL]!;
    if (this.isDuplicate(n, version)) {
      const which = n % DUPLICATE_CONTENTS;
      b.writeUInt32BE(0xffffffff, 0);
      b.writeUInt32BE(which, 4);
      b.writeDoubleBE(this.salt, 8);
      b.writeUInt32BE(0, 16);
      return b;
    }
    b.writeUInt32BE(n % 2 ** 32, 0);
    b.writeUInt32BE(Math.floor(n / 2 ** 32), 4);
    b.writeDoubleBE(this.salt, 8);
    b.writeUInt32BE(version, 16);
    return b;
  }

  /** Blocks `first`..`first + count - 1` of `version`, copied into one buffer. */
  range(first: number, count: number, version = 0): Buffer {
    const out = Buffer.allocUnsafe(count * BLOCK);
    for (let i = 0; i < count; i++) this.block(first + i, version).copy(out, i * BLOCK);
    return out;
  }
}
