/** `ebs-sim fsck`: exit 0 on a clean store, 1 when it finds problems, 2 when there is nothing to check. */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { CreateSnapshotCommand, CreateVolumeCommand, EC2Client, waitUntilSnapshotCompleted } from '@aws-sdk/client-ec2';
import { expect, it } from 'vitest';
import * as keys from '../../src/core/keys.js';
import { runCli, startCliServer } from '../support/cli-server.js';
import { putBytes } from '../support/sim-server.js';
import { tempDir } from '../support/temp-dir.js';

function levelDbDirs(root: string): string[] {
  const found = existsSync(join(root, 'CURRENT')) ? [root] : [];
  for (const e of readdirSync(root, { withFileTypes: true })) if (e.isDirectory()) found.push(...levelDbDirs(join(root, e.name)));
  return found;
}

it('reports a clean store, then the damage done to it', async () => {
  const tmp = tempDir();
  try {
    const dataDir = join(tmp.dir, 'db');
    const server = await startCliServer(['--data-dir', dataDir, '--object-store', `fs:${join(tmp.dir, 'obj')}`]);
    const ec2 = new EC2Client({ region: 'us-east-1', endpoint: server.endpoint, credentials: { accessKeyId: 'k', secretAccessKey: 's' } });
    const v = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
    await putBytes(server.endpoint, v, 0, Buffer.alloc(3 << 20, 7));
    const snap = (await ec2.send(new CreateSnapshotCommand({ VolumeId: v }))).SnapshotId!;
    await waitUntilSnapshotCompleted({ client: ec2, maxWaitTime: 20, minDelay: 0.2, maxDelay: 0.5 }, { SnapshotIds: [snap] });
    await putBytes(server.endpoint, v, 0, Buffer.alloc(1 << 20, 8));
    ec2.destroy();
    expect((await server.stop()).code).toBe(0);

    const clean = await runCli(['fsck', '--data-dir', dataDir]);
    expect([clean.code, clean.stdout]).toEqual([0, expect.stringMatching(/: clean\n {2}volumes 1, snapshots 1/)]);

    // Lose the volume record while its versions and snapshot remain: fsck must notice.
    // (In whichever LevelDB of the data dir holds them: the core may split its store in several.)
    for (const dir of levelDbDirs(dataDir)) {
      const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
      await db.open();
      for await (const key of db.keys(keys.prefixRange(keys.volumePrefix()))) await db.del(key);
      await db.close();
    }
    const damaged = await runCli(['fsck', '--data-dir', dataDir]);
    expect([damaged.code, damaged.stdout]).toEqual([1, expect.stringContaining('PROBLEMS FOUND')]);
    const json = await runCli(['fsck', '--data-dir', dataDir, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false });

    const missing = await runCli(['fsck', '--data-dir', join(tmp.dir, 'no-such-dir')]);
    expect([missing.code, missing.stderr]).toEqual([2, expect.stringContaining('no data directory')]);
  } finally {
    tmp.remove();
  }
});
