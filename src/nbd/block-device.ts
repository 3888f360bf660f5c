/**
 * What the NBD server needs from storage: nbdkit's plugin shape, as promises.
 *
 * The server validates every request before calling a device: offsets and lengths are
 * integers, `offset + length <= size`, `length > 0`, and writes never reach a device that
 * says it is read-only. A device may still throw (see errno-map.ts for how errors reach
 * the client): throw an Error with a stable `code`, never a bare string.
 *
 * Concurrency: requests on one connection are pipelined and several connections may share
 * one volume, so calls overlap. A device must make overlapping calls on disjoint byte
 * ranges safe, even when those ranges share one of its internal blocks (read-modify-write
 * of a partial block must not lose a neighbour's concurrent write). Overlapping writes to
 * the same bytes have no defined order, exactly as in NBD.
 */
export interface BlockDevice {
  /** Export size in bytes. Fixed while the device is open. */
  readonly size: number;
  /** When true the export is advertised NBD_FLAG_READ_ONLY and writes fail with EPERM. */
  readonly readOnly?: boolean;
  /** Preferred I/O size (a power of 2, >= 512), advertised with NBD_INFO_BLOCK_SIZE. */
  readonly blockSize?: number;
  /** Human-readable text for NBD_INFO_DESCRIPTION. */
  readonly description?: string;
  /**
   * True only if FLUSH and FUA on one connection make data visible and durable for every
   * other connection to the same export when they return: no per-connection cache (e.g.
   * a simulated page cache per attachment). Advertised as NBD_FLAG_CAN_MULTI_CONN.
   */
  readonly canMultiConn?: boolean;

  /** Returns exactly `length` bytes. Unwritten ranges read as zeroes. */
  read(offset: number, length: number): Promise<Buffer>;
  /**
   * Stores `data` at `offset`. The buffer may alias the connection's receive buffer and is
   * not reused by the server after the promise settles; copy it if you keep it.
   * With `fua`, return only once the bytes are durable (as after flush()).
   */
  write(offset: number, data: Buffer, opts: { fua: boolean }): Promise<void>;
  /** Every write that already returned is durable when this returns. */
  flush(): Promise<void>;
  /** Advisory discard: contents of the range become unspecified (reading zeroes is fine). */
  trim(offset: number, length: number, opts: { fua: boolean }): Promise<void>;
  /**
   * The range reads back as zeroes afterwards. `noHole`: keep it allocated (no punching);
   * otherwise holes are welcome. `length` may be large (up to 4 GiB - 1): don't allocate it.
   */
  writeZeroes(offset: number, length: number, opts: { fua: boolean; noHole: boolean }): Promise<void>;
  /**
   * Allocation status of consecutive extents starting at `offset`, for base:allocation.
   * The extents may stop short of `length` (the client asks again) or run past it (clipped).
   * Optional: without it the whole range is reported as allocated data.
   */
  blockStatus?(offset: number, length: number): Promise<Array<{ length: number; hole: boolean; zero: boolean }>>;
  /** Called once when the connection (or option) that opened the device is done with it. */
  close?(): Promise<void>;
}

/**
 * Maps export names to devices. `open` is called once per connection that selects an
 * export (and may be called during negotiation for NBD_OPT_INFO / meta-context queries);
 * every device it returns gets exactly one `close()` call.
 */
export interface ExportResolver {
  /**
   * undefined: no such export (NBD_REP_ERR_UNKNOWN, or a closed connection for EXPORT_NAME).
   * An export the client may not see must also be undefined, never a different refusal.
   */
  open(name: string, client: NbdClient): Promise<BlockDevice | undefined>;
  list(client: NbdClient): Promise<Array<{ name: string; description?: string }>>;
}

/** Who is on the other end, as far as the handshake proved it. */
export interface NbdClient {
  /** The TLS-PSK identity whose key the client proved it holds; undefined without TLS. */
  pskIdentity?: string;
}
