/**
 * CreateSnapshots and what snapshots of a running instance hold:
 *  - two volumes written in lockstep (A then B, each flushed) are never caught with B ahead of A
 *    by CreateSnapshots, across 50 rounds at random moments; two CreateSnapshot calls can be;
 *  - an instance crash drops unflushed writes, and the volume, its snapshots and fsck stay clean;
 *  - a snapshot of a running instance's root volume misses cached data; after a stop it does not.
 */
import {
  AttachVolumeCommand, CreateSnapshotCommand, CreateSnapshotsCommand, CreateVolumeCommand, DeleteSnapshotCommand,
  DescribeSnapshotsCommand, StopInstancesCommand, TerminateInstancesCommand, type EC2Client,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ec2Error } from '../support/ec2-error.js';
import { Rng, testSeed } from '../support/random.js';
import { getBytes, startSimServer, type SimServer } from '../support/sim-server.js';
import { Guest, launch } from './guest-client.js';

const KiB = 1024;
const BLOCK = 512 * KiB;
let s: SimServer;
let ec2: EC2Client;

beforeAll(async () => {
  s = await startSimServer({ sim: { instanceStateMs: 0, attachmentMs: 0, dirtyExpireSeconds: 3600 } });
  ec2 = s.client();
});
afterAll(() => s?.close());

async function attachNew(instanceId: string, device: string, tags: Array<{ Key: string; Value: string }> = []): Promise<string> {
  const v = (await ec2.send(new CreateVolumeCommand({
    AvailabilityZone: 'us-east-1a', Size: 1, ...(tags.length ? { TagSpecifications: [{ ResourceType: 'volume', Tags: tags }] } : {}),
  }))).VolumeId!;
  await ec2.send(new AttachVolumeCommand({ VolumeId: v, InstanceId: instanceId, Device: device }));
  return v;
}

/** Restores a snapshot into a new volume (EC2's way to read one) and reads `length` bytes at `offset`. */
async function restoreAndRead(snapshotId: string, offset: number, length: number): Promise<Buffer> {
  await s.sim.engine.statuses.settled(snapshotId);
  const v = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', SnapshotId: snapshotId }))).VolumeId!;
  return getBytes(s.endpoint, v, offset, length);
}

describe('CreateSnapshots', () => {
  it('snapshots every volume of the instance, or some: ExcludeBootVolume, ExcludeDataVolumeIds, CopyTagsFromSource', async () => {
    const { instanceId, rootVolumeId } = await launch(ec2);
    const a = await attachNew(instanceId, '/dev/sdf', [{ Key: 'app', Value: 'db' }]);
    const b = await attachNew(instanceId, '/dev/sdg');
    const all = await ec2.send(new CreateSnapshotsCommand({
      InstanceSpecification: { InstanceId: instanceId }, Description: 'whole instance',
      TagSpecifications: [{ ResourceType: 'snapshot', Tags: [{ Key: 'set', Value: 'nightly' }] }], CopyTagsFromSource: 'volume',
    }));
    expect(all.Snapshots!.map((x) => x.VolumeId).sort()).toEqual([rootVolumeId, a, b].sort());
    const ofA = all.Snapshots!.find((x) => x.VolumeId === a)!;
    expect(ofA).toMatchObject({ State: 'pending', Description: 'whole instance', VolumeSize: 1, OwnerId: '123456789012', Encrypted: false });
    expect(ofA.Tags).toEqual([{ Key: 'app', Value: 'db' }, { Key: 'set', Value: 'nightly' }]);
    expect(all.Snapshots!.find((x) => x.VolumeId === b)!.Tags).toEqual([{ Key: 'set', Value: 'nightly' }]);
    // One instant: every member starts at the same time.
    expect(new Set(all.Snapshots!.map((x) => x.StartTime!.getTime())).size).toBe(1);
    for (const x of all.Snapshots!) await s.sim.engine.statuses.settled(x.SnapshotId!);
    const described = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: all.Snapshots!.map((x) => x.SnapshotId!) }));
    expect(described.Snapshots!.every((x) => x.State === 'completed')).toBe(true);

    const some = await ec2.send(new CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: instanceId, ExcludeBootVolume: true, ExcludeDataVolumeIds: [b] } }));
    expect(some.Snapshots!.map((x) => x.VolumeId)).toEqual([a]);
    expect(some.Snapshots![0]!.Tags).toEqual([]);

    const bad: Array<[CreateSnapshotsCommand, string]> = [
      [new CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: 'i-0123456789abcdef0' } }), 'InvalidInstanceID.NotFound'],
      [new CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: instanceId, ExcludeDataVolumeIds: [rootVolumeId] } }), 'InvalidParameterValue'],
      [new CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: instanceId, ExcludeBootVolume: true, ExcludeDataVolumeIds: [a, b] } }), 'InvalidParameterValue'],
      [new CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: instanceId, ExcludeDataVolumeIds: ['vol-x'] } }), 'InvalidVolumeID.Malformed'],
    ];
    for (const [cmd, code] of bad) expect((await ec2Error(ec2.send(cmd))).name).toBe(code);
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
    expect((await ec2Error(ec2.send(new CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: instanceId } })))).name).toBe('IncorrectInstanceState');
  });
});

describe('crash consistency across volumes', () => {
  const SLOTS = 8;
  const counterBlock = (k: number) => {
    const b = Buffer.alloc(4 * KiB);
    for (let at = 0; at < b.length; at += 8) b.writeBigUInt64LE(BigInt(k), at);
    return b;
  };
  /** The highest counter found in a snapshot's slots (each slot is the first 4 KiB of an EBS block). */
  async function highest(server: SimServer, snapshotId: string): Promise<number> {
    let max = 0;
    for (let j = 0; j < SLOTS; j++) {
      const b = await server.sim.store.readSnapshot(snapshotId, j * BLOCK, 4 * KiB);
      const k = Number(b.readBigUInt64LE(0));
      expect(b.equals(counterBlock(k)), 'a slot holds one whole write').toBe(true);
      max = Math.max(max, k);
    }
    return max;
  }

  it('CreateSnapshots never catches B ahead of A in 50 rounds; two CreateSnapshot calls do', async () => {
    const seed = testSeed();
    const rng = new Rng(seed);
    const wt = await startSimServer({ sim: { instanceStateMs: 0, attachmentMs: 0, dirtyExpireSeconds: 3600 } });
    const c = wt.client();
    const attach = async (instanceId: string, device: string) => {
      const v = (await c.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
      await c.send(new AttachVolumeCommand({ VolumeId: v, InstanceId: instanceId, Device: device }));
      return v;
    };
    const highestIn = (snapshotId: string) => highest(wt, snapshotId);
    const { instanceId } = await launch(c);
    const a = await attach(instanceId, '/dev/sdf');
    const b = await attach(instanceId, '/dev/sdg');
    // Through the instance's devices, each write flushed, in-process (the calls the data plane
    // makes): a step then takes a few milliseconds, so a CreateSnapshots whose freezes were that
    // far apart would be caught between them.
    let k = 0;
    const step = async () => {
      k++;
      const slot = (k % SLOTS) * BLOCK;
      await wt.sim.services.guests.write({}, instanceId, 'sdf', slot, counterBlock(k));
      await wt.sim.services.guests.fsync({}, instanceId, 'sdf');
      await wt.sim.services.guests.write({}, instanceId, 'sdg', slot, counterBlock(k));
      await wt.sim.services.guests.fsync({}, instanceId, 'sdg');
    };
    let writing = true;
    const writer = (async () => {
      while (writing) await step();
    })();

    const gaps: number[] = [];
    try {
      for (let round = 0; round < 50; round++) {
        await new Promise((r) => setTimeout(r, rng.int(0, 10)));
        const set = await c.send(new CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: instanceId, ExcludeBootVolume: true } }));
        const snapA = set.Snapshots!.find((x) => x.VolumeId === a)!.SnapshotId!;
        const snapB = set.Snapshots!.find((x) => x.VolumeId === b)!.SnapshotId!;
        const [hA, hB] = [await highestIn(snapA), await highestIn(snapB)];
        expect(hB, `round ${round} (seed ${seed}): B at ${hB} is ahead of A at ${hA}`).toBeLessThanOrEqual(hA);
        expect(hA - hB, `round ${round} (seed ${seed})`).toBeLessThanOrEqual(1);
        gaps.push(hA - hB);
        for (const id of [snapA, snapB]) await c.send(new DeleteSnapshotCommand({ SnapshotId: id }));
      }
      expect(k, 'the writer kept writing while the snapshots were taken').toBeGreaterThan(50);
      console.log(`lockstep (seed ${seed}): ${k} steps written; CreateSnapshots caught A one step ahead in ${gaps.filter((g) => g === 1).length}/50 rounds`);

      // One volume at a time: the writer advances between the two calls (made deterministic here),
      // and the pair shows B ahead of A, a state the instance never was in.
      writing = false;
      await writer;
      const soloA = (await c.send(new CreateSnapshotCommand({ VolumeId: a }))).SnapshotId!;
      await step();
      const soloB = (await c.send(new CreateSnapshotCommand({ VolumeId: b }))).SnapshotId!;
      expect(await highestIn(soloB)).toBe((await highestIn(soloA)) + 1);
    } finally {
      writing = false;
      await writer;
      await wt.close();
    }
  });

  it('an instance crash drops unflushed writes; the volume and its snapshots stay consistent; fsck is clean', async () => {
    const { instanceId } = await launch(ec2);
    const v = await attachNew(instanceId, '/dev/sdf');
    const guest = new Guest(s.endpoint, instanceId);
    const rng = new Rng(44);
    const durable = rng.bytes(3 * BLOCK);
    await guest.write('sdf', 0, durable);
    await guest.fsync('sdf');
    const s1 = (await ec2.send(new CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: instanceId } }))).Snapshots!.find((x) => x.VolumeId === v)!.SnapshotId!;
    const lost = rng.bytes(BLOCK + 5000);
    await guest.write('sdf', BLOCK - 1000, lost); // over the durable bytes and past them
    const s2 = (await ec2.send(new CreateSnapshotCommand({ VolumeId: v }))).SnapshotId!;
    const crash = await guest.post('crash');
    expect(crash.bytes).toBe(Math.ceil((BLOCK - 1000 + lost.length) / 4096) * 4096 - Math.floor((BLOCK - 1000) / 4096) * 4096);

    const expected = Buffer.concat([durable, Buffer.alloc(BLOCK)]);
    expect((await guest.read('sdf', 0, expected.length)).equals(expected)).toBe(true);
    expect((await getBytes(s.endpoint, v, 0, expected.length)).equals(expected)).toBe(true);
    for (const snap of [s1, s2]) expect((await restoreAndRead(snap, 0, expected.length)).equals(expected)).toBe(true);

    // The instance goes on after its crash; what it flushes now is in the next snapshot.
    await guest.write('sdf', 0, Buffer.from('after the crash'));
    await guest.fsync('sdf');
    const s3 = (await ec2.send(new CreateSnapshotCommand({ VolumeId: v }))).SnapshotId!;
    expect((await restoreAndRead(s3, 0, 15)).toString()).toBe('after the crash');
    const report = await s.sim.store.fsck();
    expect([report.ok, report.missingChunks, report.problems]).toEqual([true, [], []]);
  });

  it("a snapshot of a running instance's root volume misses cached data; after StopInstances it does not", async () => {
    const { instanceId, rootVolumeId } = await launch(ec2);
    const guest = new Guest(s.endpoint, instanceId);
    const config = Buffer.from('# /etc/app.conf written by the guest, never fsynced\n');
    await guest.write('sda1', 64 * KiB, config);
    const running = (await ec2.send(new CreateSnapshotCommand({ VolumeId: rootVolumeId, Description: 'running' }))).SnapshotId!;
    expect((await restoreAndRead(running, 64 * KiB, config.length)).equals(Buffer.alloc(config.length))).toBe(true);

    await ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] }));
    const stopped = (await ec2.send(new CreateSnapshotCommand({ VolumeId: rootVolumeId, Description: 'stopped' }))).SnapshotId!;
    expect((await restoreAndRead(stopped, 64 * KiB, config.length)).equals(config)).toBe(true);
  });
});
