/**
 * A copy killed mid-way (kill -9) resumes at the next start without uploading again what was
 * already uploaded, and completes; fsck and a manifest check then find nothing missing. If the
 * store lost what the checkpoint says was uploaded, the resumed copy uploads it again.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { BlockStore } from '../../src/core/block-store.js';
import { CopyEngine } from '../../src/copy/copy-engine.js';
import { decodeManifest, manifestKey } from '../../src/copy/manifest.js';
import { FsStore } from '../../src/object-store/index.js';
import { Rng, testSeed } from '../support/random.js';
import { tempDir } from '../support/temp-dir.js';
import { B, blockKeys, KILL_TEST_BLOCKS } from './env.js';

const seed = testSeed();
const child = fileURLToPath(new URL('./copy-kill-child.ts', import.meta.url));

/** Runs the copy child until the copy reaches 30%, then kills it (kill -9). */
async function killMidCopy(dataDir: string, objectsDir: string): Promise<{ snapshotId: string; killedAt: number }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, dataDir, objectsDir, String(seed)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let snapshotId = '';
  let killedAt = -1;
  for await (const line of createInterface({ input: proc.stdout })) {
    if (line.startsWith('snapshot ')) snapshotId = line.slice(9);
    const progress = line.startsWith('progress ') ? Number(line.slice(9)) : -1;
    if (progress >= 30 && killedAt < 0) {
      killedAt = progress;
      proc.kill('SIGKILL');
    }
  }
  expect(killedAt).toBeGreaterThanOrEqual(30);
  expect(killedAt).toBeLessThan(100);
  return { snapshotId, killedAt };
}

/** Every block the manifest names is stored, and the snapshot reads back the seeded bytes. */
async function checkComplete(engine: CopyEngine, objects: FsStore, snapshotId: string): Promise<void> {
  const manifest = decodeManifest(await objects.get(manifestKey(snapshotId)));
  expect(manifest.blocks.size).toBe(KILL_TEST_BLOCKS);
  for (const digest of manifest.blocks.values()) expect(await objects.head(`blocks/${digest}`)).toBeDefined();
  const expected = new Rng(seed).bytes(KILL_TEST_BLOCKS * B);
  expect((await engine.readSnapshot(snapshotId, 0, expected.length)).equals(expected)).toBe(true);
}

interface Resumed {
  snapshotId: string;
  killedAt: number;
  store: BlockStore;
  engine: CopyEngine;
  objects: FsStore;
}

/**
 * Kills a copy at 30%, lets `meanwhile` act on its object store (the server down), then reopens
 * the core and the engine on the same data and runs `check`.
 */
async function resumeAfterKill(meanwhile: (objects: FsStore) => Promise<void>, check: (r: Resumed) => Promise<void>): Promise<void> {
  const data = tempDir();
  const objectsDir = tempDir();
  try {
    const { snapshotId, killedAt } = await killMidCopy(data.dir, objectsDir.dir);
    const objects = await FsStore.open({ root: objectsDir.dir });
    await meanwhile(objects);
    const store = await BlockStore.open(data.dir);
    const engine = await CopyEngine.open({ store, objects });
    try {
      await check({ snapshotId, killedAt, store, engine, objects });
    } finally {
      await engine.close();
      await store.close();
      await objects.close();
    }
  } finally {
    data.remove();
    objectsDir.remove();
  }
}

it(`resumes a copy killed mid-way without re-uploading (seed ${seed})`, { timeout: 120_000 }, async () => {
  let uploadedBefore = new Set<string>();
  await resumeAfterKill(
    async (objects) => void (uploadedBefore = new Set(await blockKeys(objects))),
    async ({ snapshotId, killedAt, store, engine, objects }) => {
      const resumedAt = engine.statuses.status(snapshotId)!;
      expect(resumedAt.state).toBe('pending');
      expect(resumedAt.progress).toBeGreaterThanOrEqual(killedAt); // persisted, never back
      const done = await engine.statuses.settled(snapshotId);
      expect(done).toMatchObject({ state: 'completed', progress: 100, blocksDone: KILL_TEST_BLOCKS });
      // Only blocks missing at the restart were uploaded (plus the manifest).
      expect(objects.stats().puts).toBe(KILL_TEST_BLOCKS - uploadedBefore.size + 1);
      expect(uploadedBefore.size).toBeGreaterThan(0);
      await checkComplete(engine, objects, snapshotId);
      const report = await store.fsck();
      expect(report.missingChunks).toEqual([]);
      expect(report.ok).toBe(true);
    },
  );
});

it(`uploads again what the store lost while the copy was down (seed ${seed})`, { timeout: 120_000 }, async () => {
  await resumeAfterKill(
    async (objects) => {
      // The store comes back empty (a bucket recreated), as the checkpoint still says 30%.
      const lost = await blockKeys(objects);
      expect(lost.length).toBeGreaterThan(0);
      for (const key of lost) await objects.delete(key);
    },
    async ({ snapshotId, killedAt, engine, objects }) => {
      expect(engine.statuses.status(snapshotId)!.progress).toBeGreaterThanOrEqual(killedAt); // still never back
      const done = await engine.statuses.settled(snapshotId);
      expect(done).toMatchObject({ state: 'completed', progress: 100, blocksDone: KILL_TEST_BLOCKS });
      expect(objects.stats().puts).toBe(KILL_TEST_BLOCKS + 1); // every block, then the manifest
      await checkComplete(engine, objects, snapshotId);
    },
  );
});
