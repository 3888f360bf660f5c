/**
 * An in-process store for tests and benchmark baselines. Buffers are copied in and out, so a
 * caller that reuses its buffer (or edits one it got back) cannot change what is stored.
 */

import { BaseObjectStore } from './base-store.js';
import { ObjectNotFoundError } from './errors.js';
import { compareKeys } from './keys.js';
import type { ByteRange, ObjectInfo } from './object-store.js';

export class MemoryStore extends BaseObjectStore {
  readonly kind = 'memory';
  readonly #objects = new Map<string, Buffer>();

  protected async _put(key: string, body: Buffer): Promise<void> {
    this.#objects.set(key, Buffer.from(body));
  }

  protected override async _putIfAbsent(key: string, body: Buffer): Promise<boolean> {
    if (this.#objects.has(key)) return false;
    this.#objects.set(key, Buffer.from(body));
    return true;
  }

  protected async _get(key: string, range?: ByteRange): Promise<Buffer> {
    const body = this.#objects.get(key);
    if (body === undefined) throw new ObjectNotFoundError(key);
    if (range === undefined) return Buffer.from(body);
    return Buffer.from(body.subarray(range.offset, range.offset + range.length));
  }

  protected async _head(key: string): Promise<ObjectInfo | undefined> {
    const body = this.#objects.get(key);
    return body === undefined ? undefined : { key, size: body.length };
  }

  protected async *_list(prefix: string): AsyncGenerator<ObjectInfo> {
    // Snapshot the matching keys first: the map may change while the caller iterates.
    const keys = [...this.#objects.keys()].filter((k) => k.startsWith(prefix)).sort(compareKeys);
    for (const key of keys) {
      const body = this.#objects.get(key);
      if (body !== undefined) yield { key, size: body.length };
    }
  }

  protected async _delete(key: string): Promise<void> {
    this.#objects.delete(key);
  }

  protected override async _close(): Promise<void> {
    this.#objects.clear();
  }
}
