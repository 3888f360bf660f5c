/**
 * The ObjectStore conformance suite (abstract-level's shared suite, restic's backend tests,
 * kopia's VerifyStorage). Every backend and every wrapper runs it from a ~20-line test file:
 *
 *   objectStoreSuite('fs', { open: () => FsStore.open({ root: tempDir() }), reopen }, { keyAlsoPrefix: false });
 *
 * `open` must return a fresh, empty store each call. `reopen`, if the backend persists, opens a
 * second instance over the data of a closed one. Differences between backends are declared in
 * `supports` and tested both ways, never skipped by hand.
 */

import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { emptyStats, ObjectNotFoundError, WrappedStore, type ObjectInfo, type ObjectStore } from '../../src/object-store/index.js';
import { tempDir } from '../support/temp-dir.js';
import { collect, expectCode, mapLimit } from './helpers.js';

export interface StoreFactory {
  open(): Promise<ObjectStore>;
  reopen?(closed: ObjectStore): Promise<ObjectStore>;
}

export interface StoreSupports {
  /** `a` and `a/b` can both be objects (S3, memory: yes; fs: no, a file is not a directory). */
  keyAlsoPrefix: boolean;
  /** Longest key this store takes, if less than 1024 bytes (an S3 prefix counts against S3's limit). */
  maxKeyBytes?: (store: ObjectStore) => number;
}

const MANY_KEYS = 1_100; // more than one S3 list page (1,000)

export function objectStoreSuite(name: string, factory: StoreFactory, supports: StoreSupports): void {
  describe(`${name}: ObjectStore conformance`, () => {
    const opened: ObjectStore[] = [];
    const fresh = async (): Promise<ObjectStore> => {
      const store = await factory.open();
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });

    it('reports an absent key as undefined from head and OBJECT_NOT_FOUND from get', async () => {
      const store = await fresh();
      expect(await store.head('absent/key')).toBeUndefined();
      const err = await store.get('absent/key').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ObjectNotFoundError);
      expect(err).toMatchObject({ code: 'OBJECT_NOT_FOUND', key: 'absent/key' });
      await expectCode(store.get('absent/key', { offset: 0, length: 10 }), 'OBJECT_NOT_FOUND');
      await expectCode(store.get('absent/key', { offset: 0, length: 0 }), 'OBJECT_NOT_FOUND');
      expect(await collect(store.list('absent/'))).toEqual([]);
    });

    it('round-trips binary, empty, 512 KiB and unicode-keyed objects', async () => {
      const store = await fresh();
      const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const block = randomBytes(512 * 1024);
      await store.put('rt/binary', binary);
      await store.put('rt/empty', Buffer.alloc(0));
      await store.put('blocks/0123abcd', block);
      await store.put('rt/ü-日本-🙂', Buffer.from('unicode'));
      expect((await store.get('rt/binary')).equals(binary)).toBe(true);
      expect((await store.get('rt/empty')).length).toBe(0);
      expect((await store.get('blocks/0123abcd')).equals(block)).toBe(true);
      expect((await store.get('rt/ü-日本-🙂')).toString()).toBe('unicode');
      expect(await store.head('rt/empty')).toEqual({ key: 'rt/empty', size: 0 });
      expect(await store.head('blocks/0123abcd')).toEqual({ key: 'blocks/0123abcd', size: 512 * 1024 });
    });

    it('stores only the bytes of a Buffer view, and never aliases caller buffers', async () => {
      const store = await fresh();
      const backing = Buffer.from('0123456789');
      await store.put('alias/view', backing.subarray(3, 7));
      backing.fill(0x78); // the caller reuses its buffer after put resolved
      const got = await store.get('alias/view');
      expect(got.toString()).toBe('3456');
      got.fill(0x79); // and edits what it got back
      expect((await store.get('alias/view')).toString()).toBe('3456');
    });

    it('serves ranges: start, middle, end, clipped past the end, empty', async () => {
      const store = await fresh();
      const data = randomBytes(4096);
      await store.put('range/obj', data);
      await store.put('range/empty', Buffer.alloc(0));
      const get = (offset: number, length: number, key = 'range/obj') => store.get(key, { offset, length });
      expect((await get(0, 10)).equals(data.subarray(0, 10))).toBe(true);
      expect((await get(100, 50)).equals(data.subarray(100, 150))).toBe(true);
      expect((await get(4086, 10)).equals(data.subarray(4086))).toBe(true);
      expect((await get(0, 4096)).equals(data)).toBe(true);
      expect((await get(4090, 100)).equals(data.subarray(4090))).toBe(true); // clipped to 6 bytes
      expect((await get(4096, 10)).length).toBe(0);
      expect((await get(10_000, 5)).length).toBe(0);
      expect((await get(5, 0)).length).toBe(0);
      expect((await get(0, 10, 'range/empty')).length).toBe(0);
      for (const [offset, length] of [[-1, 1], [0, -1], [0.5, 1], [0, Number.NaN]] as const) {
        await expectCode(get(offset, length), 'INVALID_RANGE');
      }
    });

    it('reads a middle range of a 512 KiB block', async () => {
      const store = await fresh();
      const block = randomBytes(512 * 1024);
      await store.put('blocks/mid', block);
      expect((await store.get('blocks/mid', { offset: 300_000, length: 65_536 })).equals(block.subarray(300_000, 365_536))).toBe(true);
    });

    it('overwrites: the last put wins, and the same bytes again is harmless', async () => {
      const store = await fresh();
      await store.put('ow/key', Buffer.from('a longer first value'));
      await store.put('ow/key', Buffer.from('short'));
      expect((await store.get('ow/key')).toString()).toBe('short');
      expect(await store.head('ow/key')).toEqual({ key: 'ow/key', size: 5 });
      await store.put('ow/key', Buffer.from('short'));
      expect((await store.get('ow/key')).toString()).toBe('short');
      expect(await collect(store.list('ow/'))).toEqual([{ key: 'ow/key', size: 5 }]);
    });

    it('putIfAbsent stores only where nothing is, and counts a put or a head', async () => {
      const store = await fresh();
      const before = store.stats();
      const body = randomBytes(512 * 1024);
      const first = Buffer.from(body);
      expect(await store.putIfAbsent('blocks/cond', body)).toBe(true);
      body.fill(7); // reusable once settled
      expect((await store.get('blocks/cond')).equals(first)).toBe(true);
      expect(await store.putIfAbsent('blocks/cond', Buffer.from('other bytes'))).toBe(false);
      expect((await store.get('blocks/cond')).equals(first)).toBe(true);
      const after = store.stats();
      expect(after.puts - before.puts).toBe(1);
      expect(after.bytesPut - before.bytesPut).toBe(512 * 1024);
      expect(after.heads - before.heads).toBe(1);
      expect(await collect(store.list('blocks/'))).toEqual([{ key: 'blocks/cond', size: 512 * 1024 }]);
    });

    it('lists by plain string prefix, in ascending UTF-8 byte order', async () => {
      const store = await fresh();
      // '-' < '.' < '/' in ASCII: a naive directory walk would put a/b/... before a/b-.
      const keys = ['a/bc', 'b', 'a/b/y/z', 'a-c', 'a/b.txt', 'ab', 'a/b/x', 'a/b-', 'u/🙂', 'u/\uE000'];
      await Promise.all(keys.map((k, i) => store.put(k, Buffer.alloc(i + 1, 1))));
      const list = async (prefix: string) => (await collect(store.list(prefix))).map((o) => o.key);
      expect(await list('')).toEqual(['a-c', 'a/b-', 'a/b.txt', 'a/b/x', 'a/b/y/z', 'a/bc', 'ab', 'b', 'u/\uE000', 'u/🙂']);
      expect(await list('a/b')).toEqual(['a/b-', 'a/b.txt', 'a/b/x', 'a/b/y/z', 'a/bc']);
      expect(await list('a/b/')).toEqual(['a/b/x', 'a/b/y/z']);
      expect(await list('a/b/y')).toEqual(['a/b/y/z']);
      expect(await list('a/bc')).toEqual(['a/bc']);
      expect(await list('a')).toEqual(['a-c', 'a/b-', 'a/b.txt', 'a/b/x', 'a/b/y/z', 'a/bc', 'ab']);
      expect(await list('zzz')).toEqual([]);
      const sizes = new Map((await collect(store.list(''))).map((o: ObjectInfo) => [o.key, o.size]));
      keys.forEach((k, i) => expect(sizes.get(k)).toBe(i + 1));
    });

    it(`lists ${MANY_KEYS} keys, more than one S3 page, each once and in order`, async () => {
      const store = await fresh();
      const keys = Array.from({ length: MANY_KEYS }, (_, i) => `many/${String(i).padStart(4, '0')}`);
      await mapLimit(keys, 32, (k) => store.put(k, Buffer.from(k)));
      await store.put('man', Buffer.from('outside'));
      await store.put('manz/x', Buffer.from('outside'));
      const listed = await collect(store.list('many/'));
      expect(listed.map((o) => o.key)).toEqual(keys);
      expect(listed.every((o) => o.size === 9)).toBe(true);
      expect((await collect(store.list('many/10'))).map((o) => o.key)).toEqual(keys.slice(1000, 1100));
    });

    it('handles a key that is also the prefix of another key', async () => {
      const store = await fresh();
      await store.put('kp/a', Buffer.from('a'));
      if (supports.keyAlsoPrefix) {
        await store.put('kp/a/b', Buffer.from('ab'));
        await store.put('kp', Buffer.from('kp'));
        expect((await collect(store.list('kp'))).map((o) => o.key)).toEqual(['kp', 'kp/a', 'kp/a/b']);
        expect((await store.get('kp/a')).toString()).toBe('a');
      } else {
        await expectCode(store.put('kp/a/b', Buffer.from('ab')), 'KEY_CONFLICT');
        await expectCode(store.put('kp', Buffer.from('kp')), 'KEY_CONFLICT');
        expect(await store.head('kp')).toBeUndefined();
        await expectCode(store.get('kp'), 'OBJECT_NOT_FOUND');
        expect((await collect(store.list('kp'))).map((o) => o.key)).toEqual(['kp/a']);
      }
    });

    it('deletes, and deleting again (or a never-written key) succeeds', async () => {
      const store = await fresh();
      await store.put('del/a', Buffer.from('a'));
      await store.put('del/b', Buffer.from('b'));
      await store.delete('del/a');
      expect(await store.head('del/a')).toBeUndefined();
      await expectCode(store.get('del/a'), 'OBJECT_NOT_FOUND');
      await store.delete('del/a');
      await store.delete('never/written');
      expect((await collect(store.list('del/'))).map((o) => o.key)).toEqual(['del/b']);
      await store.put('del/a', Buffer.from('again')); // a deleted key can be written again
      expect((await store.get('del/a')).toString()).toBe('again');
    });

    it('rejects invalid keys with INVALID_KEY on every call, and accepts the longest valid key', async () => {
      const store = await fresh();
      const invalid = ['', '/a', 'a/../b', '..', '.', 'a/./b', 'a//b', 'a/', 'a\\b', 'a\0b', 'a\nb', 'x'.repeat(1025), 'é'.repeat(513)];
      for (const key of invalid) {
        await expectCode(store.put(key, Buffer.from('x')), 'INVALID_KEY');
        await expectCode(store.get(key), 'INVALID_KEY');
        await expectCode(store.head(key), 'INVALID_KEY');
        await expectCode(store.delete(key), 'INVALID_KEY');
      }
      await expectCode(collect(store.list('/a')), 'INVALID_KEY');
      await expectCode(collect(store.list('a\0')), 'INVALID_KEY');
      // Segments of 200 bytes: a filesystem allows 255 per name.
      const maxBytes = supports.maxKeyBytes?.(store) ?? 1024;
      const longest = (extra: number): string => {
        const base = Array(Math.floor((maxBytes - 2) / 201)).fill('x'.repeat(200)).join('/');
        return `${base}/${'y'.repeat(maxBytes - base.length - 1 + extra)}`;
      };
      expect(Buffer.byteLength(longest(0))).toBe(maxBytes);
      await expectCode(store.put(longest(1), Buffer.from('too long')), 'INVALID_KEY');
      await store.put(longest(0), Buffer.from('long'));
      expect((await store.get(longest(0))).toString()).toBe('long');
      expect((await collect(store.list(''))).map((o) => o.key)).toEqual([longest(0)]);
    });

    it('takes concurrent puts of different keys', async () => {
      const store = await fresh();
      const bodies = Array.from({ length: 40 }, (_, i) => randomBytes(1000 + i * 97));
      await Promise.all(bodies.map((b, i) => store.put(`conc/${i}`, b)));
      const got = await Promise.all(bodies.map((_, i) => store.get(`conc/${i}`)));
      got.forEach((g, i) => expect(g.equals(bodies[i]!)).toBe(true));
    });

    it('never shows a reader part of an object while it is being overwritten', async () => {
      const store = await fresh();
      const size = 256 * 1024;
      const bodies = [Buffer.alloc(size, 0x61), Buffer.alloc(size, 0x62)];
      await store.put('atomic/key', bodies[0]!);
      const seen: Buffer[] = [];
      const writers = Array.from({ length: 8 }, (_, i) => store.put('atomic/key', bodies[i % 2]!));
      const readers = Array.from({ length: 8 }, async () => seen.push(await store.get('atomic/key')));
      await Promise.all([...writers, ...readers]);
      seen.push(await store.get('atomic/key'));
      for (const body of seen) {
        expect(body.length).toBe(size);
        expect(body.equals(bodies[0]!) || body.equals(bodies[1]!)).toBe(true);
      }
    });

    it('keeps objects across a reopen', async (ctx) => {
      if (factory.reopen === undefined) return ctx.skip('the backend keeps data only inside the instance');
      const store = await fresh();
      const block = randomBytes(64 * 1024);
      await store.put('blocks/persisted', block);
      await store.put('snapshots/snap-1/manifest', Buffer.from('{}'));
      await store.close();
      const again = await factory.reopen(store);
      opened.push(again);
      expect((await again.get('blocks/persisted')).equals(block)).toBe(true);
      expect((await collect(again.list(''))).map((o) => o.key)).toEqual(['blocks/persisted', 'snapshots/snap-1/manifest']);
    });

    it('rejects every call after close with OBJECT_STORE_CLOSED; close is idempotent', async () => {
      const store = await fresh();
      await store.put('c/a', Buffer.from('a'));
      await store.close();
      await store.close();
      await expectCode(store.put('c/a', Buffer.from('a')), 'OBJECT_STORE_CLOSED');
      await expectCode(store.get('c/a'), 'OBJECT_STORE_CLOSED');
      await expectCode(store.head('c/a'), 'OBJECT_STORE_CLOSED');
      await expectCode(store.delete('c/a'), 'OBJECT_STORE_CLOSED');
      await expectCode(collect(store.list('')), 'OBJECT_STORE_CLOSED');
    });

    it('counts completed calls and bytes in stats(), failures apart', async () => {
      const store = await fresh();
      expect(store.stats()).toEqual(emptyStats());
      await store.put('st/a', Buffer.from('abc'));
      await store.put('st/b', Buffer.alloc(5));
      await store.get('st/a');
      await store.get('st/b', { offset: 1, length: 2 });
      await store.head('st/a');
      await store.head('st/none');
      await collect(store.list('st/'));
      for await (const _ of store.list('st/')) break; // stopped early: still one list
      await store.delete('st/a');
      await expectCode(store.get('st/none'), 'OBJECT_NOT_FOUND');
      await expectCode(store.put('/bad', Buffer.from('x')), 'INVALID_KEY');
      expect(store.stats()).toEqual({
        puts: 2, gets: 2, heads: 2, lists: 2, deletes: 1, bytesPut: 8, bytesGot: 5, failures: 2,
      });
    });

    it('puts from a file slice and gets with the SHA-256, whatever its capabilities say', async () => {
      const store = await fresh();
      const tmp = tempDir();
      const bytes = randomBytes(64 * 1024);
      const path = join(tmp.dir, 'pack');
      writeFileSync(path, bytes);
      const fd = openSync(path, 'r');
      try {
        const slice = { fd, offset: 1000, length: 4096 };
        expect(await store.putIfAbsentFromFile('blocks/slice', slice)).toBe(true);
        expect(await store.putIfAbsentFromFile('blocks/slice', { fd, offset: 0, length: 4096 })).toBe(false); // there: untouched
        const want = bytes.subarray(1000, 5096);
        expect((await store.get('blocks/slice')).equals(want)).toBe(true);
        const got = await store.getWithSha256('blocks/slice');
        expect([got.body.equals(want), got.sha256]).toEqual([true, createHash('sha256').update(want).digest('hex')]);
        await expectCode(store.getWithSha256('blocks/none'), 'OBJECT_NOT_FOUND');
        expect(store.stats()).toMatchObject({ puts: 1, heads: 1, gets: 2, bytesPut: 4096, bytesGot: 8192, failures: 1 });
      } finally {
        closeSync(fd);
        tmp.remove();
      }
    });

    it('reports its capabilities; a wrapper those of the store it wraps', async () => {
      const store = await fresh();
      expect(typeof store.supports.filePuts).toBe('boolean');
      expect(typeof store.supports.hashedGets).toBe('boolean');
      if (store instanceof WrappedStore) expect(store.supports).toEqual(store.inner.supports);
    });
  });
}
