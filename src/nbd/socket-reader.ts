import type { Socket } from 'node:net';

/** The peer closed (or the connection failed) before the bytes we needed arrived. */
export class ConnectionClosedError extends Error {
  readonly code = 'NBD_CONNECTION_CLOSED';
  constructor(message = 'connection closed', options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Exact-length reads over a socket, with bounded read-ahead.
 *
 * We take bytes from the socket only while someone is waiting for them or while less than
 * `readAhead` is buffered; past that the socket is paused, the kernel's receive window
 * fills and TCP pushes back on the client. Memory per connection is therefore about
 * `readAhead` plus the one read in progress (at most one request payload).
 */
export class SocketReader {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private waiter: { n: number; resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  /** Set once no more bytes will come; reads still drain what is buffered. */
  private ended: Error | undefined;
  /** Set by abort(): reads fail at once, buffered or not. */
  private aborted: Error | undefined;

  constructor(
    private readonly socket: Socket,
    readonly readAhead = 1 << 20,
  ) {
    socket.on('data', this.listeners.data);
    socket.on('end', this.listeners.end);
    socket.on('close', this.listeners.close);
    socket.on('error', this.listeners.error);
  }

  private readonly listeners = {
    data: (chunk: Buffer) => this.onData(chunk),
    end: () => this.end(new ConnectionClosedError('peer closed the connection')),
    close: () => this.end(new ConnectionClosedError('connection closed')),
    error: (err: Error) => this.end(new ConnectionClosedError(`socket error: ${err.message}`, { cause: err })),
  };

  /**
   * Stops reading this socket so another reader (TLS) can take it over. Bytes already taken
   * from it would be lost to the new reader, so there must be none.
   */
  release(): void {
    if (this.buffered > 0 || this.waiter) throw new Error('SocketReader: released with bytes buffered or a read pending');
    this.socket.off('data', this.listeners.data);
    this.socket.off('end', this.listeners.end);
    this.socket.off('close', this.listeners.close);
    this.socket.off('error', this.listeners.error);
  }

  /** Resolves with exactly `n` bytes, or rejects if the connection ends first. One read at a time. */
  read(n: number): Promise<Buffer> {
    if (this.waiter) return Promise.reject(new Error('SocketReader: concurrent read'));
    if (this.aborted) return Promise.reject(this.aborted);
    if (this.buffered >= n) return Promise.resolve(this.take(n));
    if (this.ended) return Promise.reject(this.ended);
    this.socket.resume();
    return new Promise((resolve, reject) => {
      this.waiter = { n, resolve, reject };
    });
  }

  /** Consumes and drops `n` bytes without holding more than a small slice of them. */
  async skip(n: number): Promise<void> {
    const step = 1 << 16;
    for (let left = n; left > 0; left -= step) await this.read(Math.min(step, left));
  }

  /** Stops reading for good (server shutdown): the pending read, and any later one, rejects. */
  abort(err: Error): void {
    this.aborted ??= err;
    this.end(err);
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w.reject(err);
    }
  }

  private onData(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const w = this.waiter;
    if (w && this.buffered >= w.n) {
      this.waiter = undefined;
      w.resolve(this.take(w.n));
    }
    if (!this.waiter && this.buffered >= this.readAhead) this.socket.pause();
  }

  private end(err: Error): void {
    this.ended ??= err;
    const w = this.waiter;
    if (w && this.buffered < w.n) {
      this.waiter = undefined;
      w.reject(this.ended);
    }
  }

  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0];
    if (first && first.length >= n) {
      // Common case: no copy, just a view of the received chunk.
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0]!;
      const used = Math.min(c.length, n - filled);
      c.copy(out, filled, 0, used);
      filled += used;
      if (used === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(used);
    }
    return out;
  }
}
