/**
 * Durability under kill -9: a child process writes, snapshots and deletes snapshots in a loop
 * and is killed at random moments, 20 times. After each kill the store is reopened: every
 * acknowledged write and snapshot must be there (the operation in flight may or may not be),
 * and fsck must find no missing chunk and no inconsistency.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BlockStore } from '../../src/core/block-store.js';
import { isCoreError } from '../../src/core/errors.js';
import { Rng, testSeed } from '../support/random.js';
import { SparseModel } from '../support/sparse-model.js';
import { tempDir } from '../support/temp-dir.js';
import { CRASH_BLOCK_SIZE, CRASH_SPAN, CRASH_VOLUME, crashWriteData, type CrashOp } from './crash-workload.js';

const KILLS = 20;
const seed = testSeed();
console.log(`crash test seed: ${seed} (replay with EBS_SIM_SEED=${seed})`);
const childScript = fileURLToPath(new URL('./crash-child.ts', import.meta.url));

/** Runs the child from op `first` and kills it after `killAfterMs`; returns what it printed. */
async function runAndKill(dir: string, first: number, killAfterMs: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', childScript, dir, String(seed), String(first)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const intents = new Map<number, CrashOp>();
  const acked: number[] = [];
  let killed = false;
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    if (line === 'ready') setTimeout(() => ((killed = true), child.kill('SIGKILL')), killAfterMs);
    else if (line.startsWith('intent ')) {
      const op = JSON.parse(line.slice(7)) as CrashOp;
      intents.set(op.i, op);
    } else if (line.startsWith('ack ')) acked.push(Number(line.slice(4)));
  });
  await new Promise((resolve) => child.on('close', resolve));
  if (!killed) throw new Error(`crash child exited on its own: ${stderr}`);
  return { intents, acked };
}

describe('kill -9 during writes and snapshots', () => {
  const tmp = tempDir();
  afterAll(() => tmp.remove());

  it(`loses nothing acknowledged across ${KILLS} kills (seed ${seed})`, { timeout: 240_000 }, async () => {
    const rng = new Rng(seed);
    let model = new SparseModel(CRASH_SPAN, CRASH_BLOCK_SIZE);
    let snapshots: Array<{ id: string; model: SparseModel }> = [];
    let next = 0;
    let totalAcked = 0;

    for (let round = 0; round < KILLS; round++) {
      const { intents, acked } = await runAndKill(tmp.dir, next, rng.int(150, 900));
      totalAcked += acked.length;
      // Replay the acknowledged operations on the model, in order.
      const apply = (op: CrashOp) => {
        if (op.kind === 'write') model.write(op.offset, crashWriteData(seed, op));
        else if (op.kind === 'snapshot') snapshots.push({ id: op.id, model: model.snapshot() });
        else snapshots = snapshots.filter((s) => s.id !== op.id);
      };
      for (const i of acked) apply(intents.get(i)!);
      const ackedSet = new Set(acked);
      const inFlight = [...intents.values()].find((op) => !ackedSet.has(op.i));

      const store = await BlockStore.open(tmp.dir, { sweepDelayMs: 0 });
      try {
        // The op in flight may or may not have landed; whichever it is must be whole.
        if (inFlight) {
          const withIt = model.snapshot();
          const landed = await landedInFlight(store, inFlight, model, withIt);
          if (landed) {
            if (inFlight.kind === 'write') model = withIt;
            else apply(inFlight);
          }
        }
        const live = await store.read(CRASH_VOLUME, 0, CRASH_SPAN);
        expect(live.equals(model.read(0, CRASH_SPAN)), `round ${round}: volume content`).toBe(true);
        const stored = (await store.listSnapshots(CRASH_VOLUME)).map((s) => s.id).sort();
        expect(stored, `round ${round}: snapshots`).toEqual(snapshots.map((s) => s.id).sort());
        for (const s of snapshots) {
          const got = await store.readSnapshot(s.id, 0, CRASH_SPAN);
          expect(got.equals(s.model.read(0, CRASH_SPAN)), `round ${round}: snapshot ${s.id}`).toBe(true);
        }
        const report = await store.fsck();
        expect(report.missingChunks, `round ${round}`).toEqual([]);
        expect(report.problems, `round ${round}`).toEqual([]);
        expect(report.ok, `round ${round}`).toBe(true);
      } finally {
        await store.close();
      }
      next = Math.max(next, ...intents.keys()) + 1;
    }
    expect(totalAcked).toBeGreaterThan(KILLS * 10); // the child really did work between kills
  });
});

/** Did the unacknowledged op land? Checks it is all or nothing. */
async function landedInFlight(store: BlockStore, op: CrashOp, before: SparseModel, after: SparseModel): Promise<boolean> {
  if (op.kind === 'write') {
    after.write(op.offset, crashWriteData(seed, op));
    const got = await store.read(CRASH_VOLUME, op.offset, op.length);
    const old = before.read(op.offset, op.length);
    const neu = after.read(op.offset, op.length);
    expect(got.equals(old) || got.equals(neu), `in-flight write ${op.i} is torn`).toBe(true);
    return got.equals(neu) && !old.equals(neu);
  }
  const exists = await store.getSnapshot(op.id).then(
    () => true,
    (e: unknown) => {
      if (isCoreError(e, 'SNAPSHOT_NOT_FOUND')) return false;
      throw e;
    },
  );
  return op.kind === 'snapshot' ? exists : !exists;
}
