/**
 * Where chunk bytes live: pack files (space reclaimed by deleting and rewriting packs, crash
 * leftovers cleaned at open, more packs than open files) and the older LevelDB layout, which an
 * existing data directory keeps.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClassicLevel } from 'classic-level';
import { BlockStore, GiB } from '../../src/core/block-store.js';
import * as keys from '../../src/core/keys.js';
import { PackChunkBytes } from '../../src/core/pack-chunk-bytes.js';
import { WriteTx } from '../../src/core/write-tx.js';
import { Rng } from '../support/random.js';
import { tempDir } from '../support/temp-dir.js';

const B = 512 * 1024;
const rng = new Rng(7);
let tmp: ReturnType<typeof tempDir>;

beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.remove());

const packsDir = () => join(tmp.dir, 'data', 'packs');
const packFiles = () => readdirSync(packsDir()).filter((n) => n.endsWith('.pack')).sort();
const packBytesOnDisk = () => packFiles().reduce((n, f) => n + statSync(join(packsDir(), f)).size, 0);

/** Descriptors this process holds open on pack files. */
function openPackFiles(): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(join('/proc/self/fd', fd)).startsWith(packsDir());
    } catch {
      return false; // closed meanwhile
    }
  }).length;
}

/** Writes `count` distinct blocks and returns what each holds. */
async function fill(store: BlockStore, volumeId: string, count: number): Promise<Buffer[]> {
  const blocks: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    blocks.push(rng.bytes(B));
    await store.write(volumeId, i * B, blocks[i]!);
  }
  return blocks;
}

async function expectContent(store: BlockStore, volumeId: string, blocks: Buffer[]) {
  for (let i = 0; i < blocks.length; i++) {
    expect((await store.read(volumeId, i * B, B)).equals(blocks[i]!), `block ${i}`).toBe(true);
  }
  const report = await store.fsck();
  expect(report.missingChunks).toEqual([]);
  expect(report.ok).toBe(true);
}

describe('pack files', () => {
  it('is the layout of a new data directory: one file per 256 MiB, none in LevelDB', async () => {
    const store = await BlockStore.open(join(tmp.dir, 'data'));
    const vol = await store.createVolume({ size: GiB });
    await fill(store, vol.id, 4);
    expect(packBytesOnDisk()).toBe(4 * B);
    expect(existsSync(join(tmp.dir, 'data', 'chunks'))).toBe(false);
    await store.close();
  });

  it('deletes dead packs and rewrites mostly dead ones, so the files hold only live chunks', async () => {
    const store = await BlockStore.open(join(tmp.dir, 'data'), { packBytes: 4 * B, sweepDelayMs: 0 });
    const vol = await store.createVolume({ size: GiB });
    const blocks = await fill(store, vol.id, 32); // 8 packs of 4 chunks
    expect(packFiles()).toHaveLength(8);
    // Three chunks of every pack die: each old pack is left a quarter live, under the threshold.
    for (let i = 0; i < 32; i++) {
      if (i % 4 === 0) continue;
      blocks[i] = rng.bytes(B);
      await store.write(vol.id, i * B, blocks[i]!);
    }
    expect(packBytesOnDisk()).toBe(56 * B);
    expect(await store.gc()).toBe(24);
    expect(packBytesOnDisk()).toBe(32 * B);
    expect(packFiles()).toHaveLength(8);
    await expectContent(store, vol.id, blocks);

    // A snapshot keeps its chunks live; deleting it frees them. The packs now hold blocks
    // [1,2,3,5] [6,7,9,10] ... (overwrites) and [0,4,8,12] [16,20,24,28] (rewritten): the first
    // goes whole, the second and the third are left half live, which is not worth a rewrite.
    const snap = await store.snapshot(vol.id);
    for (let i = 0; i < 8; i++) await store.write(vol.id, i * B, Buffer.alloc(B)); // holes now
    await store.gc();
    expect(packBytesOnDisk()).toBe(32 * B);
    await store.deleteSnapshot(snap.id);
    await store.gc();
    expect(packBytesOnDisk()).toBe(28 * B);
    for (let i = 0; i < 8; i++) blocks[i] = Buffer.alloc(B);
    await expectContent(store, vol.id, blocks);
    await store.close();

    const reopened = await BlockStore.open(join(tmp.dir, 'data'), { packBytes: 4 * B });
    await expectContent(reopened, vol.id, blocks);
    await reopened.close();
  });

  it('copies a rewrite outside the core lock: a write and a sweep queued after it go first, and every block stays exact', async () => {
    const store = await BlockStore.open(join(tmp.dir, 'data'), { packBytes: 4 * B, sweepDelayMs: 0 });
    const vol = await store.createVolume({ size: GiB });
    const blocks = await fill(store, vol.id, 32); // 8 packs of 4 chunks
    for (let i = 0; i < 32; i++) {
      if (i % 4 === 0) continue;
      blocks[i] = rng.bytes(B);
      await store.write(vol.id, i * B, blocks[i]!); // each old pack is left a quarter live
    }
    const order: string[] = [];
    // Queued on the lock in this order; the rewrite's own step comes after its copies.
    const gc = store.gc().then((n) => (order.push('gc'), n));
    blocks[4] = rng.bytes(B); // block 4's chunk is in a pack the rewrite moves
    const write = store.write(vol.id, 4 * B, blocks[4]!).then(() => order.push('write'));
    const second = store.gc().then((n) => (order.push('second gc'), n));
    expect(await gc).toBe(24);
    await write;
    expect(await second).toBe(1); // block 4's old chunk, swept while the rewrite was in flight
    // Before: the rewrite held the lock from the sweep on, so the write waited for all of it.
    expect(order).toEqual(['write', 'gc', 'second gc']);
    await expectContent(store, vol.id, blocks); // fsck: no location points at a missing chunk
    expect((await store.fsck()).leakedChunks).toEqual([]);
    await store.close();
    const reopened = await BlockStore.open(join(tmp.dir, 'data'), { packBytes: 4 * B });
    await expectContent(reopened, vol.id, blocks);
    await reopened.close();
  });

  it('does not move back the location of a chunk dropped between a rewrite copying it and its locked step', async () => {
    const dir = join(tmp.dir, 'data');
    mkdirSync(dir, { recursive: true });
    const db = new ClassicLevel<Buffer, Buffer>(join(dir, 'meta'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    const bytes = new PackChunkBytes(db, packsDir(), false, 4 * B);
    await bytes.recover();
    const commit = async (tx: WriteTx) => {
      await tx.prepared();
      await db.batch(tx.ops);
      tx.committed();
    };
    const drop = async (seqs: number[]) => {
      await db.batch(await bytes.drop(seqs));
      await bytes.dropped();
    };
    const content = new Map<number, Buffer>();
    for (let seq = 1; seq <= 8; seq++) {
      const tx = new WriteTx();
      content.set(seq, rng.bytes(B));
      bytes.store(tx, seq, content.get(seq)!);
      await commit(tx); // seqs 1-4 fill pack 1, 5-8 pack 2
    }
    await drop([1, 2]); // pack 1 half dead: not yet due
    await drop([3]); // a quarter live: due for a rewrite
    let lockedSteps = 0;
    await bytes.compact(async (fn) => {
      // The rewrite has copied seq 4 by now; a sweep drops it before the locked step runs.
      if (lockedSteps++ === 0) await drop([4]);
      return fn();
    });
    expect(lockedSteps).toBe(1);
    expect(db.getSync(keys.packIndexKey(4))).toBeUndefined(); // not moved back in
    expect(packFiles()).not.toContain('00000001.pack'); // the victim is gone
    for (const seq of [5, 6, 7, 8]) expect((await bytes.read(seq))!.equals(content.get(seq)!), `seq ${seq}`).toBe(true);
    await bytes.close();
    await db.close();
  });

  it('reclaims a pack that died while it was the current one, once a newer pack took over', async () => {
    const store = await BlockStore.open(join(tmp.dir, 'data'), { packBytes: 3.5 * B, sweepDelayMs: 0 });
    const vol = await store.createVolume({ size: GiB });
    const latest = rng.bytes(B);
    for (const data of [rng.bytes(B), rng.bytes(B), latest]) await store.write(vol.id, 0, data); // 3 chunks fill pack 1
    await store.gc(); // 2 of them die while pack 1 is still the current pack: nothing to reclaim yet
    expect(packBytesOnDisk()).toBe(3 * B);
    const other = rng.bytes(B);
    await store.write(vol.id, B, other); // does not fit: pack 2 takes over
    await store.gc(); // nothing new died, but pack 1 is now closed and a third live
    expect(packBytesOnDisk()).toBe(2 * B);
    await expectContent(store, vol.id, [latest, other]);
    await store.close();
  });

  it('cleans up at open what a crash left: an uncommitted tail and a pack nothing points at', async () => {
    let store = await BlockStore.open(join(tmp.dir, 'data'));
    const vol = await store.createVolume({ size: GiB });
    const blocks = await fill(store, vol.id, 3);
    await store.close();
    const [last] = packFiles().slice(-1);
    appendFileSync(join(packsDir(), last!), rng.bytes(1000)); // bytes of a batch that never committed
    writeFileSync(join(packsDir(), '00000999.pack'), rng.bytes(B)); // a pack whose first batch never committed

    store = await BlockStore.open(join(tmp.dir, 'data'));
    expect(packFiles()).toEqual([last]);
    expect(packBytesOnDisk()).toBe(3 * B);
    await expectContent(store, vol.id, blocks);
    // New chunks go to a new pack, numbered past every pack seen.
    blocks.push(rng.bytes(B));
    await store.write(vol.id, 3 * B, blocks[3]!);
    expect(packFiles()).toHaveLength(2);
    expect(Number(packFiles()[1]!.slice(0, 8))).toBeGreaterThan(999);
    await expectContent(store, vol.id, blocks);
    await store.close();
  });

  it('reads from more packs than it keeps open', async () => {
    const store = await BlockStore.open(join(tmp.dir, 'data'), { packBytes: B, sweepDelayMs: 0 });
    const vol = await store.createVolume({ size: GiB });
    const blocks = await fill(store, vol.id, 150); // one chunk per pack
    expect(packFiles()).toHaveLength(150);
    expect(openPackFiles()).toBeLessThanOrEqual(64);
    const reads = await Promise.all(blocks.map((_, i) => store.read(vol.id, i * B, B)));
    reads.forEach((r, i) => expect(r.equals(blocks[i]!), `block ${i}`).toBe(true));
    expect(openPackFiles()).toBeLessThanOrEqual(64);
    await expectContent(store, vol.id, blocks);
    await store.close();
  });

  it('with sync (fsync per change) and with a flush barrier, writes across new packs read back after a reopen', async () => {
    for (const sync of [true, false]) {
      const dir = join(tmp.dir, `data-${sync}`);
      const store = await BlockStore.open(dir, { packBytes: 2 * B, sync });
      const vol = await store.createVolume({ size: GiB });
      const blocks = await fill(store, vol.id, 5); // three packs
      if (!sync) await store.flush();
      await store.close();
      expect(readdirSync(join(dir, 'packs'))).toHaveLength(3);
      const reopened = await BlockStore.open(dir, { packBytes: 2 * B, sync });
      await expectContent(reopened, vol.id, blocks);
      await reopened.close();
    }
  });

  it('keeps the right SHA-256 for every block of one unaligned write over several, and of a write racing it', async () => {
    const store = await BlockStore.open(join(tmp.dir, 'data'));
    const vol = await store.createVolume({ size: GiB });
    // 3.5 blocks from half a block in: a zero block 1 (a hole, no chunk), whole blocks 2 and 3
    // (hashed before the lock), half of block 0 (too big for a delta: merged with what it holds,
    // hashed under the lock); another write to block 4 races it.
    const first = rng.bytes(B);
    await store.write(vol.id, 0, first);
    const data = rng.bytes(3.5 * B);
    data.fill(0, B / 2, 1.5 * B);
    const later = rng.bytes(B);
    await Promise.all([store.write(vol.id, B / 2, data), store.write(vol.id, 4 * B, later)]);
    const expected = [Buffer.concat([first.subarray(0, B / 2), data.subarray(0, B / 2)]), Buffer.alloc(B), data.subarray(1.5 * B, 2.5 * B), data.subarray(2.5 * B), later];
    const snap = await store.snapshot(vol.id);
    const reader = await store.snapshotReader(snap.id);
    const seen: number[] = [];
    for await (const { index, birth } of store.listSnapshotBlocks(snap.id, 'all')) {
      seen.push(index);
      const version = reader.version(index, birth);
      expect((await version.read(Buffer.alloc(B)))!.equals(expected[index]!)).toBe(true);
      expect(version.digest).toEqual({ sha256: createHash('sha256').update(expected[index]!).digest('hex'), length: B });
    }
    expect(seen.sort()).toEqual([0, 2, 3, 4]);
    await store.close();
  });

  it('knows the SHA-256 of every block of a write hashed over several turns of the event loop', async () => {
    const store = await BlockStore.open(join(tmp.dir, 'data'));
    const vol = await store.createVolume({ size: GiB });
    const data = rng.bytes(16 * B); // a data plane piece: 16 blocks, hashed 4 per turn
    data.fill(0, 5 * B, 6 * B);
    await store.write(vol.id, 0, data);
    const snap = await store.snapshot(vol.id);
    const reader = await store.snapshotReader(snap.id);
    const seen: number[] = [];
    for await (const { index, birth } of store.listSnapshotBlocks(snap.id, 'all')) {
      seen.push(index);
      const block = data.subarray(index * B, (index + 1) * B);
      expect(reader.version(index, birth).digest).toEqual({ sha256: createHash('sha256').update(block).digest('hex'), length: B });
    }
    expect(seen.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    await store.close();
  });

  it('reads a snapshot block into a buffer the caller reuses, and knows its SHA-256 without reading', async () => {
    const store = await BlockStore.open(join(tmp.dir, 'data'));
    const vol = await store.createVolume({ size: GiB });
    const blocks = await fill(store, vol.id, 2);
    const snap = await store.snapshot(vol.id);
    const reader = await store.snapshotReader(snap.id);
    const buffer = Buffer.alloc(B);
    for await (const { index, birth } of store.listSnapshotBlocks(snap.id, 'all')) {
      const version = reader.version(index, birth);
      const got = await version.read(buffer);
      expect(got!.buffer).toBe(buffer.buffer);
      expect(got!.equals(blocks[index]!)).toBe(true);
      // The digest kept with the chunk, known without reading it.
      expect(version.digest).toEqual({ sha256: createHash('sha256').update(blocks[index]!).digest('hex'), length: B });
    }
    await store.close();
  });
});

describe('chunk bytes in LevelDB', () => {
  it('works as before, and an existing directory keeps that layout when reopened', async () => {
    const dir = join(tmp.dir, 'data');
    let store = await BlockStore.open(dir, { chunkBytes: 'level', sweepDelayMs: 0 });
    const vol = await store.createVolume({ size: GiB });
    const blocks = await fill(store, vol.id, 6);
    blocks[0] = rng.bytes(B);
    await store.write(vol.id, 0, blocks[0]);
    expect(await store.gc()).toBe(1);
    await expectContent(store, vol.id, blocks);
    await store.close();

    store = await BlockStore.open(dir); // the default is pack files, but this directory has chunks
    expect(existsSync(join(dir, 'chunks'))).toBe(true);
    expect(existsSync(join(dir, 'packs'))).toBe(false);
    await expectContent(store, vol.id, blocks);
    await store.close();
  });
});
