/**
 * Base for wrappers (restic's decorators, nbdkit's filters): forwards every call to `inner`.
 * A wrapper overrides the calls it changes. It owns `inner`: closing the wrapper closes it.
 * It keeps the inner store's capabilities: the fast paths are forwarded as such, so a wrapper
 * that changes calls must change them there too (the fault and throttle wrappers do).
 * Keys are validated again by `inner`; that is the same code in keys.ts, not a second copy.
 */

import { BaseObjectStore } from './base-store.js';
import type { ByteRange, FileSlice, GetOptions, ObjectInfo, ObjectStore, StoreCapabilities } from './object-store.js';

export abstract class WrappedStore extends BaseObjectStore {
  constructor(readonly inner: ObjectStore) {
    super();
  }

  protected _put(key: string, body: Buffer): Promise<void> {
    return this.inner.put(key, body);
  }

  protected override _putIfAbsent(key: string, body: Buffer): Promise<boolean> {
    return this.inner.putIfAbsent(key, body);
  }

  override get supports(): StoreCapabilities {
    return this.inner.supports;
  }

  protected override _putIfAbsentFromFile(key: string, source: FileSlice): Promise<boolean> {
    return this.inner.putIfAbsentFromFile(key, source);
  }

  protected _get(key: string, range?: ByteRange): Promise<Buffer> {
    return this.inner.get(key, range);
  }

  protected override _getWithSha256(key: string, options?: GetOptions): Promise<{ body: Buffer; sha256: string }> {
    return this.inner.getWithSha256(key, options);
  }

  override recycle(body: Buffer): void {
    this.inner.recycle(body);
  }

  protected _head(key: string): Promise<ObjectInfo | undefined> {
    return this.inner.head(key);
  }

  protected _list(prefix: string): AsyncIterable<ObjectInfo> {
    return this.inner.list(prefix);
  }

  protected _delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }

  protected override _close(): Promise<void> {
    return this.inner.close();
  }
}
