/**
 * The object store's garbage collection, amortised: a deletion queues its blocks and drops its
 * manifest; sweeps (one manifest listing each, batched) delete what nothing references.
 */
import { describe, expect, it } from 'vitest';
import { decodeManifest, manifestKey, MANIFEST_PREFIX } from '../../src/copy/manifest.js';
import { FaultStore, MemoryStore } from '../../src/object-store/index.js';
import type { ObjectInfo } from '../../src/object-store/object-store.js';
import { WrappedStore } from '../../src/object-store/wrapped-store.js';
import { Rng } from '../support/random.js';
import { B, blockKeys, copyEnv, type CopyEnv } from './env.js';

const rng = new Rng(11);

/** Snapshots of one volume, each after writing one new block of its own; returns their ids. */
async function chainWithOneUniqueBlockEach(env: CopyEnv, n: number, shared = 0): Promise<string[]> {
  const vol = await env.store.createVolume({ size: 1024 ** 3 });
  if (shared > 0) await env.store.write(vol.id, 0, rng.bytes(shared * B));
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    await env.store.write(vol.id, (shared + 1) * B, rng.bytes(B)); // the same block, new bytes each time
    const [s] = await env.engine.createSnapshots([{ volumeId: vol.id }]);
    expect(await env.engine.statuses.settled(s!.snapshotId)).toMatchObject({ state: 'completed' });
    ids.push(s!.snapshotId);
  }
  return ids;
}

/** Block keys the remaining manifests reference. */
async function referencedBlocks(env: CopyEnv): Promise<string[]> {
  const keys = new Set<string>();
  for await (const { key } of env.objects.list(MANIFEST_PREFIX)) {
    for (const sha of decodeManifest(await env.objects.get(key)).blocks.values()) keys.add(`blocks/${sha}`);
  }
  return [...keys].sort();
}

/** Lets a test act while a listing of manifests is half-way through. */
class GatedListStore extends WrappedStore {
  readonly kind = 'gated';
  gate: { reached: () => void; release: Promise<void> } | undefined;

  protected override async *_list(prefix: string): AsyncIterable<ObjectInfo> {
    let n = 0;
    for await (const info of this.inner.list(prefix)) {
      if (prefix === MANIFEST_PREFIX && ++n === 2 && this.gate) {
        this.gate.reached();
        await this.gate.release;
      }
      yield info;
    }
  }
}

describe('block collection', () => {
  it('a deletion only queues its blocks; one sweep, one manifest listing, collects a burst of deletions', async () => {
    const objects = new MemoryStore();
    const env = await copyEnv(objects, { collector: { minIntervalMs: 60_000 } });
    try {
      const ids = await chainWithOneUniqueBlockEach(env, 12, 2);
      const before = await blockKeys(objects);
      const lists = objects.stats().lists;
      for (const id of ids.slice(0, 10)) await env.engine.deleteSnapshot(id);
      expect(objects.stats().lists).toBe(lists); // no deletion listed the store
      for (const id of ids.slice(0, 10)) expect(await objects.head(manifestKey(id))).toBeUndefined();
      expect(await blockKeys(objects)).toEqual(before); // blocks wait for the sweep
      const listsBeforeSweep = objects.stats().lists;
      expect(await env.engine.collectGarbage()).toBe(10);
      expect(objects.stats().lists).toBe(listsBeforeSweep + 1);
      expect((await blockKeys(objects)).sort()).toEqual(await referencedBlocks(env));
      expect(await blockKeys(objects)).toHaveLength(2 + 2); // the shared blocks and the two kept snapshots' own
      const listsAfter = objects.stats().lists;
      expect(await env.engine.collectGarbage()).toBe(0); // nothing left queued: no listing either
      expect(objects.stats().lists).toBe(listsAfter);
    } finally {
      await env.close();
    }
  });

  it('sweeps on its own, soon after a deletion', async () => {
    const objects = new MemoryStore();
    const env = await copyEnv(objects, { collector: { minIntervalMs: 20 } });
    try {
      const [a, b] = await chainWithOneUniqueBlockEach(env, 2);
      await env.engine.deleteSnapshot(a!);
      await expect.poll(() => blockKeys(objects), { timeout: 10_000 }).toHaveLength(1);
      expect((await env.engine.readSnapshot(b!, 0, 2 * B)).subarray(B).equals(Buffer.alloc(B))).toBe(false);
    } finally {
      await env.close();
    }
  });

  it('keeps its queue across a restart, and a deletion whose manifest delete failed resumes and leaks nothing', async () => {
    const objects = new FaultStore(new MemoryStore());
    const env = await copyEnv(objects, { collector: { minIntervalMs: 60_000 }, retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
    try {
      const ids = await chainWithOneUniqueBlockEach(env, 4, 1);
      await env.engine.deleteSnapshot(ids[0]!);
      // The next deletion queues its block, then cannot delete its manifest.
      objects.addFault({ op: 'delete', keyPrefix: manifestKey(ids[1]!), always: true });
      await expect(env.engine.deleteSnapshot(ids[1]!)).rejects.toThrow(/delete of snapshots\/.*failed/);
      objects.clearFaults();
      await env.reopen({ collector: { minIntervalMs: 60_000 } }); // nothing swept before the restart
      expect(await objects.head(manifestKey(ids[1]!))).toBeUndefined(); // the open finished the deletion
      expect(await env.engine.collectGarbage()).toBe(2);
      expect((await blockKeys(objects)).sort()).toEqual(await referencedBlocks(env));
      expect(await blockKeys(objects)).toHaveLength(3);
      for (const id of ids.slice(2)) expect((await env.engine.readSnapshot(id, 0, 2 * B)).length).toBe(2 * B);
    } finally {
      await env.close();
    }
  });

  it('a sweep while a deletion is between queueing its blocks and dropping its manifest: they are collected, not leaked', async () => {
    const objects = new FaultStore(new MemoryStore());
    const env = await copyEnv(objects, { collector: { minIntervalMs: 60_000 } });
    try {
      const ids = await chainWithOneUniqueBlockEach(env, 3);
      objects.addFault({ op: 'delete', keyPrefix: manifestKey(ids[0]!), delayMs: 300 });
      const deleting = env.engine.deleteSnapshot(ids[0]!);
      await expect.poll(() => objects.unusedFaults().length, { timeout: 5_000 }).toBe(0); // its manifest delete hangs
      expect(await objects.head(manifestKey(ids[0]!))).toBeDefined();
      expect(await env.engine.collectGarbage()).toBe(1); // the manifest on its way out does not keep its block
      await deleting;
      expect((await blockKeys(objects)).sort()).toEqual(await referencedBlocks(env));
      expect(await blockKeys(objects)).toHaveLength(2);
    } finally {
      await env.close();
    }
  });

  it('a deletion racing a sweep: nothing referenced is deleted, and nothing is left behind', async () => {
    const objects = new GatedListStore(new MemoryStore());
    const env = await copyEnv(objects, { collector: { minIntervalMs: 60_000 } });
    try {
      // Four snapshots sharing two blocks; each has one of its own.
      const ids = await chainWithOneUniqueBlockEach(env, 4, 2);
      await env.engine.deleteSnapshot(ids[0]!);
      let reached!: () => void;
      let release!: () => void;
      const atGate = new Promise<void>((resolve) => (reached = resolve));
      objects.gate = { reached, release: new Promise<void>((resolve) => (release = resolve)) };
      const sweep = env.engine.collectGarbage();
      await atGate;
      // Mid-listing: two more deletions, one of a manifest the listing has passed, one not yet.
      await env.engine.deleteSnapshot(ids[1]!);
      await env.engine.deleteSnapshot(ids[3]!);
      objects.gate = undefined;
      release();
      await sweep;
      await env.engine.collectGarbage(); // what the racing deletions queued
      const left = (await blockKeys(objects)).sort();
      expect(left).toEqual(await referencedBlocks(env));
      expect(left).toHaveLength(3);
      expect((await env.engine.readSnapshot(ids[2]!, 0, 3 * B)).length).toBe(3 * B);
    } finally {
      await env.close();
    }
  });
});
