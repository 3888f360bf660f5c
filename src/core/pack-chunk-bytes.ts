/**
 * Chunk bytes in append-only pack files, their locations in the meta database: keys in LevelDB,
 * large values in a log beside it (WiscKey's split). The default for new data directories.
 *
 * Why: read back from LevelDB, every 512 KiB chunk is a fresh buffer copied out of a mapped
 * table. That costs the copy engine a major V8 GC every few dozen blocks (external memory) and
 * counts every chunk read in the process's resident memory. Here a read is one pread, into a
 * buffer the caller may reuse, and the page cache stays the kernel's.
 *
 *   <dir>/<pack id>.pack       chunks back to back; a pack is closed past PACK_BYTES
 *   P|seq (meta database)      pack id, offset, length: written in the batch that references the chunk
 *
 * Crash safety: bytes are pwritten (and with `sync` fdatasynced) before the batch holding their
 * location commits. Bytes no committed location points at (a crash before the batch, a failed
 * batch) are dead space: at open, a pack's tail past its last located chunk is truncated and a
 * pack with no located chunk is deleted.
 *
 * Space: the sweeper's batch deletes locations; a pack whose located bytes fall under half its
 * size is rewritten (its live chunks appended to the current pack and fsynced, their locations
 * moved in one synced batch), then deleted. The copying runs outside the core's lock, which
 * covers only the batch: a rewrite moves up to half a pack (128 MiB), and under the lock it
 * stalled every write and snapshot for up to 770 ms (50-client soak). Readers pin a pack while
 * they read, so a pack is unlinked and closed only once no read of it is in flight (a read that
 * fetched a location before it moved still finds the old file).
 */
import { webcrypto } from 'node:crypto';
import { close, fdatasync, fsync, ftruncate, open, read, write } from 'node:fs';
import { mkdir, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ClassicLevel } from 'classic-level';
import type { ChunkBytes, ChunkFileRange, Exclusive } from './chunk-bytes.js';
import { CoreError } from './errors.js';
import * as keys from './keys.js';
import type { BatchOp, WriteTx } from './write-tx.js';

type Db = ClassicLevel<Buffer, Buffer>;

const openFd = promisify(open);
const closeFd = promisify(close);
const readFd = promisify(read);
const writeFd = promisify(write);
const syncFd = promisify(fdatasync);
const fsyncFd = promisify(fsync);
const truncateFd = promisify(ftruncate);

/** A pack is closed once it holds this much; the unit of space reclamation. */
const PACK_BYTES = 256 * 1024 * 1024;
/** Packs kept open at once (others are reopened on demand). */
const MAX_OPEN = 64;
/** A closed pack whose live bytes fall under this fraction of its size is rewritten. */
const REWRITE_BELOW = 0.5;

/** P|seq value: where the bytes are, and their SHA-256 (computed once, when stored). */
interface Location {
  pack: number;
  offset: number;
  length: number;
  sha256: Buffer;
}

const DIGEST_AT = 16;
/** Placeholder until the digest, computed before the batch commits, is written in. */
const NO_DIGEST_YET = Buffer.alloc(32);

function encodeLocation(l: Location): Buffer {
  const b = Buffer.allocUnsafe(48);
  b.writeUInt32BE(l.pack, 0);
  b.writeUInt32BE(Math.floor(l.offset / 2 ** 32), 4);
  b.writeUInt32BE(l.offset % 2 ** 32, 8);
  b.writeUInt32BE(l.length, 12);
  l.sha256.copy(b, DIGEST_AT);
  return b;
}

function decodeLocation(b: Buffer): Location {
  return {
    pack: b.readUInt32BE(0),
    offset: b.readUInt32BE(4) * 2 ** 32 + b.readUInt32BE(8),
    length: b.readUInt32BE(12),
    sha256: b.subarray(DIGEST_AT, DIGEST_AT + 32),
  };
}

class Pack {
  /** Bytes reserved (the append offset). */
  size = 0;
  /** Bytes of chunks whose location is committed. */
  live = 0;
  /** Reads in flight: the file is closed and unlinked only at zero. */
  readers = 0;
  retired = false;
  /** Being rewritten: `dropped` leaves it to that rewrite. */
  compacting = false;
  /** Bytes a rewrite copied here whose locations are not committed yet: not rewritten or retired meanwhile. */
  incoming = 0;
  /** Written since the last fdatasync. */
  dirty = false;
  fd: Promise<number> | undefined;

  constructor(
    readonly id: number,
    readonly path: string,
  ) {}
}

export class PackChunkBytes implements ChunkBytes {
  private readonly packs = new Map<number, Pack>();
  private current: Pack | undefined;
  private nextPack = 1;
  private openCount = 0;
  /** A pack was created since the directory was last fsynced (its entry is not durable yet). */
  private dirDirty = false;
  private dirSync: Promise<void> | undefined;
  /** Locations of the chunks the sweeper is dropping, read before its batch deletes them. */
  private dropping: Location[] = [];
  /** Closed packs found mostly dead, waiting for `compact`. */
  private readonly due = new Set<Pack>();

  constructor(
    private readonly meta: Db,
    private readonly dir: string,
    private readonly sync: boolean,
    private readonly packBytes = PACK_BYTES,
  ) {}

  async recover(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const ends = new Map<number, number>();
    for await (const value of this.meta.values(keys.prefixRange(keys.packIndexPrefix()))) {
      const l = decodeLocation(value);
      const pack = this.pack(l.pack);
      pack.live += l.length;
      ends.set(l.pack, Math.max(ends.get(l.pack) ?? 0, l.offset + l.length));
    }
    for (const name of await readdir(this.dir)) {
      const match = /^(\d{8})\.pack$/.exec(name);
      if (!match) continue;
      const id = Number(match[1]);
      this.nextPack = Math.max(this.nextPack, id + 1);
      const path = join(this.dir, name);
      const end = ends.get(id);
      if (end === undefined) {
        await unlink(path); // nothing committed points here: a crash before its first batch, or a rewritten pack
        continue;
      }
      const { size } = await stat(path);
      const pack = this.packs.get(id)!;
      pack.size = Math.min(size, end);
      if (size > end) {
        // The tail was written for batches that never committed.
        const fd = await openFd(path, 'r+');
        try {
          await truncateFd(fd, end);
        } finally {
          await closeFd(fd);
        }
      }
    }
    for (const id of ends.keys()) this.nextPack = Math.max(this.nextPack, id + 1);
    // New chunks go to a new pack: the old ones stay as they are until rewritten.
  }

  store(tx: WriteTx, seq: number, content: Buffer, known?: Buffer): void {
    const pack = this.appendTarget(content.length);
    const location = { pack: pack.id, offset: pack.size, length: content.length, sha256: known ?? NO_DIGEST_YET };
    pack.size += content.length;
    const value = encodeLocation(location);
    tx.put(keys.packIndexKey(seq), value);
    tx.beforeCommit(async () => {
      // Hashed here, once per chunk, so that copying it to an object store (once per snapshot
      // that holds it) needs no hashing, and a block the store already holds need not even be
      // read. In the thread pool, beside the write: the caller's thread does not wait for it.
      const [digest] = await Promise.all([known ?? webcrypto.subtle.digest('SHA-256', content), this.writeAt(pack, content, location.offset)]);
      value.set(new Uint8Array(digest), DIGEST_AT); // the batch is not written yet
    });
    tx.afterCommit(() => void (pack.live += content.length));
  }

  async read(seq: number, into?: Buffer): Promise<Buffer | undefined> {
    // Location and pin in one synchronous step: a pack is retired only after the batch that
    // moved its chunks, so a location read here names a pack that is still there.
    const raw = this.meta.getSync(keys.packIndexKey(seq));
    if (raw === undefined) return undefined;
    const l = decodeLocation(raw);
    const pack = this.packs.get(l.pack);
    if (!pack) return undefined;
    if (into && into.length < l.length) throw new RangeError(`buffer of ${into.length} bytes for a chunk of ${l.length}`);
    const out = into ? into.subarray(0, l.length) : Buffer.allocUnsafe(l.length);
    pack.readers++;
    try {
      const fd = await this.fdOf(pack);
      let done = 0;
      while (done < l.length) {
        const { bytesRead: n } = await readFd(fd, out, done, l.length - done, l.offset + done);
        if (n === 0) return undefined; // the pack lost its tail (a machine crash without sync)
        done += n;
      }
      return out;
    } finally {
      this.release(pack);
    }
  }

  async fileRange(seq: number): Promise<ChunkFileRange | undefined> {
    // Located and pinned in one synchronous step, as in read().
    const raw = this.meta.getSync(keys.packIndexKey(seq));
    if (raw === undefined) return undefined;
    const l = decodeLocation(raw);
    const pack = this.packs.get(l.pack);
    if (!pack) return undefined;
    pack.readers++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.release(pack);
    };
    try {
      return { fd: await this.fdOf(pack), offset: l.offset, length: l.length, release };
    } catch (err) {
      release();
      throw err;
    }
  }

  digest(seq: number): { sha256: Buffer; length: number } | undefined {
    const raw = this.meta.getSync(keys.packIndexKey(seq));
    if (raw === undefined) return undefined;
    const l = decodeLocation(raw);
    // Only for bytes still there: not a pack gone, nor a tail a crash without sync cut off.
    const pack = this.packs.get(l.pack);
    return pack && l.offset + l.length <= pack.size ? l : undefined;
  }

  async drop(seqs: number[]): Promise<BatchOp[]> {
    const ops: BatchOp[] = [];
    for (const seq of seqs) {
      const key = keys.packIndexKey(seq);
      const raw = this.meta.getSync(key);
      if (raw === undefined) continue;
      this.dropping.push(decodeLocation(raw));
      ops.push({ type: 'del', key });
    }
    return ops;
  }

  async dropped(): Promise<void> {
    for (const l of this.dropping) {
      const pack = this.packs.get(l.pack);
      if (pack) pack.live -= l.length;
    }
    this.dropping = [];
    // Every closed pack, not only those just touched: one that died while it was the current
    // pack is due once a newer one took over.
    for (const pack of [...this.packs.values()]) {
      if (pack === this.current || pack.retired || pack.compacting || pack.incoming > 0) continue;
      if (pack.live <= 0) {
        this.due.delete(pack);
        await this.retire(pack);
      } else if (pack.live < pack.size * REWRITE_BELOW) this.due.add(pack);
    }
  }

  async compact(exclusive: Exclusive): Promise<void> {
    for (const victim of [...this.due]) {
      this.due.delete(victim);
      if (!victim.retired && !victim.compacting) await this.rewrite(victim, exclusive);
    }
  }

  async flush(): Promise<void> {
    await this.syncDir();
    for (const pack of this.packs.values()) if (pack.dirty) await this.syncPack(pack); // retired packs left the map
  }

  async *stored(): AsyncIterable<number> {
    for await (const [key, value] of this.meta.iterator(keys.prefixRange(keys.packIndexPrefix()))) {
      const l = decodeLocation(value);
      const pack = this.packs.get(l.pack);
      if (pack && l.offset + l.length <= pack.size) yield keys.parsePackIndexKey(key);
    }
  }

  async close(): Promise<void> {
    for (const pack of this.packs.values()) {
      const fd = pack.fd;
      pack.fd = undefined;
      if (fd) await closeFd(await fd);
    }
  }

  /**
   * Moves a mostly dead pack's live chunks to the current pack, then deletes it. The bytes are
   * read and written outside the core's lock: a closed pack gains no chunks, and a chunk the
   * sweeper drops meanwhile is simply not moved. Under the lock (`exclusive`), one synced batch
   * moves the locations that still name the victim, and the victim is retired.
   */
  private async rewrite(victim: Pack, exclusive: Exclusive): Promise<void> {
    victim.compacting = true;
    const copies: Array<{ seq: number; to: Location; pack: Pack }> = [];
    try {
      const moves: Array<{ seq: number; l: Location }> = [];
      for await (const [key, value] of this.meta.iterator(keys.prefixRange(keys.packIndexPrefix()))) {
        const l = decodeLocation(value);
        if (l.pack === victim.id) moves.push({ seq: keys.parsePackIndexKey(key), l });
      }
      const buffer = Buffer.allocUnsafe(Math.max(0, ...moves.map((m) => m.l.length)));
      for (const { seq, l } of moves) {
        const content = await this.read(seq, buffer);
        if (!content) continue; // dropped since the scan, or lost with a crash (fsck reports that)
        const pack = this.appendTarget(l.length);
        const to = { pack: pack.id, offset: pack.size, length: l.length, sha256: Buffer.from(l.sha256) };
        pack.size += l.length;
        pack.incoming += l.length;
        copies.push({ seq, to, pack });
        await this.writeAt(pack, content, to.offset);
      }
      // Durable before the old pack goes, whatever `sync` says: these bytes may have been
      // acknowledged, and flushed, long ago.
      for (const pack of new Set(copies.map((c) => c.pack))) await this.syncPack(pack);
      await this.syncDir();
      await exclusive(async () => {
        const ops: BatchOp[] = [];
        const moved = new Map<Pack, number>(); // target pack → bytes moved into it
        for (const { seq, to, pack } of copies) {
          const raw = this.meta.getSync(keys.packIndexKey(seq));
          if (raw === undefined || decodeLocation(raw).pack !== victim.id) continue; // dropped meanwhile
          ops.push({ type: 'put', key: keys.packIndexKey(seq), value: encodeLocation(to) });
          moved.set(pack, (moved.get(pack) ?? 0) + to.length);
        }
        if (ops.length > 0) await this.meta.batch(ops, { sync: true });
        for (const [pack, bytes] of moved) pack.live += bytes;
        await this.retire(victim);
      });
    } finally {
      victim.compacting = false;
      for (const { to, pack } of copies) pack.incoming -= to.length;
    }
  }

  /** The current pack, or a new one if `length` more bytes would overfill it. */
  private appendTarget(length: number): Pack {
    let pack = this.current;
    if (!pack || (pack.size > 0 && pack.size + length > this.packBytes)) {
      pack = this.current = this.pack(this.nextPack++);
      pack.fd = this.openPack(pack, 'w+');
      this.dirDirty = true;
    }
    return pack;
  }

  private pack(id: number): Pack {
    let pack = this.packs.get(id);
    if (!pack) {
      pack = new Pack(id, join(this.dir, `${String(id).padStart(8, '0')}.pack`));
      this.packs.set(id, pack);
    }
    return pack;
  }

  private async writeAt(pack: Pack, content: Buffer, offset: number): Promise<void> {
    pack.readers++; // keeps the file open while it is written
    try {
      const fd = await this.fdOf(pack);
      let done = 0;
      while (done < content.length) done += (await writeFd(fd, content, done, content.length - done, offset + done)).bytesWritten;
      pack.dirty = true;
      if (this.sync) {
        pack.dirty = false;
        await syncFd(fd);
        await this.syncDir();
      }
    } finally {
      this.release(pack);
    }
  }

  private async syncPack(pack: Pack): Promise<void> {
    pack.dirty = false;
    pack.readers++; // keeps the file open meanwhile
    try {
      await syncFd(await this.fdOf(pack));
    } finally {
      this.release(pack);
    }
  }

  /**
   * Makes the entries of new pack files durable (an fdatasync of a file does not cover its
   * name). A caller whose pack was created before a sync started waits for that sync.
   */
  private async syncDir(): Promise<void> {
    if (this.dirDirty) {
      this.dirDirty = false;
      this.dirSync = (async () => {
        const fd = await openFd(this.dir, 'r');
        try {
          await fsyncFd(fd);
        } finally {
          await closeFd(fd);
        }
      })().catch((err: unknown) => {
        this.dirDirty = true;
        throw err;
      });
    }
    await this.dirSync;
  }

  private fdOf(pack: Pack): Promise<number> {
    pack.fd ??= this.openPack(pack, 'r+');
    return pack.fd;
  }

  private openPack(pack: Pack, flags: 'r+' | 'w+'): Promise<number> {
    this.openCount++;
    if (this.openCount > MAX_OPEN) this.closeIdle();
    return openFd(pack.path, flags).catch((err: unknown) => {
      this.openCount--;
      pack.fd = undefined;
      throw new CoreError('STORE_FAILED', `cannot open chunk pack ${pack.path}: ${(err as Error).message}`, { cause: err });
    });
  }

  /**
   * Closes packs nobody is reading (they reopen on demand) to stay under MAX_OPEN. Closing loses
   * nothing: flush() fsyncs a dirty pack through a new descriptor (fsync is per file).
   */
  private closeIdle(): void {
    for (const pack of this.packs.values()) {
      if (this.openCount <= MAX_OPEN / 2) return;
      if (pack === this.current || pack.readers > 0 || !pack.fd) continue;
      this.closePack(pack);
    }
  }

  private closePack(pack: Pack): void {
    const fd = pack.fd!;
    pack.fd = undefined;
    this.openCount--;
    void fd.then(closeFd).catch(() => undefined);
  }

  /** Deletes a pack no location points at any more, now or once its last read is done. */
  private async retire(pack: Pack): Promise<void> {
    pack.retired = true;
    this.packs.delete(pack.id);
    if (pack.readers === 0) await this.unlinkPack(pack);
  }

  private release(pack: Pack): void {
    pack.readers--;
    if (pack.retired && pack.readers === 0) void this.unlinkPack(pack);
    else if (this.openCount > MAX_OPEN) this.closeIdle(); // after a burst of reads of many packs
  }

  private async unlinkPack(pack: Pack): Promise<void> {
    if (pack.fd) this.closePack(pack);
    // A failed unlink leaves a pack no location points at: the next open deletes it.
    await unlink(pack.path).catch(() => undefined);
  }
}
