/**
 * Snapshot data in the object store: content-addressed blocks and manifests, with retries,
 * integrity checks on read, and garbage collection that cannot race with running copies.
 *
 * GC safety: a copy *pins* every block it uploads or finds already stored until its manifest
 * is written (from then on the manifest keeps it). The collector never deletes a pinned block,
 * and a copy that pins a block the collector is deleting waits for the delete to finish and
 * then uploads the block again. Limitation: simulators sharing one bucket do not see each
 * other's pins, only each other's manifests.
 */
import type { FileSlice, ObjectStore } from '../object-store/object-store.js';
import { blockKey, decodeManifest, encodeManifest, MANIFEST_PREFIX, manifestKey, type Manifest } from './manifest.js';
import { withRetry, type RetryHooks, type RetryPolicy } from './retry.js';

const MANIFEST_CACHE = 256;

interface Joiner {
  resolve(data: Buffer): void;
  reject(err: unknown): void;
  into: Buffer | undefined;
}

/** `data` in `into` when given (and large enough), else in a buffer of its own. */
function copyOut(data: Buffer, into: Buffer | undefined): Buffer {
  if (!into || into.length < data.length) return Buffer.from(data);
  data.copy(into);
  return into.subarray(0, data.length);
}

export class BlockCorruptError extends Error {
  readonly code = 'BLOCK_CORRUPT';
}

export class BlockRepository {
  private readonly pins = new Map<string, number>();
  private readonly deleting = new Map<string, Promise<void>>();
  private readonly manifests = new Map<string, Manifest>();
  /** Manifest deletes finished: a read that saw this change while it ran does not cache. */
  private manifestDeletes = 0;
  /** Downloads in flight, with the callers waiting for a copy. */
  private readonly downloads = new Map<string, { joiners: Joiner[]; signal: AbortSignal | undefined }>();
  /** Blocks of manifests written while a collection runs: referenced even if listed too late. */
  private referencedLate: Set<string> | undefined;
  /** Who hears of retries, by the signal of the job whose calls they are. */
  private readonly watchers = new WeakMap<AbortSignal, RetryHooks>();

  constructor(
    readonly objects: ObjectStore,
    readonly retry: RetryPolicy,
  ) {}

  /** Calls made with `signal` report their failed attempts (and recoveries) to `hooks`. */
  watchRetries(signal: AbortSignal, hooks: RetryHooks): void {
    this.watchers.set(signal, hooks);
  }

  private retried<T>(what: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    return withRetry(what, this.retry, signal, fn, (signal && this.watchers.get(signal)) || {});
  }

  /**
   * Makes sure a block is stored and pins it: one conditional upload (no separate existence
   * check). Returns true if it had to be uploaded. Objects are stored atomically, so one that is
   * there is whole.
   */
  ensureBlock(sha: string, content: Buffer, signal?: AbortSignal): Promise<boolean> {
    return this.upload(sha, signal, (key) => this.objects.putIfAbsent(key, content));
  }

  /** True when the store copies a block straight from a file slice (ensureBlockFromFile) without reading it here. */
  get copiesFromFiles(): boolean {
    return this.objects.supports.filePuts;
  }

  /** ensureBlock with the bytes in a file slice, whose SHA-256 the caller knows. */
  ensureBlockFromFile(sha: string, source: FileSlice, signal?: AbortSignal): Promise<boolean> {
    return this.upload(sha, signal, (key) => this.objects.putIfAbsentFromFile(key, source));
  }

  private async upload(sha: string, signal: AbortSignal | undefined, putIfAbsent: (key: string) => Promise<boolean>): Promise<boolean> {
    this.pin(sha);
    await this.deleting.get(sha);
    const key = blockKey(sha);
    return this.retried(`upload of ${key}`, signal, () => putIfAbsent(key));
  }

  /** Pins a block and returns its stored size, or undefined if it is not stored. */
  async pinExisting(sha: string, signal?: AbortSignal): Promise<number | undefined> {
    this.pin(sha);
    await this.deleting.get(sha);
    const key = blockKey(sha);
    return (await this.retried(`head ${key}`, signal, () => this.objects.head(key)))?.size;
  }

  unpin(shas: Iterable<string>): void {
    for (const sha of shas) {
      const n = (this.pins.get(sha) ?? 0) - 1;
      if (n <= 0) this.pins.delete(sha);
      else this.pins.set(sha, n);
    }
  }

  /**
   * A block's bytes, checked against its digest. Concurrent calls for one block (a read of a
   * restored volume racing its hydration) share one download; each caller gets its own buffer:
   * `into`, the caller's (at least the block's size), when given; the result is then a view of it.
   */
  getBlock(sha: string, signal?: AbortSignal, into?: Buffer): Promise<Buffer> {
    const running = this.downloads.get(sha);
    if (running) {
      return new Promise<Buffer>((resolve, reject) => running.joiners.push({ resolve, reject, into })).catch((err: unknown) => {
        // The download was the first caller's, and that caller gave up: fetch for ourselves.
        if (running.signal?.aborted && !signal?.aborted) return this.getBlock(sha, signal, into);
        throw err;
      });
    }
    const joiners: Joiner[] = [];
    this.downloads.set(sha, { joiners, signal });
    return this.download(sha, signal, into).then(
      (data) => {
        this.downloads.delete(sha);
        // Copies made here, before any caller sees the bytes (callers may change theirs).
        for (const j of joiners) j.resolve(copyOut(data, j.into));
        return data;
      },
      (err: unknown) => {
        this.downloads.delete(sha);
        for (const j of joiners) j.reject(err);
        throw err;
      },
    );
  }

  /**
   * With `into`, the store may read into memory of its own that it reuses: the bytes are copied
   * out of it here, once this call has them, and it is handed straight back. So the store's
   * memory is never the caller's, and an attempt the retries gave up on (which may still
   * finish) never writes where the caller's bytes are.
   */
  private async download(sha: string, signal?: AbortSignal, into?: Buffer): Promise<Buffer> {
    const key = blockKey(sha);
    const { objects } = this;
    const options = into ? { recyclable: into.length } : undefined;
    const { body, sha256 } = await this.retried(`download of ${key}`, signal, () => objects.getWithSha256(key, options));
    try {
      if (sha256 !== sha) throw new BlockCorruptError(`block ${key} does not match its digest`);
      return into ? copyOut(body, into) : body;
    } finally {
      if (into) objects.recycle(body);
    }
  }

  async putManifest(m: Manifest, signal?: AbortSignal): Promise<void> {
    const key = manifestKey(m.snapshotId);
    await this.retried(`write of ${key}`, signal, () => this.objects.put(key, encodeManifest(m)));
    this.cache(m);
    if (this.referencedLate) for (const sha of m.blocks.values()) this.referencedLate.add(sha);
  }

  /** A snapshot's manifest, or undefined if it has none (not completed, or deleted). */
  async getManifest(snapshotId: string, signal?: AbortSignal): Promise<Manifest | undefined> {
    const cached = this.manifests.get(snapshotId);
    if (cached) return cached;
    const deletes = this.manifestDeletes;
    const m = await this.readManifest(snapshotId, signal);
    // Not cached if a delete finished meanwhile: the read may have found what it deleted.
    if (m && deletes === this.manifestDeletes) this.cache(m);
    return m;
  }

  /** One get (no head first: a missing manifest is the rare case). */
  private async readManifest(snapshotId: string, signal?: AbortSignal): Promise<Manifest | undefined> {
    const key = manifestKey(snapshotId);
    try {
      return decodeManifest(await this.retried(`read of ${key}`, signal, () => this.objects.get(key)));
    } catch (err) {
      if ((err as { code?: unknown }).code === 'OBJECT_NOT_FOUND') return undefined;
      throw err;
    }
  }

  /**
   * A manifest for a sweep: one get (no head), and not cached, so that a sweep over every
   * manifest does not push out those the copies and deletions are using.
   */
  private async readManifestForSweep(snapshotId: string): Promise<Manifest | undefined> {
    return this.manifests.get(snapshotId) ?? (await this.readManifest(snapshotId)); // undefined: deleted since the listing
  }

  /** A manifest already in memory, if any (no store call). */
  cachedManifest(snapshotId: string): Manifest | undefined {
    return this.manifests.get(snapshotId);
  }

  async deleteManifest(snapshotId: string): Promise<void> {
    this.manifests.delete(snapshotId);
    const key = manifestKey(snapshotId);
    try {
      await this.retried(`delete of ${key}`, undefined, () => this.objects.delete(key));
    } finally {
      // A read during the delete may have found the object: what it cached goes, and one still
      // under way does not cache what it finds (getManifest).
      this.manifestDeletes++;
      this.manifests.delete(snapshotId);
    }
  }

  /**
   * Deletes the candidate blocks that no manifest in the store (but those of snapshots
   * `ignoring` names, which are being deleted) references and no running copy pinned. Returns
   * how many were deleted; `stop` ends it between two deletes. Call one collection at a time.
   */
  async collect(candidates: Set<string>, options: { ignoring?: (snapshotId: string) => boolean; stop?: () => boolean } = {}): Promise<number> {
    const { ignoring = () => false, stop = () => false } = options;
    if (candidates.size === 0) return 0;
    const late = (this.referencedLate = new Set());
    try {
      const referenced = new Set<string>();
      for await (const { key } of this.objects.list(MANIFEST_PREFIX)) {
        if (!key.endsWith('/manifest')) continue;
        const id = key.slice(MANIFEST_PREFIX.length, -'/manifest'.length);
        if (ignoring(id)) continue;
        const m = await this.readManifestForSweep(id);
        for (const sha of m?.blocks.values() ?? []) if (candidates.has(sha)) referenced.add(sha);
      }
      let deleted = 0;
      for (const sha of candidates) {
        if (stop()) break;
        // Checked synchronously right before the delete starts: a copy either still pins the
        // block or has already written the manifest that references it.
        if (referenced.has(sha) || late.has(sha) || this.pins.has(sha) || this.deleting.has(sha)) continue;
        const key = blockKey(sha);
        // A re-upload of this block waits for the delete, and for any attempt of it that timed
        // out but may still land: otherwise a late delete could remove the new copy.
        const abandoned = new Set<Promise<unknown>>();
        const done = withRetry(`delete of ${key}`, this.retry, undefined, () => this.objects.delete(key), { abandoned });
        const quiet = done.then(() => undefined, () => undefined).then(() => Promise.all(abandoned)).then(() => undefined);
        this.deleting.set(sha, quiet);
        try {
          await done;
          deleted++;
        } finally {
          void quiet.then(() => {
            if (this.deleting.get(sha) === quiet) this.deleting.delete(sha);
          });
        }
      }
      return deleted;
    } finally {
      this.referencedLate = undefined;
    }
  }

  private pin(sha: string): void {
    this.pins.set(sha, (this.pins.get(sha) ?? 0) + 1);
  }

  private cache(m: Manifest): void {
    this.manifests.delete(m.snapshotId);
    this.manifests.set(m.snapshotId, m);
    if (this.manifests.size > MANIFEST_CACHE) this.manifests.delete(this.manifests.keys().next().value!);
  }
}
