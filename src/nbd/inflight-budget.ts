/**
 * Caps what one connection holds at once: payload bytes of requests being served (WRITE
 * data received, READ data until its reply has left for the kernel) and the number of
 * requests in flight. The request loop waits here before reading a request's payload, so
 * when the budget is spent we stop reading the socket and TCP pushes back on the client.
 *
 * Only the request loop acquires, one call at a time, so a single waiter suffices.
 */
export class InflightBudget {
  private bytes = 0;
  private requests = 0;
  private waiter: { bytes: number; resolve: () => void; reject: (e: Error) => void } | undefined;
  private closed: Error | undefined;

  constructor(
    private readonly maxBytes: number,
    private readonly maxRequests: number,
  ) {
    if (maxBytes <= 0 || maxRequests <= 0) throw new RangeError('InflightBudget: limits must be positive');
  }

  /** `bytes` must not exceed maxBytes (callers cap requests below it). */
  acquire(bytes: number): Promise<void> {
    if (this.closed) return Promise.reject(this.closed);
    if (this.waiter) return Promise.reject(new Error('InflightBudget: concurrent acquire'));
    if (this.fits(bytes)) {
      this.take(bytes);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      this.waiter = { bytes, resolve, reject };
    });
  }

  release(bytes: number): void {
    this.bytes -= bytes;
    this.requests -= 1;
    const w = this.waiter;
    if (w && this.fits(w.bytes)) {
      this.waiter = undefined;
      this.take(w.bytes);
      w.resolve();
    }
  }

  close(err: Error): void {
    this.closed ??= err;
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(err);
  }

  get inflightBytes(): number {
    return this.bytes;
  }

  get inflightRequests(): number {
    return this.requests;
  }

  private fits(bytes: number): boolean {
    return this.requests < this.maxRequests && this.bytes + bytes <= this.maxBytes;
  }

  private take(bytes: number): void {
    this.bytes += bytes;
    this.requests += 1;
  }
}
