/** A core store and a copy engine over a given object store, in a temp dir, for copy tests. */
import { BlockStore, GiB } from '../../src/core/block-store.js';
import { CopyEngine, type CopyEngineOptions } from '../../src/copy/copy-engine.js';
import type { CopyStatus } from '../../src/copy/copy-status.js';
import type { ObjectStore } from '../../src/object-store/object-store.js';
import { tempDir } from '../support/temp-dir.js';

export const B = 512 * 1024;
/** Blocks the kill-during-copy child writes and snapshots. */
export const KILL_TEST_BLOCKS = 64;

export interface CopyEnv {
  dir: string;
  store: BlockStore;
  engine: CopyEngine;
  objects: ObjectStore;
  /** Every status the engine published, in order. */
  events: CopyStatus[];
  /** Closes engine and store (not the object store), and reopens both on the same data. */
  reopen(options?: Partial<CopyEngineOptions>): Promise<void>;
  close(): Promise<void>;
}

export async function copyEnv(objects: ObjectStore, options: Partial<CopyEngineOptions> = {}): Promise<CopyEnv> {
  const tmp = tempDir('ebs-sim-copy-');
  const env = { dir: tmp.dir, objects, events: [] as CopyStatus[] } as CopyEnv;
  const open = async (extra: Partial<CopyEngineOptions>) => {
    env.store = await BlockStore.open(tmp.dir, { sweepDelayMs: 0 });
    env.engine = await CopyEngine.open({ store: env.store, objects, retry: { attempts: 6, baseDelayMs: 5, maxDelayMs: 20 }, ...options, ...extra });
    env.engine.statuses.on('status', (s) => env.events.push(s));
  };
  await open({});
  env.reopen = async (extra = {}) => {
    await env.engine.close();
    await env.store.close();
    await open(extra);
  };
  env.close = async () => {
    await env.engine.close();
    await env.store.close();
    tmp.remove();
  };
  return env;
}

export const volumeSize = GiB;

/** Keys under `blocks/` in the store. */
export async function blockKeys(objects: ObjectStore): Promise<string[]> {
  const keys: string[] = [];
  for await (const { key } of objects.list('blocks/')) keys.push(key);
  return keys;
}
