/**
 * Child process of the kill-during-copy test: writes a seeded volume, snapshots it and lets the
 * (throttled) copy run until it is killed. Prints `snapshot <id>` and `progress <n>` lines.
 * Usage: node --import tsx copy-kill-child.ts <dataDir> <objectsDir> <seed>
 */
import { writeSync } from 'node:fs';
import { BlockStore, GiB } from '../../src/core/block-store.js';
import { CopyEngine } from '../../src/copy/copy-engine.js';
import { FsStore, ThrottleStore } from '../../src/object-store/index.js';
import { Rng } from '../support/random.js';
import { B, KILL_TEST_BLOCKS } from './env.js';

const [dataDir, objectsDir, seed] = process.argv.slice(2);
const say = (line: string) => writeSync(1, `${line}\n`);
const store = await BlockStore.open(dataDir!);
const objects = new ThrottleStore(await FsStore.open({ root: objectsDir! }), { bytesPerSecond: 8 * 1024 * 1024 });
const engine = await CopyEngine.open({ store, objects, checkpointEvery: 4, concurrency: 4 });
const vol = await store.createVolume({ size: GiB });
await store.write(vol.id, 0, new Rng(Number(seed)).bytes(KILL_TEST_BLOCKS * B));
engine.statuses.on('status', (s) => say(`progress ${s.progress}`));
const [snap] = await engine.createSnapshots([{ volumeId: vol.id }]);
say(`snapshot ${snap!.snapshotId}`);
await new Promise(() => undefined); // run until killed
