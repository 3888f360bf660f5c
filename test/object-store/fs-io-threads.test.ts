/**
 * The fs store's puts and gets run in worker threads (src/object-store/fs-io-threads.ts). The
 * conformance suite covers what a store does; these cover what the threads add: bytes taken at
 * the call whatever memory they live in, nothing left behind by a failure or a close, ordinary
 * buffers handed back, and a process that does not hang on idle threads.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, constants, openSync } from 'node:fs';
import { open, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FS_TEMP_DIR, FsStore } from '../../src/object-store/index.js';
import { openServedStore } from '../../src/object-store/served-store.js';
import { expectCode, tempDirs } from './helpers.js';

const dirs = tempDirs('fs-io');
afterAll(() => dirs.cleanup());

describe('fs store threads', () => {
  it('stores exactly the bytes given, from shared memory or a slice of a pooled buffer', async () => {
    const store = await FsStore.open({ root: await dirs.make() });
    const shared = Buffer.from(new SharedArrayBuffer(64 * 1024)).fill(7);
    await store.put('blocks/shared', shared);
    shared.fill(9); // reused by its owner as soon as the put resolved
    expect((await store.get('blocks/shared')).equals(Buffer.alloc(64 * 1024, 7))).toBe(true);

    const pooled = Buffer.from('a small object in the middle of the allocation pool');
    expect(pooled.byteOffset).toBeGreaterThan(0); // a view into a larger ArrayBuffer
    await store.put('small', pooled.subarray(2, 7));
    expect((await store.get('small')).toString()).toBe('small');

    // Ordinary memory reaches the thread as a copy moved there: the caller's buffer is whole
    // (not detached), and changing it afterwards changes nothing stored.
    const own = Buffer.allocUnsafeSlow(512 * 1024).fill(3);
    await store.put('blocks/own', own);
    expect(own.length).toBe(512 * 1024);
    own.fill(4);
    expect((await store.get('blocks/own')).equals(Buffer.alloc(512 * 1024, 3))).toBe(true);
    await store.close();
  });

  it('hands back ordinary buffers, ranges clipped at the end of the object', async () => {
    const store = await FsStore.open({ root: await dirs.make() });
    await store.put('o', Buffer.from('0123456789'));
    const whole = await store.get('o');
    expect(whole.buffer).toBeInstanceOf(ArrayBuffer);
    expect(whole.toString()).toBe('0123456789');
    expect((await store.get('o', { offset: 7, length: 100 })).toString()).toBe('789');
    expect((await store.get('o', { offset: 20, length: 5 })).length).toBe(0);
    await expectCode(store.get('missing'), 'OBJECT_NOT_FOUND');
    // The thread that read the bytes hashed them: what a download's check compares.
    const { body, sha256 } = await store.getWithSha256('o');
    expect(body.toString()).toBe('0123456789');
    expect(sha256).toBe(createHash('sha256').update('0123456789').digest('hex'));
    await expectCode(store.getWithSha256('missing'), 'OBJECT_NOT_FOUND');
    expect(store.stats()).toMatchObject({ gets: 4, bytesGot: 23, failures: 2 });
    await store.close();
  });

  it('reads recyclable objects into shared memory it reuses once handed back, direct or through the cache', async () => {
    const KiB512 = 512 * 1024;
    for (const direct of [true, false]) {
      const store = await FsStore.open({ root: await dirs.make(), direct });
      const a = randomBytes(KiB512);
      const b = randomBytes(KiB512);
      const odd = randomBytes(1000); // not in whole 4 KiB units: never direct
      await store.put('blocks/a', a);
      await store.put('blocks/b', b);
      await store.put('blocks/odd', odd);
      const sha = (x: Buffer) => createHash('sha256').update(x).digest('hex');

      const first = await store.getWithSha256('blocks/a', { recyclable: KiB512 });
      expect(first.body.equals(a), `direct ${direct}`).toBe(true);
      expect(first.sha256).toBe(sha(a));
      expect(first.body.buffer).toBeInstanceOf(SharedArrayBuffer);
      // Lent to the caller until handed back: the next read goes elsewhere.
      const second = await store.getWithSha256('blocks/b', { recyclable: KiB512 });
      expect(second.body.buffer).not.toBe(first.body.buffer);
      expect(first.body.equals(a)).toBe(true);
      store.recycle(first.body);
      store.recycle(first.body); // twice: the second is ignored
      store.recycle(Buffer.from(new SharedArrayBuffer(KiB512))); // not the store's: ignored
      const third = await store.getWithSha256('blocks/odd', { recyclable: KiB512 });
      expect(third.body.buffer).toBe(first.body.buffer); // the slot handed back, reused
      expect(third.body.equals(odd)).toBe(true);
      expect(third.sha256).toBe(sha(odd));
      const fourth = await store.getWithSha256('blocks/a', { recyclable: KiB512 });
      expect(fourth.body.buffer).not.toBe(first.body.buffer); // handed back once, lent once
      expect(second.body.equals(b)).toBe(true); // lent bodies are left alone
      // Larger than the slot, or not recyclable: an ordinary buffer of its own.
      const large = await store.getWithSha256('blocks/a', { recyclable: 4096 });
      expect(large.body.buffer).toBeInstanceOf(ArrayBuffer);
      expect(large.body.equals(a)).toBe(true);
      expect((await store.getWithSha256('blocks/b')).body.buffer).toBeInstanceOf(ArrayBuffer);
      await store.close();
    }
  });

  it('gives each job to the least busy thread: one blocked read holds up no other job', async () => {
    const root = await dirs.make();
    const store = await FsStore.open({ root, ioThreads: 2 });
    // Opening a FIFO to read blocks its thread until a writer opens it: a read that never ends, for now.
    execFileSync('mkfifo', [join(root, 'pipe')]);
    const stuck = store.get('pipe');
    // Taken in turn, every other job would queue behind it (and this would hang until the test's timeout).
    for (let i = 0; i < 4; i++) await store.put(`blocks/${i}`, Buffer.from(`object ${i}`));
    expect((await store.get('blocks/3')).toString()).toBe('object 3');
    await (await open(join(root, 'pipe'), 'w')).close(); // a writer came and went: the read opens, finds nothing, and ends
    expect((await stuck).length).toBe(0);
    await store.close();
  });

  it('starts its threads on first use, or at open for a server, whose first copy should not wait for them', async () => {
    const lazy = await FsStore.open({ root: await dirs.make(), ioThreads: 2 });
    expect(lazy.ioThreadsRunning).toBe(0);
    await lazy.put('o', Buffer.from('x'));
    expect(lazy.ioThreadsRunning).toBe(1); // one job: the least busy thread is the first
    await lazy.close();
    expect(lazy.ioThreadsRunning).toBe(0);

    const eager = await FsStore.open({ root: await dirs.make(), ioThreads: 3, startThreads: true });
    expect(eager.ioThreadsRunning).toBe(3);
    await eager.put('o', Buffer.from('y'));
    expect((await eager.get('o')).toString()).toBe('y');
    await eager.close();

    // The server's store: `--object-store fs:...` under its throttle.
    const { objects } = await openServedStore({ spec: `fs:${await dirs.make()}` });
    expect((objects.inner as FsStore).ioThreadsRunning).toBeGreaterThanOrEqual(2);
    await objects.close();
  });

  it('leaves no temp file behind a failed put', async () => {
    const root = await dirs.make();
    const store = await FsStore.open({ root });
    await store.put('a', Buffer.from('file'));
    await expectCode(store.put('a/b', Buffer.from('under a file')), 'KEY_CONFLICT');
    await expectCode(store.putIfAbsent('a/c', Buffer.from('under a file')), 'KEY_CONFLICT');
    expect(await readdir(join(root, FS_TEMP_DIR))).toEqual([]);
    expect((await store.get('a')).toString()).toBe('file');
    await store.close();
  });

  it('stores from a slice of an open file, reading it only when the object is absent', async () => {
    const root = await dirs.make();
    const store = await FsStore.open({ root });
    const source = join(root, 'source-file');
    await writeFile(source, Buffer.concat([Buffer.alloc(100, 1), Buffer.from('the slice'), Buffer.alloc(100, 2)]));
    const fd = openSync(source, 'r');
    try {
      expect(await store.putIfAbsentFromFile('blocks/x', { fd, offset: 100, length: 9 })).toBe(true);
      expect((await store.get('blocks/x')).toString()).toBe('the slice');
      // Present: not read at all, so a slice past the end of the file does not matter.
      expect(await store.putIfAbsentFromFile('blocks/x', { fd, offset: 10_000, length: 9 })).toBe(false);
      // Absent and past the end: an error, nothing stored, no temp file.
      await expectCode(store.putIfAbsentFromFile('blocks/y', { fd, offset: 150, length: 100 }), 'OBJECT_STORE_FAILURE');
      expect(await store.head('blocks/y')).toBeUndefined();
      expect(await readdir(join(root, FS_TEMP_DIR))).toEqual([]);
      expect(store.stats()).toMatchObject({ puts: 1, heads: 2, gets: 1, bytesPut: 9, failures: 1 }); // heads: the present one, then head()
    } finally {
      closeSync(fd);
    }
    await store.close();
  });

  it('writes objects in whole 4 KiB units past the page cache where the file system takes O_DIRECT', async () => {
    const root = await dirs.make();
    // Does this file system take direct writes? Asked the same way, independently of the store.
    let supported = true;
    try {
      closeSync(openSync(join(root, 'probe'), constants.O_WRONLY | constants.O_CREAT | constants.O_DIRECT));
    } catch (err) {
      if ((err as { code?: string }).code !== 'EINVAL') throw err;
      supported = false;
    }
    const block = randomBytes(512 * 1024);
    const source = join(root, 'source-file');
    await writeFile(source, Buffer.concat([Buffer.alloc(1000, 7), block])); // a slice at an unaligned offset
    const fd = openSync(source, 'r');
    try {
      for (const direct of [true, false]) {
        const store = await FsStore.open({ root: join(root, `store-${direct}`), direct });
        await store.put('blocks/a', block); // a block from memory
        expect(await store.putIfAbsentFromFile('blocks/b', { fd, offset: 1000, length: block.length })).toBe(true); // from a file
        await store.put('blocks/c', block.subarray(0, 4096 * 3 + 1)); // not whole 4 KiB units: through the cache
        await store.put('snapshots/m', Buffer.from('a manifest'));
        expect((await store.get('blocks/a')).equals(block)).toBe(true);
        expect((await store.get('blocks/b')).equals(block)).toBe(true);
        expect((await store.get('blocks/c')).equals(block.subarray(0, 4096 * 3 + 1))).toBe(true);
        expect((await store.getWithSha256('blocks/b')).sha256).toBe(createHash('sha256').update(block).digest('hex'));
        expect(store.writes).toEqual(direct && supported ? { direct: 2, buffered: 2 } : { direct: 0, buffered: 4 });
        expect(await readdir(join(root, `store-${direct}`, FS_TEMP_DIR))).toEqual([]);
        await store.close();
      }
    } finally {
      closeSync(fd);
    }
  });

  it('finishes the puts in flight before close resolves', async () => {
    const root = await dirs.make();
    const store = await FsStore.open({ root });
    const puts = Array.from({ length: 16 }, (_, i) => store.put(`blocks/${i}`, Buffer.alloc(1 << 20, i)));
    await store.close();
    await Promise.all(puts); // none was cut short
    expect(await readdir(join(root, FS_TEMP_DIR))).toEqual([]);
    const reopened = await FsStore.open({ root });
    for (let i = 0; i < 16; i++) expect((await reopened.get(`blocks/${i}`)).equals(Buffer.alloc(1 << 20, i))).toBe(true);
    await reopened.close();
  });

  // (That a put in flight holds the process open cannot be seen from here: tsx's loader thread
  // holds a child open anyway. Plain node shows it: an unreferenced worker lets a top-level
  // await exit with code 13 mid-job, which is why a thread is referenced while it has work.)
  it('lets a process that never closes the store exit once its puts are done', async () => {
    const root = await dirs.make();
    const code = `
      const { FsStore } = await import(${JSON.stringify(fileURLToPath(new URL('../../src/object-store/fs-store.ts', import.meta.url)))});
      const store = await FsStore.open({ root: ${JSON.stringify(root)} });
      await store.put('blocks/0', Buffer.alloc(8 << 20, 1));
      console.log('stored');
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000); // hung on an idle thread
    const [exitCode, signal] = (await once(child, 'exit')) as [number | null, string | null];
    clearTimeout(timer);
    expect({ exitCode, signal, out: out.trim() }).toEqual({ exitCode: 0, signal: null, out: 'stored' });
  }, 30_000);
});
