/**
 * Bandwidth and latency limits over any store (restic's limiter, nbdkit's rate and delay
 * filters). For teaching: a slow link keeps a snapshot `pending` long enough to watch its
 * progress, and setRate() can speed it up (or pause it with 0) while it runs.
 *
 * Puts are charged before they reach the inner store (the bytes travel first); gets after the
 * inner store answers (the size is known only then). Puts and gets share one budget.
 */

import type { ByteRange, FileSlice, GetOptions, ObjectInfo, ObjectStore } from './object-store.js';
import { RateLimiter } from './rate-limiter.js';
import { WrappedStore } from './wrapped-store.js';

export interface ThrottleOptions {
  /** Shared bandwidth in bytes per second; 0 pauses transfers; undefined: unlimited. */
  bytesPerSecond?: number;
  /** Added before every call, like a round trip. */
  latencyMs?: number;
}

export class ThrottleStore extends WrappedStore {
  readonly kind = 'throttle';
  readonly #limiter: RateLimiter;
  #latencyMs = 0;

  constructor(inner: ObjectStore, options: ThrottleOptions = {}) {
    super(inner);
    this.#limiter = new RateLimiter(options.bytesPerSecond);
    this.setLatency(options.latencyMs ?? 0);
  }

  get bytesPerSecond(): number | undefined {
    return this.#limiter.bytesPerSecond;
  }

  get latencyMs(): number {
    return this.#latencyMs;
  }

  /** Takes effect for transfers already under way, within about 50 ms. */
  setRate(bytesPerSecond: number | undefined): void {
    this.#limiter.setRate(bytesPerSecond);
  }

  setLatency(ms: number): void {
    if (!(ms >= 0 && Number.isFinite(ms))) throw new RangeError(`latency must be a finite number >= 0 ms: ${ms}`);
    this.#latencyMs = ms;
  }

  protected override async _put(key: string, body: Buffer): Promise<void> {
    await this.#roundTrip();
    await this.#limiter.consume(body.length);
    await this.inner.put(key, body);
  }

  protected override async _putIfAbsent(key: string, body: Buffer): Promise<boolean> {
    await this.#roundTrip();
    await this.#limiter.consume(body.length); // the body is sent either way
    return this.inner.putIfAbsent(key, body);
  }

  protected override async _putIfAbsentFromFile(key: string, source: FileSlice): Promise<boolean> {
    await this.#roundTrip();
    await this.#limiter.consume(source.length);
    return this.inner.putIfAbsentFromFile(key, source);
  }

  protected override async _getWithSha256(key: string, options?: GetOptions): Promise<{ body: Buffer; sha256: string }> {
    await this.#roundTrip();
    const got = await this.inner.getWithSha256(key, options);
    await this.#limiter.consume(got.body.length);
    return got;
  }

  protected override async _get(key: string, range?: ByteRange): Promise<Buffer> {
    await this.#roundTrip();
    const body = await this.inner.get(key, range);
    await this.#limiter.consume(body.length);
    return body;
  }

  protected override async _head(key: string): Promise<ObjectInfo | undefined> {
    await this.#roundTrip();
    return this.inner.head(key);
  }

  protected override async *_list(prefix: string): AsyncGenerator<ObjectInfo> {
    await this.#roundTrip();
    yield* this.inner.list(prefix);
  }

  protected override async _delete(key: string): Promise<void> {
    await this.#roundTrip();
    await this.inner.delete(key);
  }

  async #roundTrip(): Promise<void> {
    if (this.#latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.#latencyMs));
  }
}
