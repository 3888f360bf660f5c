/**
 * BaseObjectStore owns the public methods of every store and wrapper (abstract-level's split):
 * it checks the store is open, validates keys and ranges (keys.ts), counts StoreStats, and wraps
 * foreign errors in ObjectStoreError. Backends and wrappers implement only the `_underscored`
 * methods and receive arguments that are already valid, so none of that is written twice.
 *
 * Why a base class and not one counting wrapper applied by openObjectStore: tests and the copy
 * engine also construct stores directly, and every instance must count and validate the same way.
 */

import { createHash } from 'node:crypto';
import { read as readFd } from 'node:fs';
import { promisify } from 'node:util';
import {
  InvalidRangeError,
  ObjectStoreBaseError,
  ObjectStoreClosedError,
  ObjectStoreError,
} from './errors.js';
import { validateKey, validatePrefix } from './keys.js';
import type { ByteRange, FileSlice, GetOptions, ObjectInfo, ObjectStore, StoreCapabilities, StoreStats } from './object-store.js';

const readSlice = promisify(readFd);

const PLAIN: StoreCapabilities = Object.freeze({ filePuts: false, hashedGets: false });

export function emptyStats(): StoreStats {
  return { puts: 0, gets: 0, heads: 0, lists: 0, deletes: 0, bytesPut: 0, bytesGot: 0, failures: 0 };
}

export abstract class BaseObjectStore implements ObjectStore {
  abstract readonly kind: string;
  #stats = emptyStats();
  #closed = false;

  /** Stores the object atomically. `key` is valid. */
  protected abstract _put(key: string, body: Buffer): Promise<void>;
  /** Throws ObjectNotFoundError if absent; clips `range` at the end of the object. */
  protected abstract _get(key: string, range?: ByteRange): Promise<Buffer>;
  protected abstract _head(key: string): Promise<ObjectInfo | undefined>;
  /** Stores unless present; true if it stored. By default a head, then a put. */
  protected async _putIfAbsent(key: string, body: Buffer): Promise<boolean> {
    if ((await this._head(key)) !== undefined) return false;
    await this._put(key, body);
    return true;
  }
  /** By default the slice is read here, then put conditionally (one check, in _putIfAbsent). */
  protected async _putIfAbsentFromFile(key: string, source: FileSlice): Promise<boolean> {
    const body = Buffer.allocUnsafe(source.length);
    const { bytesRead } = await readSlice(source.fd, body, 0, source.length, source.offset);
    if (bytesRead !== source.length) throw new Error(`file slice ended at ${bytesRead} of ${source.length} bytes`);
    return this._putIfAbsent(key, body);
  }
  /** By default a get, hashed here, in a buffer of its own (`recyclable` unused). */
  protected async _getWithSha256(key: string, _options?: GetOptions): Promise<{ body: Buffer; sha256: string }> {
    const body = await this._get(key);
    return { body, sha256: createHash('sha256').update(body).digest('hex') };
  }
  /** Ascending UTF-8 byte order of key (see compareKeys). */
  protected abstract _list(prefix: string): AsyncIterable<ObjectInfo>;
  /** Must succeed if the key is absent. */
  protected abstract _delete(key: string): Promise<void>;
  protected async _close(): Promise<void> {}

  async put(key: string, body: Buffer): Promise<void> {
    await this.#run('put', key, async () => {
      validateKey(key);
      await this._put(key, body);
      this.#stats.puts++;
      this.#stats.bytesPut += body.length;
    });
  }

  async putIfAbsent(key: string, body: Buffer): Promise<boolean> {
    return this.countedPutIfAbsent(key, body.length, () => this._putIfAbsent(key, body));
  }

  /** A conditional put of `length` bytes that `store` makes: checked and counted as putIfAbsent. */
  private countedPutIfAbsent(key: string, length: number, store: () => Promise<boolean>): Promise<boolean> {
    return this.#run('put', key, async () => {
      validateKey(key);
      const stored = await store();
      if (stored) {
        this.#stats.puts++;
        this.#stats.bytesPut += length;
      } else {
        this.#stats.heads++;
      }
      return stored;
    });
  }

  /** Plain calls only, unless a backend or wrapper says more. */
  get supports(): StoreCapabilities {
    return PLAIN;
  }

  putIfAbsentFromFile(key: string, source: FileSlice): Promise<boolean> {
    return this.countedPutIfAbsent(key, source.length, () => this._putIfAbsentFromFile(key, source));
  }

  getWithSha256(key: string, options?: GetOptions): Promise<{ body: Buffer; sha256: string }> {
    return this.countedGet(key, () => this._getWithSha256(key, options), (r) => r.body);
  }

  /** Nothing to reuse, unless a backend says otherwise. */
  recycle(_body: Buffer): void {}

  async get(key: string, range?: ByteRange): Promise<Buffer> {
    return this.countedGet(
      key,
      () => {
        if (range !== undefined) validateRange(range);
        return this._get(key, range);
      },
      (body) => body,
    );
  }

  /** A read of `key` that `fetch` makes, `body` naming the bytes it returned: checked and counted as get. */
  private countedGet<T>(key: string, fetch: () => Promise<T>, body: (result: T) => Buffer): Promise<T> {
    return this.#run('get', key, async () => {
      validateKey(key);
      const result = await fetch();
      this.#stats.gets++;
      this.#stats.bytesGot += body(result).length;
      return result;
    });
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    return this.#run('head', key, async () => {
      validateKey(key);
      const info = await this._head(key);
      this.#stats.heads++;
      return info;
    });
  }

  async *list(prefix: string): AsyncGenerator<ObjectInfo> {
    let failed = false;
    try {
      this.#checkOpen();
      validatePrefix(prefix);
      yield* this._list(prefix);
    } catch (err) {
      failed = true;
      this.#stats.failures++;
      throw this.#wrap('list', prefix, err);
    } finally {
      // Also reached when the caller breaks out early: that list still happened.
      if (!failed) this.#stats.lists++;
    }
  }

  async delete(key: string): Promise<void> {
    await this.#run('delete', key, async () => {
      validateKey(key);
      await this._delete(key);
      this.#stats.deletes++;
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this._close();
    } catch (err) {
      throw this.#wrap('close', '', err);
    }
  }

  stats(): StoreStats {
    return { ...this.#stats };
  }

  #checkOpen(): void {
    if (this.#closed) throw new ObjectStoreClosedError(this.kind);
  }

  async #run<T>(op: string, key: string, fn: () => Promise<T>): Promise<T> {
    try {
      this.#checkOpen();
      return await fn();
    } catch (err) {
      this.#stats.failures++;
      throw this.#wrap(op, key, err);
    }
  }

  #wrap(op: string, key: string, err: unknown): ObjectStoreBaseError {
    if (err instanceof ObjectStoreBaseError) return err;
    const message = err instanceof Error ? err.message : String(err);
    return new ObjectStoreError(`${this.kind} ${op} ${key} failed: ${message}`, { cause: err });
  }
}

function validateRange(range: ByteRange): void {
  const { offset, length } = range;
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new InvalidRangeError(`invalid range offset=${offset} length=${length}: both must be non-negative integers`);
  }
}
