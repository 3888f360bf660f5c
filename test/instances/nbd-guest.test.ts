/**
 * `ebs-sim serve --nbd-port` with real qemu tools:
 *  1. qemu-img convert of a seeded random raw image into a volume export, then qemu-img compare;
 *  2. qemu-io writes a pattern through an instance's export (its page cache) and is killed before
 *     any flush: a snapshot, restored, lacks the pattern; with a flush first, it has it.
 * Plus LIST, and an open connection losing its device when the volume is detached.
 */
import { execFile, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AttachVolumeCommand, CreateSnapshotCommand, CreateVolumeCommand, DescribeSnapshotsCommand, EC2Client,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Simulator } from '../../src/simulator.js';
import { hasQemu, nbdUrl, qemuSkipReason, run } from '../nbd/qemu-tools.js';
import { startCliServer, type CliServer } from '../support/cli-server.js';
import { Rng, testSeed } from '../support/random.js';
import { getBytes } from '../support/sim-server.js';
import { tempDir } from '../support/temp-dir.js';
import { eventually, Guest, launch } from './guest-client.js';

const KiB = 1024;
const MiB = 1024 * KiB;

describe.skipIf(!hasQemu)(`NBD exports of ebs-sim serve, with qemu tools${qemuSkipReason}`, () => {
  let server: CliServer;
  let ec2: EC2Client;
  let nbdPort: number;

  beforeAll(async () => {
    server = await startCliServer(['--nbd-port', '0', '--dirty-expire', '3600']);
    nbdPort = Number(/nbd:\/\/127\.0\.0\.1:(\d+)\//.exec(server.stdout())![1]);
    ec2 = new EC2Client({ region: 'us-east-1', endpoint: server.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  });
  afterAll(async () => {
    ec2?.destroy();
    if (server) expect((await server.stop()).code).toBe(0);
  });

  const newVolume = async (sizeGiB = 1) => (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: sizeGiB }))).VolumeId!;

  /** Snapshot → completed → a new volume from it → the bytes at [offset, offset + length). */
  async function snapshotAndRestore(volumeId: string, offset: number, length: number): Promise<Buffer> {
    const snap = (await ec2.send(new CreateSnapshotCommand({ VolumeId: volumeId }))).SnapshotId!;
    await eventually(async () => (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snap] }))).Snapshots![0]!.State === 'completed', 30_000);
    const restored = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', SnapshotId: snap }))).VolumeId!;
    return getBytes(server.endpoint, restored, offset, length);
  }

  /** qemu-io ending with `sigraise 9`: killed like a crashed application, so qemu never sends its closing FLUSH. */
  function qemuIoThenKilled(url: string, ...cmds: string[]): Promise<{ signal: string | null; stdout: string }> {
    const args = ['-f', 'raw', '-t', 'writeback', url, ...[...cmds, 'sigraise 9'].flatMap((c) => ['-c', c])];
    return new Promise((resolve) => {
      execFile('qemu-io', args, (err, stdout) => resolve({ signal: (err as { signal?: string } | null)?.signal ?? null, stdout }));
    });
  }

  it(`qemu-img convert writes a seeded random image into a volume; qemu-img compare agrees`, async () => {
    const seed = testSeed();
    const rng = new Rng(seed);
    const image = rng.bytes(24 * MiB);
    image.fill(0, 4 * MiB, 6 * MiB); // a hole qemu-img sends as WRITE_ZEROES
    image.fill(0, 10 * MiB + 777, 11 * MiB + 3333);
    const file = join(server.dir, 'source.raw');
    writeFileSync(file, image);
    const v = await newVolume();
    const url = nbdUrl(nbdPort, v);
    await run('qemu-img', ['convert', '-n', '-f', 'raw', '-O', 'raw', file, url]);
    // compare reads the whole 1 GiB export: the image, then zeros.
    await run('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', file, url]);
    expect((await getBytes(server.endpoint, v, 0, image.length)).equals(image), `seed ${seed}`).toBe(true);
    // compare must be able to fail.
    await fetch(`${server.endpoint}/data/volumes/${v}?offset=${12 * MiB}`, { method: 'PUT', body: Buffer.from([image[12 * MiB]! ^ 0xff]) });
    await expect(run('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', file, url])).rejects.toThrow(/Content mismatch at offset 12582912/);
  });

  it('qemu-io through an instance export: unflushed writes miss the snapshot; flushed ones are in it', async () => {
    const { instanceId } = await launch(ec2);
    const v = await newVolume();
    await ec2.send(new AttachVolumeCommand({ VolumeId: v, InstanceId: instanceId, Device: '/dev/sdf' }));
    const url = nbdUrl(nbdPort, `${instanceId}/sdf`);
    const guest = new Guest(server.endpoint, instanceId);

    const noFlush = await qemuIoThenKilled(url, 'write -P 0xab 0 64k');
    expect([noFlush.signal, noFlush.stdout]).toEqual(['SIGKILL', expect.stringContaining('wrote 65536/65536 bytes at offset 0')]);
    expect((await guest.describe()).devices.find((d) => d.name === 'sdf')!.dirtyBytes).toBe(64 * KiB);
    // Another connection (and the data plane) share the instance's cache: they see the pattern.
    await run('qemu-io', ['-f', 'raw', '-t', 'writeback', '-r', url, '-c', 'read -P 0xab 0 64k']);
    expect((await snapshotAndRestore(v, 0, 64 * KiB)).equals(Buffer.alloc(64 * KiB))).toBe(true);

    const flushed = await qemuIoThenKilled(url, 'write -P 0xcd 64k 64k', 'flush');
    expect(flushed.signal).toBe('SIGKILL');
    expect((await guest.describe()).dirtyBytes).toBe(0);
    // FLUSH wrote back the whole shared cache: both patterns are in the snapshot now.
    const after = await snapshotAndRestore(v, 0, 128 * KiB);
    expect(after.equals(Buffer.concat([Buffer.alloc(64 * KiB, 0xab), Buffer.alloc(64 * KiB, 0xcd)]))).toBe(true);
  });

  it.skipIf(!hasQemuNbd())('LIST names every volume and every device of a running instance', async () => {
    const { instanceId, rootVolumeId } = await launch(ec2);
    const { stdout } = await run('qemu-nbd', ['--list', '-b', '127.0.0.1', '-p', String(nbdPort)]);
    expect(stdout).toContain(`export: '${rootVolumeId}'`);
    expect(stdout).toContain(`export: '${instanceId}/sda1'`);
    expect(stdout).toContain('behind its page cache');
  });
});

function hasQemuNbd(): boolean {
  return spawnSync('qemu-nbd', ['--version'], { stdio: 'ignore' }).status === 0;
}

describe('an instance export follows its attachment', () => {
  it('a device opened for NBD fails once its volume is detached, and writes are then refused', async () => {
    const tmp = tempDir();
    const sim = await Simulator.open({ dataDir: join(tmp.dir, 'db'), objectStore: 'memory:', instanceStateMs: 0, attachmentMs: 0 });
    try {
      const ctx = { accountId: '123456789012', region: 'us-east-1' };
      const r = await sim.services.instances.run(ctx, { imageId: 'ami-1', minCount: 1, maxCount: 1 });
      const id = r.instances[0]!.instanceId;
      const v = (await sim.services.volumes.create(ctx, { availabilityZone: 'us-east-1a', sizeGiB: 1 })).volumeId;
      await sim.services.volumes.attach(ctx, { volumeId: v, instanceId: id, device: '/dev/sdf' });
      const resolver = sim.nbdResolver();
      expect(await resolver.open('i-0123456789abcdef0/sdf', {})).toBeUndefined();
      const dev = (await resolver.open(`${id}/sdf`, {}))!;
      await dev.write(0, Buffer.from('kept'), { fua: false });
      expect(sim.services.guests.describe({}, id).devices.find((d) => d.name === 'sdf')!.dirtyBytes).toBe(4096);
      await dev.close?.(); // a connection closing leaves the shared cache alone
      expect(sim.services.guests.describe({}, id).dirtyBytes).toBe(4096);
      const again = (await resolver.open(`${id}/sdf`, {}))!;
      await sim.services.volumes.detach(ctx, { volumeId: v });
      expect((await sim.services.volumes.read({}, v, 0, 4)).toString()).toBe('kept');
      await expect(again.write(0, Buffer.from('late'), { fua: false })).rejects.toMatchObject({ code: 'ATTACHMENT_NOT_FOUND' });
      expect(await resolver.open(`${id}/sdf`, {})).toBeUndefined();
      const list = await resolver.list({});
      expect(list.map((e) => e.name)).toContain(v);
      expect(list.map((e) => e.name)).not.toContain(`${id}/sdf`);
    } finally {
      await sim.close();
      tmp.remove();
    }
  });
});
