/**
 * The object store: where the copy engine uploads snapshot blocks (`blocks/<sha256 hex>`) and
 * writes manifests (`snapshots/<snap-id>/manifest`, written last: the commit point).
 *
 * Vocabulary. An *object* is an immutable-until-overwritten byte string under a *key*
 * (rules in keys.ts). A *backend* stores objects (fs, s3, memory). A *wrapper* is an
 * ObjectStore over another ObjectStore that changes how calls behave (faults, throttle);
 * it owns its inner store and closes it.
 *
 * Errors (errors.ts) carry a stable `code`: OBJECT_NOT_FOUND, INVALID_KEY, INVALID_RANGE,
 * KEY_CONFLICT, OBJECT_STORE_CLOSED, OBJECT_STORE_FAILURE (the backend failed; `cause` holds
 * the original error; may be transient, so the caller may retry any call: all are idempotent).
 */

export interface ObjectInfo {
  key: string;
  /** Size in bytes. */
  size: number;
}

/** `length` bytes at `offset` of a file open in this process (`fd`), which stay unchanged meanwhile. */
export interface FileSlice {
  fd: number;
  offset: number;
  length: number;
}

/** A byte range of an object. Both are non-negative safe integers. */
export interface ByteRange {
  offset: number;
  length: number;
}

/**
 * Counts of completed calls made through one store instance (a wrapper counts the calls made
 * to it; its inner store counts the calls that reached it). A call that rejects counts only in
 * `failures`, so `puts` is "objects stored" and `bytesPut` "bytes stored".
 */
export interface StoreStats {
  puts: number;
  gets: number;
  heads: number;
  /** list() iterations that ran to the end (or were stopped early by the caller). */
  lists: number;
  deletes: number;
  bytesPut: number;
  /** Bytes returned by get(), ranges included. */
  bytesGot: number;
  /** Calls that rejected, not-found gets and invalid keys included. */
  failures: number;
}

/**
 * What a store does better than the plain calls (abstract-level's `supports` manifest). Every
 * store answers every call; a capability says a call takes a faster path there, so that callers
 * choose by it instead of probing for optional methods. A wrapper reports its inner store's
 * capabilities when it passes the fast paths on (the fault and throttle wrappers do).
 */
export interface StoreCapabilities {
  /** putIfAbsentFromFile copies from file to file: the bytes never enter JavaScript memory. */
  readonly filePuts: boolean;
  /** getWithSha256 hashes where the bytes are read, off the caller's event loop. */
  readonly hashedGets: boolean;
}

export interface GetOptions {
  /** See ObjectStore.getWithSha256. */
  recyclable?: number;
}

export interface ObjectStore {
  /** 'fs' | 's3' | 'memory', or a wrapper's name ('fault', 'throttle'). */
  readonly kind: string;

  readonly supports: StoreCapabilities;

  /**
   * Stores `body` under `key`. Atomic: a concurrent or later reader sees the whole old object
   * or the whole new one, never a mix or a prefix, even if the process dies mid-put.
   * Overwriting is allowed; putting the same bytes again is a no-op in effect (idempotent).
   * Once it settles (resolved or rejected), the caller may reuse `body`: the store keeps no
   * reference to it and has no write of it in flight.
   */
  put(key: string, body: Buffer): Promise<void>;

  /**
   * Stores `body` under `key` unless an object is there already; resolves true if it stored it,
   * false if one was there (and nothing was written). For content-addressed keys, where every
   * writer of a key writes the same bytes: where the check and the write cannot be one atomic
   * step, two concurrent calls may both store. On S3 it is one conditional PUT (If-None-Match),
   * not a HEAD and a PUT. Counted in stats as a put when it stored, as a head when it did not.
   * `body` may be reused once it settles, as with put.
   */
  putIfAbsent(key: string, body: Buffer): Promise<boolean>;

  /**
   * putIfAbsent with the bytes of a file slice. Where `supports.filePuts`, they go from file to
   * file without passing through JavaScript memory, and are not even read when the object is
   * there; elsewhere the slice is read, then put conditionally. Counted as putIfAbsent.
   */
  putIfAbsentFromFile(key: string, source: FileSlice): Promise<boolean>;

  /**
   * get of a whole object, with the SHA-256 (hex) of the bytes returned. Where
   * `supports.hashedGets`, computed by the thread that read them; elsewhere by the caller's.
   * `recyclable` (bytes): the caller will hand the body back through recycle() when done with
   * it, so a store may return objects up to that size in memory it reuses (the fs store does),
   * sparing the event loop a new buffer per object and its share of garbage collections.
   */
  getWithSha256(key: string, options?: GetOptions): Promise<{ body: Buffer; sha256: string }>;

  /**
   * Hands back a body that getWithSha256 returned with `recyclable`, once nothing reads or
   * writes it any more: its memory may hold the next object read. A body not handed back (a
   * result given up on, say) is left to the garbage collector as usual. A no-op elsewhere.
   */
  recycle(body: Buffer): void;

  /**
   * Reads an object, or `range` of it. A range reaching past the end is clipped: it returns the
   * bytes that exist (none if `offset >= size`). A missing key rejects with ObjectNotFoundError
   * (code OBJECT_NOT_FOUND), with or without a range. The Buffer is the caller's to modify.
   */
  get(key: string, range?: ByteRange): Promise<Buffer>;

  /** Size of an object, or undefined if the key does not exist (never throws for "absent"). */
  head(key: string): Promise<ObjectInfo | undefined>;

  /**
   * Every object whose key starts with `prefix` (plain string prefix: `a/b` matches `a/bc`),
   * in ascending UTF-8 byte order of key, each exactly once. Backends page internally. Objects
   * put or deleted during the iteration may or may not appear. Errors (invalid prefix, closed
   * store, backend failure) surface from the iteration, not from the call to list().
   */
  list(prefix: string): AsyncIterable<ObjectInfo>;

  /** Removes an object. Idempotent: deleting a missing key succeeds. */
  delete(key: string): Promise<void>;

  /** Releases resources (and a wrapper's inner store). Idempotent; later calls reject with OBJECT_STORE_CLOSED. */
  close(): Promise<void>;

  /** A copy of this instance's counters. */
  stats(): StoreStats;
}
