/**
 * The embedded default: objects as files under a root directory, one file per key, the key's
 * `/` segments as directories, so `ls objects/blocks` shows what was uploaded.
 *
 * put writes `<root>/.tmp/<pid>-<token>-<n>`, then renames it onto the key's path. rename() is
 * atomic within one filesystem, so a reader sees the whole old file or the whole new one, and a
 * crash mid-put leaves only a temp file, which no key maps to (`.tmp` is a reserved first
 * segment). open() removes temp files whose writer is gone: its pid is dead, or it is our pid
 * with another per-process token (a container restart reuses pids). Temp files of live
 * processes sharing the directory are left alone.
 *
 * With `durable`, the temp file is fsynced before the rename and the directories from the key
 * up to the root after it, so an acknowledged put also survives a machine crash.
 *
 * Direct writes: a snapshot block is written once and read back seldom (a restore, a direct-API
 * read), so its bytes go to the disk with O_DIRECT rather than through new page-cache pages,
 * as object stores such as MinIO write theirs. The cache keeps the volumes' packs instead of a
 * second copy of their bytes, and a copy is not held back by the cost of new pages: measured on
 * this project's VMs (whose fresh guest memory the host faults in), 1 GiB of 512 KiB blocks was
 * copied at 394-539 MB/s direct against 238-262 MB/s buffered (`ebs-sim bench --preset full`).
 * Blocks are read back the same way (hashed gets), or a restore reads them into new page-cache
 * pages (155-164 against 205-208 MB/s). Objects of other sizes (manifests), and file systems that refuse O_DIRECT (EINVAL), are
 * written through the cache; `direct: false` (`fs:<dir>?direct=false`) always does, which suits
 * a slow disk with memory to spare.
 *
 * Puts and gets run whole in worker threads (fs-io-threads.ts), one message per object rather
 * than one thread-pool round trip per syscall; heads, lists and deletes run on the event loop.
 *
 * A file cannot also be a directory, so `a` and `a/b` cannot both exist: the second put rejects
 * with KeyConflictError. Our own keys (`blocks/<sha>`, `snapshots/<id>/manifest`) never collide.
 */

import { randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { mkdir, open, readdir, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { BaseObjectStore } from './base-store.js';
import { InvalidKeyError, KeyConflictError, ObjectNotFoundError } from './errors.js';
import { FsIoThreads } from './fs-io-threads.js';
import { compareKeys } from './keys.js';
import type { ByteRange, FileSlice, GetOptions, ObjectInfo, StoreCapabilities } from './object-store.js';

export interface FsStoreOptions {
  /** Directory holding the objects; created if missing. Relative paths resolve against cwd. */
  root: string;
  /** fsync files and directories so acknowledged puts and deletes survive power loss. */
  durable?: boolean;
  /** Threads doing the puts and gets; default 2 to 4, following the cores. */
  ioThreads?: number;
  /** Start them at open, not at first use (a server, whose first copy should not wait for them). */
  startThreads?: boolean;
  /**
   * Write objects whose size is a multiple of 4 KiB (snapshot blocks) with O_DIRECT, past the page
   * cache, where the file system allows it; default true. See "Direct writes" above.
   */
  direct?: boolean;
}

/** First path segment reserved for temp files. */
export const FS_TEMP_DIR = '.tmp';

const FS_CAPABILITIES: StoreCapabilities = Object.freeze({ filePuts: true, hashedGets: true });

/** Distinguishes this process from an earlier one that had the same pid. */
const PROCESS_TOKEN = randomBytes(4).toString('hex');

/** Name of a temp file written by put (exported so crash tests can leave one behind). */
export function tempFileName(pid: number, token: string, seq: number): string {
  return `${pid}-${token}-${seq}`;
}

export class FsStore extends BaseObjectStore {
  readonly kind = 'fs';
  readonly #tempDir: string;
  #seq = 0;
  readonly #io: FsIoThreads;
  readonly #writes = { direct: 0, buffered: 0 };

  private constructor(
    readonly root: string,
    readonly durable: boolean,
    readonly direct: boolean,
    ioThreads: number | undefined,
  ) {
    super();
    this.#tempDir = join(root, FS_TEMP_DIR);
    this.#io = new FsIoThreads(ioThreads);
  }

  static async open(options: FsStoreOptions): Promise<FsStore> {
    const store = new FsStore(resolve(options.root), options.durable ?? false, options.direct ?? true, options.ioThreads);
    await mkdir(store.#tempDir, { recursive: true });
    await removeStaleTempFiles(store.#tempDir);
    if (options.startThreads) store.#io.start();
    return store;
  }

  protected async _put(key: string, body: Buffer): Promise<void> {
    await this.#write(key, body, false);
  }

  /** One stat and, if absent, the put: together in one thread. */
  protected override async _putIfAbsent(key: string, body: Buffer): Promise<boolean> {
    return this.#write(key, body, true);
  }

  /** Both fast paths run in the I/O threads. */
  override get supports(): StoreCapabilities {
    return FS_CAPABILITIES;
  }

  /** The same, the thread reading the bytes from the file itself (and only if the object is absent). */
  protected override _putIfAbsentFromFile(key: string, source: FileSlice): Promise<boolean> {
    return this.#write(key, source, true);
  }

  protected override async _close(): Promise<void> {
    await this.#io.close();
  }

  /** I/O threads running now. */
  get ioThreadsRunning(): number {
    return this.#io.running;
  }

  /** Objects written so far, past the page cache (O_DIRECT) and through it. */
  get writes(): { direct: number; buffered: number } {
    return { ...this.#writes };
  }

  async #write(key: string, body: Buffer | FileSlice, ifAbsent: boolean): Promise<boolean> {
    const target = this.#path(key);
    const temp = join(this.#tempDir, tempFileName(process.pid, PROCESS_TOKEN, ++this.#seq));
    try {
      const { stored, direct } = await this.#io.write({ temp, target, root: this.root, body, ifAbsent, durable: this.durable, direct: this.direct });
      if (stored) this.#writes[direct ? 'direct' : 'buffered']++;
      return stored;
    } catch (err) {
      throw mapPathError(err, key);
    }
  }

  protected async _get(key: string, range?: ByteRange): Promise<Buffer> {
    try {
      return await this.#io.read(this.#path(key), range);
    } catch (err) {
      if (isAbsent(err)) throw new ObjectNotFoundError(key);
      throw mapPathError(err, key);
    }
  }

  override recycle(body: Buffer): void {
    this.#io.recycle(body);
  }

  /** The thread that reads the object hashes it too; `recyclable` ones go into memory it reuses. */
  protected override async _getWithSha256(key: string, options?: GetOptions): Promise<{ body: Buffer; sha256: string }> {
    try {
      return await this.#io.readWithSha256(this.#path(key), this.direct, options?.recyclable);
    } catch (err) {
      if (isAbsent(err)) throw new ObjectNotFoundError(key);
      throw mapPathError(err, key);
    }
  }

  protected async _head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const info = await stat(this.#path(key));
      return info.isFile() ? { key, size: info.size } : undefined;
    } catch (err) {
      if (isAbsent(err)) return undefined;
      throw mapPathError(err, key);
    }
  }

  protected async *_list(prefix: string): AsyncGenerator<ObjectInfo> {
    // Start in the deepest directory the prefix fully names: `a/b/c` starts in `a/b/`.
    yield* this.#walk(prefix.slice(0, prefix.lastIndexOf('/') + 1), prefix);
  }

  protected async _delete(key: string): Promise<void> {
    const path = this.#path(key);
    try {
      await unlink(path);
    } catch (err) {
      if (isAbsent(err)) return;
      throw mapPathError(err, key);
    }
    if (this.durable) await syncDir(dirname(path));
    await this.#pruneEmptyDirs(dirname(path));
  }

  #path(key: string): string {
    if (key === FS_TEMP_DIR || key.startsWith(`${FS_TEMP_DIR}/`)) {
      throw new InvalidKeyError(key, `the first segment ${FS_TEMP_DIR} is reserved by the fs store`);
    }
    return join(this.root, ...key.split('/'));
  }

  /** `dirKey` is '' or ends in '/'. Siblings sort as name + '/' for directories so that
   *  `a/b-x` (file) comes before `a/b/c` (in dir b), as in a flat byte-ordered listing. */
  async *#walk(dirKey: string, prefix: string): AsyncGenerator<ObjectInfo> {
    let entries: Dirent[];
    try {
      entries = await readdir(join(this.root, ...dirKey.split('/')), { withFileTypes: true });
    } catch (err) {
      if (isAbsent(err)) return;
      throw err;
    }
    const items = entries
      .filter((e) => (e.isFile() || e.isDirectory()) && !(dirKey === '' && e.name === FS_TEMP_DIR))
      .map((e) => ({ key: dirKey + e.name + (e.isDirectory() ? '/' : ''), isDir: e.isDirectory() }))
      .sort((a, b) => compareKeys(a.key, b.key));
    for (const { key, isDir } of items) {
      if (isDir) {
        if (key.startsWith(prefix) || prefix.startsWith(key)) yield* this.#walk(key, prefix);
      } else if (key.startsWith(prefix)) {
        const info = await this._head(key).catch(() => undefined); // deleted meanwhile: skip
        if (info !== undefined) yield info;
      }
    }
  }

  async #pruneEmptyDirs(dir: string): Promise<void> {
    for (let d = dir; d !== this.root && d.startsWith(this.root + sep); d = dirname(d)) {
      try {
        await rmdir(d);
      } catch {
        return; // not empty (or already gone): stop
      }
    }
  }
}

async function removeStaleTempFiles(tempDir: string): Promise<void> {
  for (const name of await readdir(tempDir)) {
    const [pidText, token] = name.split('-');
    const pid = Number(pidText);
    const stale = pid === process.pid ? token !== PROCESS_TOKEN : !isProcessAlive(pid);
    if (stale) await rm(join(tempDir, name), { force: true, recursive: true });
  }
}

function isProcessAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0); // signal 0: existence check only
    return true;
  } catch (err) {
    return errorCode(err) === 'EPERM'; // exists, owned by someone else
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function errorCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** ENOENT: no such file; ENOTDIR: a parent is a file; EISDIR: the key names a directory. */
function isAbsent(err: unknown): boolean {
  const code = errorCode(err);
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}

function mapPathError(err: unknown, key: string): unknown {
  switch (errorCode(err)) {
    case 'ENOTDIR':
    case 'EEXIST':
      return new KeyConflictError(key, 'a parent segment is an existing object');
    case 'EISDIR':
      return new KeyConflictError(key, 'other objects exist under this key followed by /');
    case 'ENAMETOOLONG':
      return new InvalidKeyError(key, 'a segment is too long for this filesystem');
    default:
      return err;
  }
}
