import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BlockStore, GiB, TiB } from '../../src/core/block-store.js';
import { CoreError, isCoreError } from '../../src/core/errors.js';
import { PackChunkBytes } from '../../src/core/pack-chunk-bytes.js';
import { Rng } from '../support/random.js';
import { SparseModel } from '../support/sparse-model.js';
import { tempDir } from '../support/temp-dir.js';

const B = 512 * 1024;
let tmp: ReturnType<typeof tempDir>;
let store: BlockStore;

beforeEach(async () => {
  tmp = tempDir();
  store = await BlockStore.open(tmp.dir, { sweepDelayMs: 0 });
});
afterEach(async () => {
  await store.close();
  tmp.remove();
});

const rng = new Rng(42);

async function expectCode(p: Promise<unknown>, code: string) {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isCoreError(err), `expected CoreError ${code}, got ${String(err)}`).toBe(true);
  expect((err as { code: string }).code).toBe(code);
}

describe('writes and reads', () => {
  it('writes across block boundaries, unaligned, read back exactly', async () => {
    const vol = await store.createVolume({ size: GiB });
    const data = rng.bytes(3 * B + 777);
    await store.write(vol.id, B - 333, data);
    expect((await store.read(vol.id, B - 333, data.length)).equals(data)).toBe(true);
    // Bytes around the write stay zero.
    expect((await store.read(vol.id, B - 400, 67)).equals(Buffer.alloc(67))).toBe(true);
    expect((await store.read(vol.id, B - 333 + data.length, 100)).equals(Buffer.alloc(100))).toBe(true);
  });

  it('handles the last, partial block of a volume', async () => {
    const size = GiB + 1000;
    const vol = await store.createVolume({ size });
    const tail = rng.bytes(1500);
    await store.write(vol.id, size - 1500, tail);
    expect((await store.read(vol.id, size - 1500, 1500)).equals(tail)).toBe(true);
    // A write of the whole partial block replaces it; a snapshot keeps the old one.
    const snap = await store.snapshot(vol.id);
    const lastBlockStart = Math.floor(size / B) * B;
    const full = rng.bytes(size - lastBlockStart);
    await store.write(vol.id, lastBlockStart, full);
    expect((await store.read(vol.id, lastBlockStart, full.length)).equals(full)).toBe(true);
    expect((await store.readSnapshot(snap.id, size - 1500, 1500)).equals(tail)).toBe(true);
  });

  it('accepts a zero-length write as a no-op that stores nothing', async () => {
    const vol = await store.createVolume({ size: GiB });
    await store.write(vol.id, 12345, Buffer.alloc(0));
    await store.write(vol.id, GiB, Buffer.alloc(0)); // at the very end is still in range
    const report = await store.fsck();
    expect(report.versions).toBe(0);
    expect(report.chunks).toBe(0);
  });

  it('rejects writes beyond the end with OFFSET_OUT_OF_RANGE and writes nothing', async () => {
    const vol = await store.createVolume({ size: GiB });
    await expectCode(store.write(vol.id, GiB - 10, Buffer.alloc(11, 1)), 'OFFSET_OUT_OF_RANGE');
    await expectCode(store.write(vol.id, GiB + 1, Buffer.alloc(1, 1)), 'OFFSET_OUT_OF_RANGE');
    await expectCode(store.write(vol.id, -1, Buffer.alloc(1, 1)), 'OFFSET_OUT_OF_RANGE');
    await expectCode(store.write(vol.id, 1.5, Buffer.alloc(1, 1)), 'OFFSET_OUT_OF_RANGE');
    await expectCode(store.read(vol.id, GiB - 1, 2), 'OFFSET_OUT_OF_RANGE');
    expect((await store.read(vol.id, GiB - 10, 10)).equals(Buffer.alloc(10))).toBe(true);
    expect((await store.fsck()).versions).toBe(0);
  });

  it('stores all-zero blocks as holes, never as chunks', async () => {
    const vol = await store.createVolume({ size: GiB });
    await store.write(vol.id, 0, Buffer.alloc(4 * B));
    expect((await store.fsck()).versions).toBe(0);
    await store.write(vol.id, 0, rng.bytes(B));
    await store.write(vol.id, 0, Buffer.alloc(B)); // back to zeros, no snapshot sees the data
    await store.gc();
    const report = await store.fsck();
    expect(report.versions).toBe(0);
    expect(report.chunks).toBe(0);
  });

  it('merges many small writes to one block into a chunk, keeping the content', async () => {
    const vol = await store.createVolume({ size: GiB });
    const expected = Buffer.alloc(B);
    for (let i = 0; i < 100; i++) {
      const off = 4096 * rng.int(0, B / 4096 - 1);
      const data = rng.bytes(4096);
      data.copy(expected, off);
      await store.write(vol.id, off, data);
    }
    expect((await store.read(vol.id, 0, B)).equals(expected)).toBe(true);
    const report = await store.fsck();
    expect(report.ok).toBe(true);
    expect(report.chunks).toBeGreaterThan(0); // merged at least once
  });

  it('rejects bad geometry and unknown volumes with typed errors', async () => {
    await expectCode(store.createVolume({ size: GiB - 1 }), 'INVALID_ARGUMENT');
    await expectCode(store.createVolume({ size: 64 * TiB + 1 }), 'INVALID_ARGUMENT');
    await expectCode(store.createVolume({ size: GiB, blockSize: 3000 }), 'INVALID_ARGUMENT');
    await expectCode(store.read('vol-doesnotexist0000', 0, 1), 'VOLUME_NOT_FOUND');
    await expectCode(store.write('vol-doesnotexist0000', 0, Buffer.alloc(1)), 'VOLUME_NOT_FOUND');
    await expectCode(store.snapshot('vol-doesnotexist0000'), 'VOLUME_NOT_FOUND');
    await expectCode(store.getSnapshot('snap-doesnotexist000'), 'SNAPSHOT_NOT_FOUND');
    await expectCode(store.deleteSnapshot('snap-doesnotexist000'), 'SNAPSHOT_NOT_FOUND');
    const vol = await store.createVolume({ size: GiB, id: 'vol-fixed' });
    await expectCode(store.createVolume({ size: GiB, id: vol.id }), 'VOLUME_EXISTS');
    await store.deleteVolume(vol.id);
    await expectCode(store.write(vol.id, 0, Buffer.alloc(1)), 'VOLUME_NOT_FOUND');
  });
});

describe('growing a volume', () => {
  it('reads zeros past the old end, keeps old snapshots at their size, and only grows', async () => {
    const size = GiB + 1000; // the old last block is partial
    const vol = await store.createVolume({ size });
    await store.write(vol.id, size - 10, Buffer.alloc(10, 7));
    const snap = await store.snapshot(vol.id);
    await store.resizeVolume(vol.id, 2 * GiB);
    expect((await store.read(vol.id, size - 10, 20)).equals(Buffer.concat([Buffer.alloc(10, 7), Buffer.alloc(10)]))).toBe(true);
    await store.write(vol.id, 2 * GiB - 3, Buffer.from('end'));
    expect((await store.read(vol.id, 2 * GiB - 3, 3)).toString()).toBe('end');
    expect((await store.getSnapshot(snap.id)).volumeSize).toBe(size);
    await expectCode(store.readSnapshot(snap.id, size - 1, 2), 'OFFSET_OUT_OF_RANGE');
    await expectCode(store.resizeVolume(vol.id, GiB), 'INVALID_ARGUMENT');
    expect((await store.fsck()).ok).toBe(true);
  });
});

describe('concurrent writes', () => {
  it('applies concurrent writes in call order, and a snapshot taken among them holds exactly those before it', async () => {
    const vol = await store.createVolume({ size: GiB });
    const model = new SparseModel(GiB, B);
    // Half of the blocks hold a chunk (small writes to them take the group-commit path), half are holes.
    for (let b = 0; b < 8; b += 2) {
      const data = rng.bytes(B);
      await store.write(vol.id, b * B, data);
      model.write(b * B, data);
    }
    const writes = Array.from({ length: 400 }, () => {
      const small = rng.chance(0.9);
      const offset = small ? rng.int(0, 8 * B - 4096) : rng.int(0, 6) * B;
      return { offset, data: rng.bytes(small ? rng.int(1, 4096) : B) };
    });
    const pending: Array<Promise<unknown>> = [];
    let snap: Promise<{ id: string }> | undefined;
    let atSnapshot: SparseModel | undefined;
    writes.forEach((w, i) => {
      pending.push(store.write(vol.id, w.offset, w.data));
      model.write(w.offset, w.data);
      if (i === 199) {
        snap = store.snapshot(vol.id);
        atSnapshot = model.snapshot();
      }
    });
    await Promise.all(pending);
    expect((await store.read(vol.id, 0, 8 * B)).equals(model.read(0, 8 * B))).toBe(true);
    expect((await store.readSnapshot((await snap!).id, 0, 8 * B)).equals(atSnapshot!.read(0, 8 * B))).toBe(true);
    expect((await store.fsck()).ok).toBe(true);
  });
});

describe('64 TiB volumes', () => {
  it('writes and reads the last byte, snapshots, and stores only what was written', async () => {
    const size = 64 * TiB;
    const vol = await store.createVolume({ size });
    const empty = await store.createVolume({ size });
    await store.write(vol.id, size - 1, Buffer.from([0x5a]));
    await store.write(vol.id, 0, Buffer.from('first'));
    const snap = await store.snapshot(vol.id);
    await store.snapshot(empty.id);
    await store.write(vol.id, size - 1, Buffer.from([0xa5]));
    expect((await store.read(vol.id, size - 2, 2)).equals(Buffer.from([0, 0xa5]))).toBe(true);
    expect((await store.readSnapshot(snap.id, size - 2, 2)).equals(Buffer.from([0, 0x5a]))).toBe(true);
    const report = await store.fsck();
    expect(report.ok).toBe(true);
    expect(report.versionsByVolume[vol.id]).toBe(3);
    expect(report.versionsByVolume[empty.id] ?? 0).toBe(0);
  });
});

describe('snapshot chains', () => {
  it.each([
    ['oldest', 0],
    ['middle', 5],
    ['newest', 9],
  ])('deleting the %s of a chain of 10 leaves every other snapshot and the volume intact', async (_name, victim) => {
    const vol = await store.createVolume({ size: GiB, blockSize: 64 * 1024 });
    const span = 16 * 64 * 1024;
    const contents: Buffer[] = [];
    const ids: string[] = [];
    let current = Buffer.alloc(span);
    for (let i = 0; i < 10; i++) {
      // Each step rewrites some blocks wholly and pokes small writes into others.
      for (let j = 0; j < 4; j++) {
        const off = rng.int(0, span - 5000);
        const data = rng.chance(0.5) ? rng.bytes(rng.int(1, 5000)) : rng.bytes(64 * 1024).subarray(0, Math.min(64 * 1024, span - off));
        await store.write(vol.id, off, data);
        current = Buffer.from(current);
        data.copy(current, off);
      }
      ids.push((await store.snapshot(vol.id)).id);
      contents.push(current);
    }
    await store.write(vol.id, 0, rng.bytes(span)); // the live volume moves on
    const live = await store.read(vol.id, 0, span);
    const { freedVersions } = await store.deleteSnapshot(ids[victim]!);
    expect(freedVersions).toBeGreaterThanOrEqual(0);
    for (let i = 0; i < 10; i++) {
      if (i === victim) continue;
      expect((await store.readSnapshot(ids[i]!, 0, span)).equals(contents[i]!), `snapshot ${i}`).toBe(true);
    }
    expect((await store.read(vol.id, 0, span)).equals(live)).toBe(true);
    await store.gc();
    const report = await store.fsck();
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.leakedChunks).toEqual([]);
  });

  it('small writes after snapshots inherit frozen versions; deleting the one inherited from rebases its heir', async () => {
    const vol = await store.createVolume({ size: GiB });
    let model = rng.bytes(B);
    await store.write(vol.id, 0, model);
    const snaps: Array<{ id: string; content: Buffer }> = [];
    for (let i = 0; i < 6; i++) {
      // Each epoch: a few small writes to the same block, which a snapshot then freezes.
      for (let j = 0; j < 3; j++) {
        const off = 4096 * rng.int(0, 127);
        const data = rng.bytes(4096);
        model = Buffer.from(model);
        data.copy(model, off);
        await store.write(vol.id, off, data);
      }
      snaps.push({ id: (await store.snapshot(vol.id)).id, content: model });
    }
    const report = await store.fsck();
    expect(report.ok).toBe(true);
    // Six versions, two chunks: the others are deltas on inherited content, until the chain
    // reaches MAX_INHERIT_DEPTH (4) and the sixth is merged into a chunk of its own.
    expect(report.chunks).toBe(2);
    for (const victim of [2, 4, 1]) {
      await store.deleteSnapshot(snaps[victim]!.id);
      for (const [i, s] of snaps.entries()) {
        if (i === 2 || i === 4 || (i === 1 && victim === 1)) continue;
        expect((await store.readSnapshot(s.id, 0, B)).equals(s.content), `snapshot ${i} after deleting ${victim}`).toBe(true);
      }
      // The live volume still takes small writes on top of whatever was rebased.
      const data = rng.bytes(100);
      model = Buffer.from(model);
      data.copy(model, 777);
      await store.write(vol.id, 777, data);
      expect((await store.read(vol.id, 0, B)).equals(model)).toBe(true);
      const r = await store.fsck();
      expect(r.problems).toEqual([]);
      expect(r.ok).toBe(true);
    }
  });

  it('lists changed blocks since the parent and all visible blocks', async () => {
    const vol = await store.createVolume({ size: GiB });
    await store.write(vol.id, 0, rng.bytes(3 * B)); // blocks 0, 1, 2
    const s1 = await store.snapshot(vol.id);
    await store.write(vol.id, B + 10, rng.bytes(100)); // block 1 changes
    await store.write(vol.id, 2 * B, Buffer.alloc(B)); // block 2 becomes zeros
    await store.write(vol.id, 7 * B, rng.bytes(10)); // block 7 new
    const s2 = await store.snapshot(vol.id);
    const collect = async (id: string, which: 'changed' | 'all') => {
      const out: string[] = [];
      for await (const b of store.listSnapshotBlocks(id, which)) out.push(`${b.index}${b.zero ? 'z' : ''}`);
      return out.sort();
    };
    expect(await collect(s1.id, 'changed')).toEqual(['0', '1', '2']);
    expect(await collect(s2.id, 'changed')).toEqual(['1', '2z', '7']);
    expect(await collect(s2.id, 'all')).toEqual(['0', '1', '2z', '7']);
    expect(await collect(s1.id, 'all')).toEqual(['0', '1', '2']);
    // Deleting s1 folds its blocks into s2's range.
    await store.deleteSnapshot(s1.id);
    expect(await collect(s2.id, 'changed')).toEqual(['0', '1', '2z', '7']);
  });
});

describe('dedup, collisions, deletion', () => {
  it('stores equal content once across volumes', async () => {
    const a = await store.createVolume({ size: GiB });
    const b = await store.createVolume({ size: GiB });
    const block = rng.bytes(B);
    await store.write(a.id, 0, block);
    await store.write(b.id, 5 * B, block);
    await store.write(a.id, 9 * B, block);
    const report = await store.fsck();
    expect(report.chunks).toBe(1);
    expect(report.ok).toBe(true);
  });

  it('never aliases data on a hash collision', async () => {
    const dir = tempDir();
    const colliding = await BlockStore.open(dir.dir, { hasher: () => Buffer.alloc(16, 7), sweepDelayMs: 0 });
    try {
      const vol = await colliding.createVolume({ size: GiB });
      const x = rng.bytes(B);
      const y = rng.bytes(B);
      await colliding.write(vol.id, 0, x);
      await colliding.write(vol.id, B, y);
      await colliding.write(vol.id, 2 * B, x); // a real dedup hit among colliding ids
      expect((await colliding.read(vol.id, 0, B)).equals(x)).toBe(true);
      expect((await colliding.read(vol.id, B, B)).equals(y)).toBe(true);
      expect((await colliding.read(vol.id, 2 * B, B)).equals(x)).toBe(true);
      const report = await colliding.fsck();
      expect(report.chunks).toBe(2);
      expect(report.ok).toBe(true);
    } finally {
      await colliding.close();
      dir.remove();
    }
  });

  it('tells a dedup hit from a collision by the kept SHA-256 when the caller knows it, reading no bytes', async () => {
    const dir = tempDir();
    const colliding = await BlockStore.open(dir.dir, { hasher: () => Buffer.alloc(16, 7), sweepDelayMs: 0, backing: { readBlock: async () => null } });
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    const chunkReads = vi.spyOn(PackChunkBytes.prototype, 'read');
    try {
      const vol = await colliding.createVolume({ size: GiB });
      const x = rng.bytes(B);
      const y = rng.bytes(B);
      await colliding.write(vol.id, 0, x);
      const restored = await colliding.createVolume({ size: GiB, backing: { snapshotId: 'snap-source' } });
      chunkReads.mockClear();
      expect(await colliding.hydrate(restored.id, 0, x, sha(x))).toBe(true); // the same bytes: a hit
      expect(await colliding.hydrate(restored.id, 1, y, sha(y))).toBe(true); // same xxhash, other digest: stored apart
      expect(chunkReads).not.toHaveBeenCalled();
      expect((await colliding.read(restored.id, 0, B)).equals(x)).toBe(true);
      expect((await colliding.read(restored.id, B, B)).equals(y)).toBe(true);
      const report = await colliding.fsck();
      expect(report.chunks).toBe(2);
      expect(report.ok).toBe(true);
    } finally {
      chunkReads.mockRestore();
      await colliding.close();
      dir.remove();
    }
  });

  it('sweeps a chunk only after its last reference is gone, and revives it on a dedup hit', async () => {
    const vol = await store.createVolume({ size: GiB });
    const block = rng.bytes(B);
    await store.write(vol.id, 0, block);
    await store.write(vol.id, 0, rng.bytes(B)); // block's chunk drops to zero refs, queued
    expect((await store.fsck()).queuedChunks).toBe(1);
    await store.write(vol.id, B, block); // dedup hit on the queued chunk revives it
    expect(await store.gc()).toBe(0);
    expect((await store.read(vol.id, B, B)).equals(block)).toBe(true);
    await store.write(vol.id, B, Buffer.alloc(B));
    expect(await store.gc()).toBe(1);
    const report = await store.fsck();
    expect(report.ok).toBe(true);
    expect(report.chunks).toBe(1);
  });

  it('keeps snapshots of a deleted volume readable, and frees everything with the last one', async () => {
    const vol = await store.createVolume({ size: GiB });
    const first = rng.bytes(2 * B);
    await store.write(vol.id, 0, first);
    const s1 = await store.snapshot(vol.id);
    await store.write(vol.id, B, rng.bytes(B));
    const s2 = await store.snapshot(vol.id);
    const second = await store.readSnapshot(s2.id, 0, 2 * B);
    await store.write(vol.id, 0, rng.bytes(B)); // only the live volume sees this
    await store.deleteVolume(vol.id);
    expect(() => store.getVolume(vol.id)).toThrow();
    expect((await store.readSnapshot(s1.id, 0, 2 * B)).equals(first)).toBe(true);
    expect((await store.readSnapshot(s2.id, 0, 2 * B)).equals(second)).toBe(true);
    expect((await store.fsck()).ok).toBe(true);
    await store.deleteSnapshot(s2.id);
    expect((await store.readSnapshot(s1.id, 0, 2 * B)).equals(first)).toBe(true);
    await store.deleteSnapshot(s1.id);
    await store.gc();
    const report = await store.fsck();
    expect(report).toMatchObject({ ok: true, volumes: 0, snapshots: 0, versions: 0, chunks: 0 });
  });

  it('freezes several volumes at one instant', async () => {
    const a = await store.createVolume({ size: GiB });
    const b = await store.createVolume({ size: GiB });
    await store.write(a.id, 0, Buffer.from('a1'));
    await store.write(b.id, 0, Buffer.from('b1'));
    const [sa, sb] = await store.snapshotMany([{ volumeId: a.id }, { volumeId: b.id }]);
    await store.write(a.id, 0, Buffer.from('a2'));
    await store.write(b.id, 0, Buffer.from('b2'));
    expect((await store.readSnapshot(sa!.id, 0, 2)).toString()).toBe('a1');
    expect((await store.readSnapshot(sb!.id, 0, 2)).toString()).toBe('b1');
    await expectCode(store.snapshotMany([{ volumeId: a.id }, { volumeId: a.id }]), 'INVALID_ARGUMENT');
  });
});

describe('restored volumes (backing snapshot)', () => {
  it('reads unhydrated blocks from the backing source, writes over them, hydrates beneath writes', async () => {
    const backingBlocks = new Map<number, Buffer>([
      [0, rng.bytes(B)],
      [3, rng.bytes(B)],
    ]);
    const reads: number[] = [];
    const dir = tempDir();
    const restored = await BlockStore.open(dir.dir, {
      sweepDelayMs: 0,
      backing: {
        readBlock: async (_snap, index) => {
          reads.push(index);
          return backingBlocks.get(index) ?? null;
        },
      },
    });
    try {
      const vol = await restored.createVolume({ size: GiB, backing: { snapshotId: 'snap-source' } });
      expect((await restored.read(vol.id, 0, B)).equals(backingBlocks.get(0)!)).toBe(true);
      expect((await restored.read(vol.id, B, 10)).equals(Buffer.alloc(10))).toBe(true);
      // A partial write to an unloaded block merges with the backing content.
      await restored.write(vol.id, 3 * B + 100, Buffer.from('hello'));
      const expected3 = Buffer.from(backingBlocks.get(3)!);
      Buffer.from('hello').copy(expected3, 100);
      expect((await restored.read(vol.id, 3 * B, B)).equals(expected3)).toBe(true);
      // Zeros written over backing data must hide it.
      await restored.write(vol.id, 0, Buffer.alloc(B));
      expect((await restored.read(vol.id, 0, B)).equals(Buffer.alloc(B))).toBe(true);
      // Hydration never overwrites a write; it fills blocks not yet written.
      expect(await restored.hydrate(vol.id, 0, backingBlocks.get(0)!)).toBe(false);
      const before = reads.length;
      backingBlocks.set(5, rng.bytes(B));
      expect(await restored.hydrate(vol.id, 5, backingBlocks.get(5)!)).toBe(true);
      expect((await restored.read(vol.id, 5 * B, B)).equals(backingBlocks.get(5)!)).toBe(true);
      expect(reads.length).toBe(before); // served locally now
      const snap = await restored.snapshot(vol.id);
      expect((await restored.readSnapshot(snap.id, 3 * B, B)).equals(expected3)).toBe(true);
      expect((await restored.fsck()).ok).toBe(true);
    } finally {
      await restored.close();
      dir.remove();
    }
  });
});

describe('reads into a buffer the caller reuses', () => {
  const turns = async (n = 20) => {
    for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
  };

  it('reads whole backing blocks in place, keeps a copy of its own, and writes nothing once settled, even after a failure', async () => {
    const blocks = new Map<number, Buffer>([0, 1, 2, 3, 4, 5, 6, 7].map((i) => [i, rng.bytes(B)]));
    const offered: Array<{ index: number; into: Buffer | undefined }> = [];
    let gate: Promise<void> = Promise.resolve();
    let slowDone = false;
    const dir = tempDir();
    const restored = await BlockStore.open(dir.dir, {
      sweepDelayMs: 0,
      backing: {
        readBlock: async (_snap, index, into) => {
          offered.push({ index, into });
          if (index === 7) throw new CoreError('BACKING_UNAVAILABLE', 'block 7 is gone');
          if (index === 6) await gate;
          const bytes = blocks.get(index)!;
          const out = into ? (bytes.copy(into), into.subarray(0, B)) : Buffer.from(bytes);
          if (index === 6) slowDone = true;
          return out;
        },
      },
    });
    try {
      const vol = await restored.createVolume({ size: GiB, backing: { snapshotId: 'snap-source' } });
      const into = Buffer.alloc(2 * B + 300, 0xee);
      const got = await restored.read(vol.id, 100, 2 * B + 200, into);
      expect(got.buffer).toBe(into.buffer);
      expect(got.equals(Buffer.concat([blocks.get(0)!, blocks.get(1)!, blocks.get(2)!]).subarray(100, 2 * B + 300))).toBe(true);
      // Only block 1 lies whole in the range: it is read in place, the partial ones elsewhere.
      const placed = offered.find((o) => o.index === 1)!.into!;
      expect([placed.buffer === into.buffer, placed.byteOffset - into.byteOffset, placed.length]).toEqual([true, B - 100, B]);
      expect(offered.filter((o) => o.index !== 1).every((o) => o.into === undefined)).toBe(true);
      // What the read keeps is a copy: the caller reusing its buffer changes nothing kept.
      into.fill(0x55);
      for (let i = 0; i < 200 && !(await restored.holdsBlock(vol.id, 1)); i++) await turns(1);
      expect(await restored.holdsBlock(vol.id, 1)).toBe(true);
      expect((await restored.read(vol.id, B, B)).equals(blocks.get(1)!)).toBe(true);

      // Block 7 fails while block 6 is still being read into the buffer: the read waits for it.
      let open!: () => void;
      gate = new Promise((resolve) => (open = resolve));
      const whole = Buffer.alloc(4 * B);
      let settled = false;
      const failing = restored.read(vol.id, 4 * B, 4 * B, whole).finally(() => (settled = true));
      failing.catch(() => undefined);
      await turns();
      expect([settled, slowDone]).toEqual([false, false]);
      open();
      await expect(failing).rejects.toMatchObject({ code: 'BACKING_UNAVAILABLE' });
      expect(slowDone).toBe(true); // done before the failure was reported
      expect(whole.subarray(2 * B, 3 * B).equals(blocks.get(6)!)).toBe(true);
    } finally {
      await restored.close();
      dir.remove();
    }
  });
});

describe('changed-block listings', () => {
  const changed = async (id: string) => {
    const out: number[] = [];
    for await (const b of store.listSnapshotBlocks(id, 'changed')) out.push(b.index);
    return out.sort((a, b) => a - b);
  };

  it('lists nothing for a snapshot of an unchanged volume, and what it inherits once its parent is deleted', async () => {
    const vol = await store.createVolume({ size: GiB });
    await store.write(vol.id, 0, rng.bytes(B));
    await store.write(vol.id, 5 * B, rng.bytes(100));
    const first = await store.snapshot(vol.id);
    const second = await store.snapshot(vol.id); // nothing written in between
    expect(second.entries).toBe(0);
    expect(await changed(first.id)).toEqual([0, 5]);
    expect(await changed(second.id)).toEqual([]);

    // The versions the first held now belong to the second's range: counted, so listed again.
    await store.deleteSnapshot(first.id);
    expect((await store.getSnapshot(second.id)).entries).toBe(2);
    expect(await changed(second.id)).toEqual([0, 5]);
    expect((await store.fsck()).ok).toBe(true);
  });
});
