import { closeSync, openSync, writeFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { FsStore, MemoryStore, ThrottleStore } from '../../src/object-store/index.js';
import { tempDir } from '../support/temp-dir.js';
import { objectStoreSuite } from './suite.js';

objectStoreSuite(
  'throttle (1 GiB/s) over memory',
  { open: async () => new ThrottleStore(new MemoryStore(), { bytesPerSecond: 1024 ** 3 }) },
  { keyAlsoPrefix: true },
);

const KiB = 1024;
const MiB = 1024 * KiB;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return (performance.now() - started) / 1000;
}

// Only lower bounds: a busy machine can make anything slower, never faster than the link.
describe('throttle store', () => {
  it('takes at least N/R seconds to put N bytes at R bytes/s', async () => {
    const store = new ThrottleStore(new MemoryStore(), { bytesPerSecond: 2 * MiB });
    const seconds = await timed(() => store.put('blocks/a', Buffer.alloc(512 * KiB)));
    expect(seconds).toBeGreaterThanOrEqual(0.25 * 0.9);
  });

  it('shares one rate among concurrent puts and gets', async () => {
    const inner = new MemoryStore();
    await inner.put('blocks/r', Buffer.alloc(128 * KiB));
    const store = new ThrottleStore(inner, { bytesPerSecond: 2 * MiB });
    // 4 x 96 KiB up + 128 KiB down = 512 KiB: 0.25 s at 2 MiB/s, however they are interleaved.
    const seconds = await timed(() =>
      Promise.all([
        ...Array.from({ length: 4 }, (_, i) => store.put(`blocks/${i}`, Buffer.alloc(96 * KiB))),
        store.get('blocks/r'),
      ]),
    );
    expect(seconds).toBeGreaterThanOrEqual(0.25 * 0.9);
  });

  it('adds latency to every call', async () => {
    const store = new ThrottleStore(new MemoryStore(), { latencyMs: 60 });
    expect(await timed(() => store.head('x'))).toBeGreaterThanOrEqual(0.055);
    store.setLatency(0);
    expect(store.latencyMs).toBe(0);
  });

  it('pauses at rate 0 and resumes a transfer already under way when the rate is raised', async () => {
    const store = new ThrottleStore(new MemoryStore(), { bytesPerSecond: 0 });
    let done = false;
    const put = store.put('blocks/p', Buffer.alloc(256 * KiB)).then(() => (done = true));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(done).toBe(false);
    expect(await store.inner.head('blocks/p')).toBeUndefined();
    store.setRate(undefined); // unlimited
    await put;
    expect(await store.inner.head('blocks/p')).toEqual({ key: 'blocks/p', size: 256 * KiB });
  });

  it('applies a lower rate set mid-transfer', async () => {
    const store = new ThrottleStore(new MemoryStore(), { bytesPerSecond: 100 * MiB });
    const put = timed(() => store.put('blocks/s', Buffer.alloc(4 * MiB)));
    store.setRate(8 * MiB); // at 100 MiB/s it would take 40 ms; the rest now goes at 8 MiB/s
    expect(await put).toBeGreaterThanOrEqual(0.3);
  });

  it('rejects a negative or infinite rate', () => {
    const store = new ThrottleStore(new MemoryStore());
    expect(() => store.setRate(-1)).toThrow(RangeError);
    expect(() => store.setRate(Infinity)).toThrow(RangeError);
    expect(() => store.setLatency(-5)).toThrow(RangeError);
  });
});

describe('throttle store over fs', () => {
  it('keeps the fs fast paths, and charges them to its budget', async () => {
    const tmp = tempDir();
    const inner = await FsStore.open({ root: tmp.dir });
    const store = new ThrottleStore(inner, { bytesPerSecond: 2 * MiB });
    try {
      expect(store.supports).toEqual({ filePuts: true, hashedGets: true });
      const path = `${tmp.dir}/slice`;
      writeFileSync(path, Buffer.alloc(512 * KiB, 7));
      const fd = openSync(path, 'r');
      try {
        const fromFile = vi.spyOn(inner, 'putIfAbsentFromFile');
        const seconds = await timed(() => store.putIfAbsentFromFile('blocks/f', { fd, offset: 0, length: 512 * KiB }));
        expect(fromFile).toHaveBeenCalledTimes(1); // reached the fs store's own path
        expect(seconds).toBeGreaterThanOrEqual(0.25 * 0.9);
      } finally {
        closeSync(fd);
      }
      const hashed = vi.spyOn(inner, 'getWithSha256');
      expect((await store.getWithSha256('blocks/f')).body.length).toBe(512 * KiB);
      expect(hashed).toHaveBeenCalledTimes(1);
    } finally {
      await store.close();
      tmp.remove();
    }
  });
});
