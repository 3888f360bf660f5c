/**
 * Where the file system refuses O_DIRECT, the fs store writes and reads snapshot blocks through
 * the page cache instead, and the bench's direct-write baseline reports none. ramfs refuses it
 * (EINVAL at open: it has no direct I/O), where tmpfs takes it since Linux 6.6; mounting one
 * needs root on a machine that allows mounts, as this project's machines do. Elsewhere these
 * tests are skipped, saying why.
 */
import { execFileSync } from 'node:child_process';
import { CreateSnapshotCommand, CreateVolumeCommand } from '@aws-sdk/client-ec2';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { plainDirectWrites } from '../../src/bench/baselines.js';
import { BlockData } from '../../src/bench/block-data.js';
import { FS_TEMP_DIR, FsStore } from '../../src/object-store/index.js';
import { getBytes, putBytes, startSimServer } from '../support/sim-server.js';
import { takesDirect } from '../support/takes-direct.js';

const mountPoint = mkdtempSync(join(tmpdir(), 'ebs-sim-ramfs-'));
const mounted = (() => {
  try {
    execFileSync('mount', ['-t', 'ramfs', 'ramfs', mountPoint], { stdio: 'ignore' });
    return true;
  } catch {
    return false; // not root, or no mounts allowed here
  }
})();
afterAll(() => {
  if (mounted) execFileSync('umount', [mountPoint]);
  rmSync(mountPoint, { recursive: true, force: true });
});

describe.skipIf(!mounted)(`on a file system that refuses O_DIRECT (ramfs)${mounted ? '' : ': skipped, ramfs could not be mounted here (needs root and mounts allowed)'}`, () => {
  it('is such a file system', () => {
    expect(takesDirect(mountPoint)).toBe(false);
  });

  it('the fs store writes and reads whole blocks through the page cache, the same bytes', async () => {
    const root = join(mountPoint, 'store');
    const block = randomBytes(512 * 1024);
    const source = join(mountPoint, 'source-file');
    writeFileSync(source, Buffer.concat([Buffer.alloc(1000, 7), block]));
    const fd = openSync(source, constants.O_RDONLY);
    const store = await FsStore.open({ root, startThreads: true });
    try {
      await store.put('blocks/a', block);
      expect(await store.putIfAbsentFromFile('blocks/b', { fd, offset: 1000, length: block.length })).toBe(true);
      expect(store.writes).toEqual({ direct: 0, buffered: 2 }); // both would have gone direct elsewhere
      expect((await store.get('blocks/a')).equals(block)).toBe(true);
      // A hashed, recyclable get asks for a direct read: refused, it reads through the cache.
      const { body, sha256 } = await store.getWithSha256('blocks/b', { recyclable: block.length });
      expect(body.equals(block)).toBe(true);
      expect(sha256).toBe(createHash('sha256').update(block).digest('hex'));
      store.recycle(body);
      expect(readdirSync(join(root, FS_TEMP_DIR))).toEqual([]);
    } finally {
      await store.close();
      closeSync(fd);
    }
  });

  it('a server with its objects there completes snapshots, the bytes restored exactly', async () => {
    // --timing instant: CreateSnapshot copies before it answers, so its answer is the copy's outcome.
    const server = await startSimServer({ sim: { objectStore: `fs:${join(mountPoint, 'served')}`, timing: 'instant' } });
    try {
      const ec2 = server.client();
      const { VolumeId } = await ec2.send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: 'us-east-1a' }));
      const data = randomBytes(4 * 512 * 1024);
      expect((await putBytes(server.endpoint, VolumeId!, 0, data)).status).toBe(200);
      const snap = await ec2.send(new CreateSnapshotCommand({ VolumeId }));
      expect([snap.State, snap.StateMessage]).toEqual(['completed', undefined]); // was: error, a KeyConflict on each thread's first block
      const restored = await ec2.send(new CreateVolumeCommand({ SnapshotId: snap.SnapshotId, AvailabilityZone: 'us-east-1a' }));
      expect((await getBytes(server.endpoint, restored.VolumeId!, 0, data.length)).equals(data)).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('the bench measures no plain direct writes there', async () => {
    expect(await plainDirectWrites(join(mountPoint, 'baseline'), new BlockData({ kind: 'random' }), 4)).toBeUndefined();
  });
});
