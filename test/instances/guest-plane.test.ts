/**
 * The simulated page cache through the guest data plane (/data/instances/...), over real HTTP:
 * what stays dirty, what writes it back (fsync, sync, the expire interval, stop, reboot, detach),
 * what drops it (crash, forced detach, terminate), freeze/thaw, and the JSON errors.
 */
import {
  AttachVolumeCommand, CreateSnapshotCommand, CreateVolumeCommand, DetachVolumeCommand, RebootInstancesCommand,
  StartInstancesCommand, StopInstancesCommand, TerminateInstancesCommand, type EC2Client,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../support/random.js';
import { getBytes, startSimServer, type SimServer } from '../support/sim-server.js';
import { eventually, Guest, launch } from './guest-client.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const rng = new Rng(5);
let s: SimServer;
let ec2: EC2Client;

beforeAll(async () => {
  s = await startSimServer({ sim: { instanceStateMs: 0, attachmentMs: 0, dirtyExpireSeconds: 3600 } });
  ec2 = s.client();
});
afterAll(() => s?.close());

/** A running instance with a 1 GiB volume at /dev/sdf. */
async function withDisk(client = ec2, server = s): Promise<{ guest: Guest; instanceId: string; volumeId: string; rootVolumeId: string }> {
  const { instanceId, rootVolumeId } = await launch(client);
  const volumeId = (await client.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
  await client.send(new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: instanceId, Device: '/dev/sdf' }));
  return { guest: new Guest(server.endpoint, instanceId), instanceId, volumeId, rootVolumeId };
}

const zeros = (n: number) => Buffer.alloc(n);

describe('guest writes and the page cache', () => {
  it('a write is dirty: the guest reads it back, the volume and a snapshot do not hold it until fsync', async () => {
    const { guest, volumeId } = await withDisk();
    const data = rng.bytes(10_000);
    await guest.write('sdf', 5000, data);
    expect((await guest.read('sdf', 5000, data.length)).equals(data)).toBe(true);
    expect((await getBytes(s.endpoint, volumeId, 5000, data.length)).equals(zeros(data.length))).toBe(true);
    const view = await guest.describe();
    expect(view.devices.find((d) => d.name === 'sdf')).toMatchObject({ device: '/dev/sdf', volumeId, dirtyBytes: 3 * 4 * KiB, frozen: false, root: false });
    expect(view.dirtyBytes).toBe(12 * KiB);

    const before = (await ec2.send(new CreateSnapshotCommand({ VolumeId: volumeId }))).SnapshotId!;
    expect(await guest.fsync('sdf')).toBe(12 * KiB);
    expect((await guest.describe()).dirtyBytes).toBe(0);
    const after = (await ec2.send(new CreateSnapshotCommand({ VolumeId: volumeId }))).SnapshotId!;
    expect((await getBytes(s.endpoint, volumeId, 5000, data.length)).equals(data)).toBe(true);
    expect((await s.sim.store.readSnapshot(before, 5000, data.length)).equals(zeros(data.length))).toBe(true);
    expect((await s.sim.store.readSnapshot(after, 5000, data.length)).equals(data)).toBe(true);
  });

  it('streams writes larger than a data-plane piece; sync writes back every device', async () => {
    const { guest, volumeId, rootVolumeId } = await withDisk();
    const big = rng.bytes(9 * MiB + 77);
    await guest.write('sdf', 3 * MiB - 5, big);
    await guest.write('sda1', 0, Buffer.from('root fs'));
    expect((await guest.read('sdf', 3 * MiB - 5, big.length)).equals(big)).toBe(true);
    const sync = await guest.post('sync');
    expect(sync.devices.map((d) => d.volumeId).sort()).toEqual([volumeId, rootVolumeId].sort());
    expect(sync.bytes).toBeGreaterThanOrEqual(big.length + 7);
    expect((await guest.describe()).dirtyBytes).toBe(0);
    expect((await getBytes(s.endpoint, volumeId, 3 * MiB - 5, big.length)).equals(big)).toBe(true);
    expect((await getBytes(s.endpoint, rootVolumeId, 0, 7)).toString()).toBe('root fs');
  });

  it('a crash loses what was not written back, and says how much', async () => {
    const { guest, volumeId } = await withDisk();
    await guest.write('sdf', 0, Buffer.alloc(8 * KiB, 0xaa));
    await guest.fsync('sdf');
    await guest.write('sdf', 4 * KiB, Buffer.alloc(12 * KiB, 0xbb)); // one flushed page overwritten, two new ones
    const crash = await guest.post('crash');
    expect(crash).toMatchObject({ bytes: 12 * KiB, devices: [{ device: '/dev/sdf', volumeId, bytes: 12 * KiB }] });
    const expected = Buffer.concat([Buffer.alloc(8 * KiB, 0xaa), zeros(8 * KiB)]);
    expect((await guest.read('sdf', 0, 16 * KiB)).equals(expected)).toBe(true);
    expect((await getBytes(s.endpoint, volumeId, 0, 16 * KiB)).equals(expected)).toBe(true);
    expect((await guest.describe()).state).toBe('running'); // it rebooted
  });

  it('stop, reboot and detach write the cache back; a forced detach and a terminate drop it', async () => {
    const { guest, instanceId, volumeId, rootVolumeId } = await withDisk();
    const mark = (c: string) => Buffer.from(c.repeat(100));
    const onVolume = async (v: string) => (await getBytes(s.endpoint, v, 0, 100)).toString();

    await guest.write('sdf', 0, mark('s'));
    await ec2.send(new RebootInstancesCommand({ InstanceIds: [instanceId] }));
    expect(await onVolume(volumeId)).toBe('s'.repeat(100));

    await guest.write('sdf', 0, mark('t'));
    await guest.write('sda1', 0, mark('r'));
    await ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] }));
    expect([await onVolume(volumeId), await onVolume(rootVolumeId)]).toEqual(['t'.repeat(100), 'r'.repeat(100)]);
    await ec2.send(new StartInstancesCommand({ InstanceIds: [instanceId] }));

    await guest.write('sdf', 0, mark('d'));
    await ec2.send(new DetachVolumeCommand({ VolumeId: volumeId }));
    expect(await onVolume(volumeId)).toBe('d'.repeat(100));

    await ec2.send(new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: instanceId, Device: '/dev/sdg' }));
    await guest.write('sdg', 0, mark('f'));
    await ec2.send(new DetachVolumeCommand({ VolumeId: volumeId, Force: true }));
    expect(await onVolume(volumeId)).toBe('d'.repeat(100));

    await ec2.send(new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: instanceId, Device: '/dev/sdf' }));
    await guest.write('sdf', 0, mark('x'));
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
    await eventually(async () => (await fetch(`${s.endpoint}/data/volumes/${volumeId}?offset=0&length=100`)).status === 200);
    expect(await onVolume(volumeId)).toBe('d'.repeat(100));
  });

  it('freeze writes back, then holds writes until thaw', async () => {
    const { guest, volumeId } = await withDisk();
    await guest.write('sdf', 0, Buffer.from('before'));
    const frozen = await guest.post('devices/sdf/freeze');
    expect(frozen.bytes).toBe(4 * KiB);
    expect((await getBytes(s.endpoint, volumeId, 0, 6)).toString()).toBe('before');
    expect((await guest.describe()).devices.find((d) => d.name === 'sdf')!.frozen).toBe(true);
    let done = false;
    const held = guest.write('sdf', 0, Buffer.from('during')).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(done).toBe(false);
    expect((await guest.read('sdf', 0, 6)).toString()).toBe('before'); // reads go on
    await guest.post('thaw');
    await held;
    expect((await guest.read('sdf', 0, 6)).toString()).toBe('during');
    expect((await getBytes(s.endpoint, volumeId, 0, 6)).toString()).toBe('before');
  });

  it('answers JSON errors with codes and statuses', async () => {
    const { guest, instanceId } = await withDisk();
    const expectError = async (res: Promise<Response>, status: number, code: string) => {
      const r = await res;
      expect([r.status, ((await r.json()) as { code: string }).code]).toEqual([status, code]);
    };
    await expectError(fetch(`${s.endpoint}/data/instances/i-0123456789abcdef0/devices/sdf?offset=0&length=1`), 404, 'INSTANCE_NOT_FOUND');
    await expectError(fetch(`${s.endpoint}/data/instances/i-zzz`), 400, 'INSTANCE_ID_MALFORMED');
    await expectError(guest.raw('GET', '/devices/sdq?offset=0&length=1'), 404, 'ATTACHMENT_NOT_FOUND');
    await expectError(guest.raw('POST', '/devices/sdq/fsync'), 404, 'ATTACHMENT_NOT_FOUND');
    await expectError(guest.raw('GET', '/devices/sdf?offset=0'), 400, 'MISSING_PARAMETER');
    await expectError(guest.raw('GET', `/devices/sdf?offset=${1024 * MiB - 1}&length=2`), 416, 'OFFSET_OUT_OF_RANGE');
    await expectError(guest.raw('PUT', `/devices/sdf?offset=${1024 * MiB - 1}`, Buffer.from('xy')), 416, 'OFFSET_OUT_OF_RANGE');
    await ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] }));
    await expectError(guest.raw('PUT', '/devices/sdf?offset=0', Buffer.from('x')), 409, 'INCORRECT_INSTANCE_STATE');
    await expectError(guest.raw('POST', '/crash'), 409, 'INCORRECT_INSTANCE_STATE');
    expect((await guest.describe()).state).toBe('stopped'); // describing still works
  });
});

describe('the dirty-expire interval', () => {
  it('writes back pages older than --dirty-expire; 0 is write-through', async () => {
    const [expiring, through] = await Promise.all([
      startSimServer({ sim: { instanceStateMs: 0, attachmentMs: 0, dirtyExpireSeconds: 1 } }),
      startSimServer({ sim: { instanceStateMs: 0, attachmentMs: 0, dirtyExpireSeconds: 0 } }),
    ]);
    try {
      const a = await withDisk(expiring.client(), expiring);
      await a.guest.write('sdf', 0, Buffer.from('expires'));
      expect((await getBytes(expiring.endpoint, a.volumeId, 0, 7)).equals(zeros(7))).toBe(true);
      await eventually(async () => (await getBytes(expiring.endpoint, a.volumeId, 0, 7)).toString() === 'expires', 5000);
      expect((await a.guest.describe()).dirtyBytes).toBe(0);

      const b = await withDisk(through.client(), through);
      await b.guest.write('sdf', 0, Buffer.from('through'));
      expect((await getBytes(through.endpoint, b.volumeId, 0, 7)).toString()).toBe('through');
    } finally {
      await Promise.all([expiring.close(), through.close()]);
    }
  });
});
