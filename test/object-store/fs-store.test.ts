import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { open, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FS_TEMP_DIR, FsStore, type ObjectStore } from '../../src/object-store/index.js';
import { tempFileName } from '../../src/object-store/fs-store.js';
import { collect, expectCode, tempDirs } from './helpers.js';
import { objectStoreSuite } from './suite.js';

const dirs = tempDirs('fs');
afterAll(() => dirs.cleanup());

for (const [name, options] of [['fs', {}], ['fs (durable)', { durable: true }], ['fs (through the page cache)', { direct: false }]] as const) {
  objectStoreSuite(
    name,
    {
      open: async () => FsStore.open({ root: await dirs.make(), ...options }),
      reopen: async (closed: ObjectStore) => FsStore.open({ root: (closed as FsStore).root, ...options }),
    },
    { keyAlsoPrefix: false },
  );
}

/** The pid of a process that has exited: what a crashed writer leaves behind. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid!;
}

const WRITER_OBJECT_SIZE = 32 << 20; // as in fixtures/fs-crash-writer.ts

/** Runs the writer until it has acknowledged a put and has a temp file open, then SIGKILLs it.
 *  Returns the highest acknowledged index. */
async function killWriterMidPut(root: string): Promise<number> {
  const script = fileURLToPath(new URL('./fixtures/fs-crash-writer.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, root], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  let acked = -1;
  let alive = true;
  void exited.then(() => (alive = false));
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (text: string) => {
    acked = Math.max(acked, ...text.trim().split('\n').map(Number));
  });
  const deadline = Date.now() + 30_000;
  while (alive && Date.now() < deadline) {
    if (acked >= 0 && (await readdir(join(root, FS_TEMP_DIR))).length > 0) break;
    await new Promise((resolve) => setTimeout(resolve, acked >= 0 ? 0 : 20));
  }
  if (!alive) throw new Error('the writer exited on its own');
  child.kill('SIGKILL');
  await exited;
  return acked;
}

describe('fs store', () => {
  it('keeps each object as a plain file at its key path under the root', async () => {
    const root = await dirs.make();
    const store = await FsStore.open({ root });
    await store.put('snapshots/snap-1/manifest', Buffer.from('{"blocks":[]}'));
    expect(await readFile(join(root, 'snapshots', 'snap-1', 'manifest'), 'utf8')).toBe('{"blocks":[]}');
    await store.delete('snapshots/snap-1/manifest');
    expect(await readdir(root)).toEqual([FS_TEMP_DIR]); // emptied directories are pruned
    await store.close();
  });

  it('hides temp files of a crashed put and removes them at open, sparing live writers', async () => {
    const root = await dirs.make();
    const first = await FsStore.open({ root });
    await first.put('blocks/a', Buffer.from('complete'));
    const tempDir = join(root, FS_TEMP_DIR);
    const crashed = tempFileName(await deadPid(), 'deadbeef', 1);
    const earlierSamePid = tempFileName(process.pid, 'beefdead', 7); // e.g. a container restart
    const liveWriter = tempFileName(process.ppid, 'cafecafe', 1); // another process sharing the dir
    for (const name of [crashed, earlierSamePid, liveWriter]) {
      await writeFile(join(tempDir, name), Buffer.alloc(1000, 1)); // half of some block
    }
    expect((await collect(first.list(''))).map((o) => o.key)).toEqual(['blocks/a']);
    await expectCode(first.get(`${FS_TEMP_DIR}/${crashed}`), 'INVALID_KEY');
    await expectCode(first.put(`${FS_TEMP_DIR}/x`, Buffer.from('x')), 'INVALID_KEY');
    await first.close();

    const second = await FsStore.open({ root });
    expect((await readdir(tempDir)).sort()).toEqual([liveWriter]);
    expect((await second.get('blocks/a')).toString()).toBe('complete');
    await second.close();
  });

  it('survives SIGKILL in the middle of a put: only whole objects, the temp file removed at open', async () => {
    const root = await dirs.make();
    const tempDir = join(root, FS_TEMP_DIR);
    // Kill the writer while its temp file exists. The rename may still win the race, so try again.
    let acked = -1;
    let leftBehind: string[] = [];
    for (let attempt = 0; attempt < 3 && leftBehind.length === 0; attempt++) {
      acked = await killWriterMidPut(root);
      leftBehind = await readdir(tempDir);
    }
    expect(leftBehind.length).toBeGreaterThan(0);

    const store = await FsStore.open({ root });
    expect(await readdir(tempDir)).toEqual([]); // the dead writer's temp file is gone
    const listed = await collect(store.list(''));
    expect(listed.length).toBeGreaterThanOrEqual(acked + 1); // every acknowledged put is there
    for (const { key, size } of listed) {
      expect(key).toMatch(/^blocks\/\d+$/);
      expect(size).toBe(WRITER_OBJECT_SIZE);
      const fill = Number(key.split('/')[1]) % 251;
      expect((await store.get(key)).equals(Buffer.alloc(WRITER_OBJECT_SIZE, fill))).toBe(true);
    }
    await store.close();
  });

  it('reads a range at its position, without reading the whole file', async () => {
    const root = await dirs.make();
    const store = await FsStore.open({ root });
    // A 3 GiB sparse file: readFile would refuse it (over 2 GiB), a positioned read does not care.
    const file = await open(join(root, 'huge'), 'w');
    await file.truncate(3 * 1024 ** 3);
    await file.write(Buffer.from('tail-bytes'), 0, 10, 3 * 1024 ** 3 - 10);
    await file.close();
    expect((await store.get('huge', { offset: 3 * 1024 ** 3 - 10, length: 100 })).toString()).toBe('tail-bytes');
    expect(await store.head('huge')).toEqual({ key: 'huge', size: 3 * 1024 ** 3 });
    expect((await stat(join(root, 'huge'))).blocks * 512).toBeLessThan(1024 ** 2); // still sparse
    await store.close();
  });
});
