/**
 * The workload of the crash test, shared by the child that runs it and the parent that checks
 * it: operation `i` of a run with seed `s` is the same in both processes.
 */
import { Rng } from '../support/random.js';

export const CRASH_VOLUME = 'vol-crashtest000001';
export const CRASH_BLOCK_SIZE = 64 * 1024;
/** Writes land in the first 2 MiB, so blocks are rewritten often and snapshots share a lot. */
export const CRASH_SPAN = 32 * CRASH_BLOCK_SIZE;
export const MAX_SNAPSHOTS = 4;

export type CrashOp =
  | { i: number; kind: 'write'; offset: number; length: number }
  | { i: number; kind: 'snapshot'; id: string }
  | { i: number; kind: 'delete'; id: string };

/** What op `i` does, given the snapshots that exist (oldest first). */
export function crashOp(seed: number, i: number, snapshots: readonly string[]): CrashOp {
  const rng = new Rng(seed * 7919 + i);
  const roll = rng.next();
  if (roll < 0.1) return { i, kind: 'snapshot', id: `snap-crash-${i}` };
  if (roll < 0.16 && snapshots.length > MAX_SNAPSHOTS) return { i, kind: 'delete', id: snapshots[0]! };
  const small = rng.chance(0.5);
  const length = small ? 4096 * rng.int(1, 4) : rng.int(1, 3 * CRASH_BLOCK_SIZE);
  const offset = small ? 4096 * rng.int(0, CRASH_SPAN / 4096 - 4) : rng.int(0, CRASH_SPAN - length);
  return { i, kind: 'write', offset, length };
}

export function crashWriteData(seed: number, op: { i: number; length: number }): Buffer {
  return new Rng(seed * 104_729 + op.i).bytes(op.length);
}
