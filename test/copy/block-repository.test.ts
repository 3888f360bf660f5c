/**
 * BlockRepository's downloads: concurrent reads of one block (a restored volume's reader racing
 * its hydration) share one download, each with its own buffer; a caller that gives up does not
 * fail the others; and a block whose bytes do not match its digest is refused.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { sha256Hex } from '../../src/copy/block-hash.js';
import { BlockRepository } from '../../src/copy/block-repository.js';
import { blockKey } from '../../src/copy/manifest.js';
import { DEFAULT_RETRY } from '../../src/copy/retry.js';
import { FaultStore, FsStore, MemoryStore, ThrottleStore, WrappedStore } from '../../src/object-store/index.js';
import type { GetOptions } from '../../src/object-store/object-store.js';
import { tempDir } from '../support/temp-dir.js';

async function storeWithBlock() {
  const memory = new MemoryStore();
  const block = randomBytes(512 * 1024);
  const sha = sha256Hex(block);
  await memory.put(blockKey(sha), block);
  // 20 ms per call: the second caller arrives while the first download is under way.
  const objects = new ThrottleStore(memory, { latencyMs: 20 });
  return { objects, block, sha, repo: new BlockRepository(objects, { ...DEFAULT_RETRY, attempts: 1 }) };
}

describe('BlockRepository.getBlock', () => {
  it('shares one download among concurrent callers, each with its own buffer', async () => {
    const { objects, block, sha, repo } = await storeWithBlock();
    const [a, b, c] = await Promise.all([repo.getBlock(sha), repo.getBlock(sha), repo.getBlock(sha)]);
    expect(objects.stats().gets).toBe(1);
    for (const got of [a, b, c]) expect(got!.equals(block)).toBe(true);
    a!.fill(1); // the core may change a buffer it was given (read-modify-write)
    expect(b!.equals(block)).toBe(true);
    expect(c!.equals(block)).toBe(true);
    expect(new Set([a!.buffer, b!.buffer, c!.buffer]).size).toBe(3);
    // Once settled, the next call downloads again (nothing is cached).
    await repo.getBlock(sha);
    expect(objects.stats().gets).toBe(2);
  });

  it('still answers a waiting caller when the caller whose download it shared gives up', async () => {
    const { objects, block, sha } = await storeWithBlock();
    // The first attempt fails; before its retry, its caller is stopped.
    const faulty = new FaultStore(objects, [{ op: 'get', nth: 1 }]);
    const repo = new BlockRepository(faulty, { ...DEFAULT_RETRY, attempts: 2, baseDelayMs: 50, maxDelayMs: 50 });
    const abort = new AbortController();
    const first = repo.getBlock(sha, abort.signal);
    const second = repo.getBlock(sha);
    await new Promise((resolve) => setTimeout(resolve, 30)); // the failed attempt is done
    abort.abort('close');
    await expect(first).rejects.toBe('close');
    expect((await second).equals(block)).toBe(true);
  });
});

describe('BlockRepository.getBlock into the caller\'s buffer', () => {
  it('fills each caller\'s buffer, and hands the store\'s reused memory straight back', async () => {
    const dir = tempDir();
    const objects = await FsStore.open({ root: dir.dir });
    try {
      const block = randomBytes(512 * 1024);
      const sha = sha256Hex(block);
      await objects.put(blockKey(sha), block);
      const recycled = vi.spyOn(objects, 'recycle');
      const repo = new BlockRepository(objects, { ...DEFAULT_RETRY, attempts: 1 });
      const mine = Buffer.alloc(512 * 1024);
      const theirs = Buffer.alloc(512 * 1024);
      const [a, b, c] = await Promise.all([repo.getBlock(sha, undefined, mine), repo.getBlock(sha, undefined, theirs), repo.getBlock(sha)]);
      expect(objects.stats().gets).toBe(1); // one download, shared
      expect([a.buffer, b.buffer]).toEqual([mine.buffer, theirs.buffer]);
      for (const got of [a, b, c]) expect(got.equals(block)).toBe(true);
      expect(c.buffer).not.toBe(mine.buffer);
      // The store read into its own memory, which went back to it before anyone saw the bytes.
      expect(recycled).toHaveBeenCalledTimes(1);
      expect(recycled.mock.calls[0]![0].buffer).toBeInstanceOf(SharedArrayBuffer);
    } finally {
      await objects.close();
      dir.remove();
    }
  });

  it('never writes into the caller\'s buffer from an attempt it gave up on, which answers late', async () => {
    const block = randomBytes(64 * 1024);
    const sha = sha256Hex(block);
    const memory = new MemoryStore();
    await memory.put(blockKey(sha), block);
    let answerLate!: () => void;
    const late = new Promise<void>((resolve) => (answerLate = resolve));
    let lateAnswered = false;
    class FirstGetHangs extends WrappedStore {
      readonly kind = 'first-get-hangs';
      calls = 0;
      protected override async _getWithSha256(key: string, options?: GetOptions) {
        if (++this.calls === 1) {
          await late;
          const got = await this.inner.getWithSha256(key, options);
          lateAnswered = true;
          return got;
        }
        return this.inner.getWithSha256(key, options);
      }
    }
    const objects = new FirstGetHangs(memory);
    // The first attempt times out (1 ms) and is retried; it answers only later.
    const repo = new BlockRepository(objects, { ...DEFAULT_RETRY, attempts: 2, attemptTimeoutMs: 1, baseDelayMs: 0 });
    const into = Buffer.alloc(64 * 1024);
    expect((await repo.getBlock(sha, undefined, into)).equals(block)).toBe(true);
    into.fill(0); // the caller's again: reused
    answerLate();
    while (!lateAnswered) await new Promise((resolve) => setImmediate(resolve));
    for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(into.equals(Buffer.alloc(64 * 1024))).toBe(true);
  });
});

describe('BlockRepository downloads are checked against their digest', () => {
  // The fs store hashes in the thread that read the block; other stores hand back bytes that
  // the repository hashes itself. Either way a block whose bytes changed is refused.
  it.each(['memory', 'fs'])('%s store: a changed block is refused', async (kind) => {
    const dir = tempDir();
    const objects = kind === 'fs' ? await FsStore.open({ root: dir.dir }) : new MemoryStore();
    try {
      const block = randomBytes(64 * 1024);
      const sha = sha256Hex(block);
      await objects.put(blockKey(sha), block);
      const repo = new BlockRepository(objects, { ...DEFAULT_RETRY, attempts: 1 });
      expect((await repo.getBlock(sha)).equals(block)).toBe(true);
      block[100] = block[100]! ^ 1; // a flipped bit at rest
      await objects.put(blockKey(sha), block);
      await expect(repo.getBlock(sha)).rejects.toMatchObject({ code: 'BLOCK_CORRUPT' });
    } finally {
      await objects.close();
      dir.remove();
    }
  });
});

describe('BlockRepository manifests', () => {
  it('does not keep a deleted manifest in its cache when a read raced the delete', async () => {
    // The delete reaches the store only once released: a read meanwhile still finds the object.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    class GatedDeletes extends MemoryStore {
      override async delete(key: string): Promise<void> {
        await gate;
        return super.delete(key);
      }
    }
    const repo = new BlockRepository(new GatedDeletes(), { ...DEFAULT_RETRY, attempts: 1 });
    const manifest = {
      snapshotId: 'snap-0123456789abcdef0', volumeId: 'vol-0123456789abcdef0', volumeSize: 1024 ** 3, blockSize: 512 * 1024,
      parentId: null, createdAt: new Date(0).toISOString(), blocks: new Map([[0, 'a'.repeat(64)]]),
    };
    await repo.putManifest(manifest);
    const deleting = repo.deleteManifest(manifest.snapshotId);
    expect((await repo.getManifest(manifest.snapshotId))?.snapshotId).toBe(manifest.snapshotId); // still stored
    release();
    await deleting;
    expect(await repo.getManifest(manifest.snapshotId)).toBeUndefined();
    expect(repo.cachedManifest(manifest.snapshotId)).toBeUndefined();
  });
});
