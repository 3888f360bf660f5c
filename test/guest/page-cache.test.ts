import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlockStore, GiB } from '../../src/core/block-store.js';
import { PAGE_SIZE, PageCache } from '../../src/guest/page-cache.js';
import { VolumeDevice } from '../../src/guest/volume-device.js';
import { Rng } from '../support/random.js';
import { tempDir } from '../support/temp-dir.js';

let tmp: ReturnType<typeof tempDir>;
let store: BlockStore;
let volumeId: string;
const caches: PageCache[] = [];
const rng = new Rng(99);

beforeEach(async () => {
  tmp = tempDir();
  store = await BlockStore.open(tmp.dir, { sweepDelayMs: 0 });
  volumeId = (await store.createVolume({ size: GiB })).id;
});
afterEach(async () => {
  for (const c of caches.splice(0)) c.dispose();
  await store.close();
  tmp.remove();
});

function cache(dirtyExpireMs = 60_000, maxDirtyBytes?: number) {
  const c = new PageCache(store, volumeId, { dirtyExpireMs, ...(maxDirtyBytes ? { maxDirtyBytes } : {}) });
  caches.push(c);
  return c;
}

describe('simulated page cache', () => {
  it('holds writes until fsync: the volume and its snapshots miss them, the guest sees them', async () => {
    const c = cache();
    const data = rng.bytes(10_000);
    await c.write(5000, data, { fua: false });
    expect(c.dirtyBytes()).toBe(3 * PAGE_SIZE); // bytes 5000..14999: pages 1, 2 and 3
    expect((await c.read(5000, data.length)).equals(data)).toBe(true);
    expect((await store.read(volumeId, 5000, data.length)).equals(Buffer.alloc(data.length))).toBe(true);
    const before = await store.snapshot(volumeId);
    await c.flush();
    expect(c.dirtyBytes()).toBe(0);
    expect((await store.read(volumeId, 5000, data.length)).equals(data)).toBe(true);
    expect((await store.readSnapshot(before.id, 5000, data.length)).equals(Buffer.alloc(data.length))).toBe(true);
  });

  it('merges partial pages with what the volume holds', async () => {
    const base = rng.bytes(3 * PAGE_SIZE);
    await store.write(volumeId, 0, base);
    const c = cache();
    await c.write(100, Buffer.from('abc'), { fua: false });
    const expected = Buffer.from(base);
    Buffer.from('abc').copy(expected, 100);
    expect((await c.read(0, base.length)).equals(expected)).toBe(true);
    await c.flush();
    expect((await store.read(volumeId, 0, base.length)).equals(expected)).toBe(true);
  });

  it('writes back pages older than the dirty-expire interval', async () => {
    const c = cache(150);
    await c.write(0, Buffer.from('expire me'), { fua: false });
    expect((await store.read(volumeId, 0, 9)).toString()).not.toBe('expire me');
    await expect.poll(async () => (await store.read(volumeId, 0, 9)).toString(), { timeout: 5000 }).toBe('expire me');
    expect(c.dirtyBytes()).toBe(0);
  });

  it('is write-through with a zero interval', async () => {
    const c = cache(0);
    await c.write(0, Buffer.from('through'), { fua: false });
    expect(c.dirtyBytes()).toBe(0);
    expect((await store.read(volumeId, 0, 7)).toString()).toBe('through');
  });

  it('loses dirty pages on a crash, and only those', async () => {
    const c = cache();
    await c.write(0, Buffer.from('durable'), { fua: true }); // FUA: on the volume when acknowledged
    await c.write(PAGE_SIZE, Buffer.from('volatile'), { fua: false });
    expect(c.drop()).toBe(PAGE_SIZE);
    expect((await c.read(0, 7)).toString()).toBe('durable');
    expect((await c.read(PAGE_SIZE, 8)).equals(Buffer.alloc(8))).toBe(true);
    expect((await store.fsck()).ok).toBe(true);
  });

  it('freezes: flushes, then holds new writes until thaw', async () => {
    const c = cache();
    await c.write(0, Buffer.from('before'), { fua: false });
    await c.freeze();
    expect((await store.read(volumeId, 0, 6)).toString()).toBe('before');
    let landed = false;
    const held = c.write(0, Buffer.from('after!'), { fua: false }).then(() => (landed = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(landed).toBe(false);
    const snap = await store.snapshot(volumeId);
    c.thaw();
    await held;
    expect((await c.read(0, 6)).toString()).toBe('after!');
    expect((await store.readSnapshot(snap.id, 0, 6)).toString()).toBe('before');
  });

  it('keeps dirty memory bounded by writing back when too much is dirty', async () => {
    const c = cache(60_000, 1024 * 1024);
    for (let i = 0; i < 40; i++) {
      await c.write(i * 128 * 1024, rng.bytes(128 * 1024), { fua: false });
      expect(c.dirtyBytes()).toBeLessThanOrEqual(1024 * 1024);
    }
  });

  it('never loses one of two concurrent partial writes to the same page', async () => {
    const c = cache();
    const writes = Array.from({ length: 64 }, (_, i) => c.write(i * 64, Buffer.alloc(64, i + 1), { fua: false }));
    await Promise.all(writes);
    const page = await c.read(0, PAGE_SIZE);
    for (let i = 0; i < 64; i++) expect(page[i * 64]).toBe(i + 1);
  });

  it('zeroes through to the volume, dropping the cached pages it covers', async () => {
    await store.write(volumeId, 0, rng.bytes(4 * PAGE_SIZE));
    const c = cache();
    await c.write(0, rng.bytes(4 * PAGE_SIZE), { fua: false });
    await c.writeZeroes(PAGE_SIZE, 2 * PAGE_SIZE + 10, { fua: false, noHole: false });
    expect((await c.read(PAGE_SIZE, 2 * PAGE_SIZE + 10)).equals(Buffer.alloc(2 * PAGE_SIZE + 10))).toBe(true);
    expect((await store.read(volumeId, PAGE_SIZE, 2 * PAGE_SIZE)).equals(Buffer.alloc(2 * PAGE_SIZE))).toBe(true);
  });
});

describe('volume device', () => {
  it('is write-through and reports holes for base:allocation', async () => {
    const dev = new VolumeDevice(store, volumeId);
    await dev.write(3 * 512 * 1024 + 5, Buffer.from('x'), { fua: false });
    expect((await store.read(volumeId, 3 * 512 * 1024 + 5, 1)).toString()).toBe('x');
    const status = await dev.blockStatus(0, 8 * 512 * 1024);
    expect(status).toEqual([
      { length: 3 * 512 * 1024, hole: true, zero: true },
      { length: 512 * 1024, hole: false, zero: false },
      { length: 4 * 512 * 1024, hole: true, zero: true },
    ]);
    await dev.writeZeroes(0, GiB, { fua: true, noHole: false });
    expect(await dev.blockStatus(0, GiB)).toEqual([{ length: GiB, hole: true, zero: true }]);
  });
});
