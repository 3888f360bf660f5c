import { createCipheriv } from 'node:crypto';

/**
 * Seeded randomness for replayable tests. The seed comes from EBS_SIM_SEED when set, else is
 * drawn at random; tests print it so that a failure can be replayed.
 */
export function testSeed(): number {
  const fromEnv = process.env.EBS_SIM_SEED;
  return fromEnv ? Number(fromEnv) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
}

/** mulberry32: small, fast, good enough for test data. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** n pseudo-random bytes: an AES-CTR keystream keyed from this generator (fast, deterministic). */
  bytes(n: number): Buffer {
    const key = Buffer.allocUnsafe(16);
    for (let i = 0; i < 16; i += 4) key.writeUInt32LE((this.next() * 2 ** 32) >>> 0, i);
    const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
    return cipher.update(Buffer.alloc(n));
  }
}
