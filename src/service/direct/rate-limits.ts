/**
 * The request rates AWS documents for the direct APIs, counted in one-second windows of the
 * service's clock. Per account and region for every call; per snapshot too for block puts and
 * gets. Off (`--direct-rate-limits off`) for benchmarks that measure the store, not the quota.
 */
import { DirectApiError } from './direct-errors.js';

export type DirectCall = 'start' | 'complete' | 'listBlocks' | 'listChanged' | 'get' | 'put';

/** Requests per second per account (AWS's documented figures). */
export const ACCOUNT_RATES: Record<DirectCall, number> = {
  start: 10, complete: 10, listBlocks: 50, listChanged: 50, get: 1000, put: 1000,
};
/** Requests per second per snapshot, for the block calls. */
export const SNAPSHOT_RATE = 1000;

export class RateLimits {
  private window = -1;
  private counts = new Map<string, number>();

  constructor(
    private readonly enabled: boolean,
    private readonly now: () => number,
  ) {}

  /** Counts one call; throws RequestThrottledException's codes over the limit. */
  take(call: DirectCall, account: string, snapshotId?: string): void {
    if (!this.enabled) return;
    const window = Math.floor(this.now() / 1000);
    if (window !== this.window) {
      this.window = window;
      this.counts = new Map();
    }
    if (snapshotId !== undefined && (call === 'get' || call === 'put') && this.bump(`${call}\0${snapshotId}`) > SNAPSHOT_RATE) {
      throw new DirectApiError('SNAPSHOT_THROTTLED', `More than ${SNAPSHOT_RATE} ${call === 'put' ? 'PutSnapshotBlock' : 'GetSnapshotBlock'} requests per second for ${snapshotId}; slow down.`);
    }
    if (this.bump(`${call}\0${account}`) > ACCOUNT_RATES[call]) {
      throw new DirectApiError('ACCOUNT_THROTTLED', `More than ${ACCOUNT_RATES[call]} requests per second of this kind for account ${account}; slow down.`);
    }
  }

  private bump(key: string): number {
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    return n;
  }
}
