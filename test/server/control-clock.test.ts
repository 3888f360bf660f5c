/**
 * `POST /_ebs-sim/clock` (with --allow-control): simulated time moves forward for everything
 * that waits, and no test sleeps on the wall clock for it.
 */
import { randomBytes } from 'node:crypto';
import {
  AttachVolumeCommand, CreateSnapshotCommand, CreateVolumeCommand, DescribeInstancesCommand, DescribeSnapshotsCommand, DescribeVolumesCommand, type EC2Client,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ec2Error } from '../support/ec2-error.js';
import { getBytes, putBytes, startSimServer, type SimServer } from '../support/sim-server.js';
import { Guest, launch } from '../instances/guest-client.js';

let s: SimServer;
let ec2: EC2Client;

const clock = async (method: 'GET' | 'POST', body?: unknown) => {
  const res = await fetch(`${s.endpoint}/_ebs-sim/clock`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  return { status: res.status, body: (await res.json()) as { now?: string; code?: string; message?: string } };
};

beforeAll(async () => {
  // Long waits on purpose: the instance stays pending 10 minutes, writes sit dirty 30 minutes,
  // snapshots of one volume are an hour apart, unless the clock is advanced.
  s = await startSimServer({
    app: { allowControl: true },
    sim: { faultInjection: true, instanceStateMs: 600_000, attachmentMs: 600_000, dirtyExpireSeconds: 1800, snapshotIntervalSeconds: 3600 },
  });
  ec2 = s.client();
});
afterAll(() => s?.close());

describe('the simulated clock', () => {
  it('moves forward, shows in answers, and refuses to go back', async () => {
    const before = Date.parse((await clock('GET')).body.now!);
    expect(Math.abs(before - Date.now())).toBeLessThan(5_000);
    const after = await clock('POST', { advanceSeconds: 86_400 });
    expect(after.status).toBe(200);
    expect(Date.parse(after.body.now!) - before).toBeGreaterThanOrEqual(86_400_000);
    const vol = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }));
    expect(vol.CreateTime!.getTime() - Date.now()).toBeGreaterThan(86_000_000); // a day ahead of the wall clock
    for (const bad of [{ advanceSeconds: -1 }, { advanceSeconds: 'soon' }, {}, [1]]) {
      const r = await clock('POST', bad);
      expect([r.status, r.body.code], JSON.stringify(bad)).toEqual([400, 'BAD_REQUEST']);
    }
  });

  it('settles instances and attachments, and writes back expired dirty pages, without sleeping', async () => {
    const { instanceId } = await launch(ec2, { Placement: { AvailabilityZone: 'us-east-1a' } });
    const state = async () => (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }))).Reservations![0]!.Instances![0]!.State!.Name;
    expect(await state()).toBe('pending');
    await clock('POST', { advanceSeconds: 601 });
    expect(await state()).toBe('running');
    const vol = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
    await ec2.send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: instanceId, Device: '/dev/sdf' }));
    const attachment = async () => (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [vol] }))).Volumes![0]!.Attachments![0]!.State;
    expect(await attachment()).toBe('attaching');
    await clock('POST', { advanceSeconds: 601 });
    expect(await attachment()).toBe('attached');

    const guest = new Guest(s.endpoint, instanceId);
    const data = randomBytes(64 * 1024);
    await guest.write('sdf', 0, data);
    expect((await getBytes(s.endpoint, vol, 0, data.length)).equals(Buffer.alloc(data.length))).toBe(true); // only in the cache
    await clock('POST', { advanceSeconds: 1000 });
    expect((await getBytes(s.endpoint, vol, 0, data.length)).equals(Buffer.alloc(data.length))).toBe(true); // not old enough yet
    await clock('POST', { advanceSeconds: 801 }); // 30 minutes since the write: the answer waits for the writeback
    expect((await getBytes(s.endpoint, vol, 0, data.length)).equals(data)).toBe(true);
  });

  it('lets the snapshot interval pass', async () => {
    const vol = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
    await putBytes(s.endpoint, vol, 0, randomBytes(4096));
    await ec2.send(new CreateSnapshotCommand({ VolumeId: vol }));
    expect((await ec2Error(ec2.send(new CreateSnapshotCommand({ VolumeId: vol })))).name).toBe('SnapshotCreationPerVolumeRateExceeded');
    await clock('POST', { advanceSeconds: 3601 });
    const second = await ec2.send(new CreateSnapshotCommand({ VolumeId: vol }));
    expect(second.SnapshotId).toMatch(/^snap-/);
    // Its start and completion times both follow the simulated clock, hours ahead of the wall's.
    await s.sim.engine.statuses.settled(second.SnapshotId!);
    const done = (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [second.SnapshotId!] }))).Snapshots![0]!;
    expect(done.State).toBe('completed');
    expect(done.StartTime!.getTime() - Date.now()).toBeGreaterThan(3_600_000);
    expect(done.CompletionTime!.getTime()).toBeGreaterThanOrEqual(done.StartTime!.getTime());
    expect(done.CompletionTime!.getTime() - Date.now()).toBeGreaterThan(3_600_000);
  });
});
