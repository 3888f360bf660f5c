/**
 * Child process of the crash test: runs the crash workload on a store until it is killed.
 * Prints `intent <op json>` before each operation and `ack <i>` once it is acknowledged,
 * with synchronous writes to stdout so that nothing acknowledged is still buffered in the child.
 * Usage: node --import tsx crash-child.ts <dataDir> <seed> <firstOp>
 */
import { writeSync } from 'node:fs';
import { BlockStore, GiB } from '../../src/core/block-store.js';
import { CRASH_BLOCK_SIZE, CRASH_VOLUME, crashOp, crashWriteData } from './crash-workload.js';

const [dir, seedArg, firstArg] = process.argv.slice(2);
const seed = Number(seedArg);
const say = (line: string) => writeSync(1, `${line}\n`);

const store = await BlockStore.open(dir!, { sweepDelayMs: 50 });
try {
  store.getVolume(CRASH_VOLUME);
} catch {
  await store.createVolume({ id: CRASH_VOLUME, size: GiB, blockSize: CRASH_BLOCK_SIZE });
}
const snapshots = (await store.listSnapshots(CRASH_VOLUME)).sort((a, b) => a.gen - b.gen).map((s) => s.id);
say('ready');
for (let i = Number(firstArg); ; i++) {
  const op = crashOp(seed, i, snapshots);
  say(`intent ${JSON.stringify(op)}`);
  if (op.kind === 'write') await store.write(CRASH_VOLUME, op.offset, crashWriteData(seed, op));
  else if (op.kind === 'snapshot') snapshots.push((await store.snapshot(CRASH_VOLUME, { id: op.id })).id);
  else await store.deleteSnapshot(snapshots.shift()!);
  say(`ack ${i}`);
}
