/** POST /_ebs-sim/reset (with --allow-reset) wipes everything and leaves a working server. */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CreateSnapshotCommand, CreateVolumeCommand, DescribeSnapshotsCommand, DescribeVolumesCommand, waitUntilSnapshotCompleted } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { putBytes, startSimServer, type SimServer } from '../support/sim-server.js';

let s: SimServer;
beforeAll(async () => {
  s = await startSimServer({ app: { allowReset: true } });
});
afterAll(() => s.close());

it('wipes volumes, snapshots and uploaded objects, then serves again', async () => {
  const ec2 = s.client();
  const v = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
  await putBytes(s.endpoint, v, 0, Buffer.alloc(1 << 20, 1));
  const snap = (await ec2.send(new CreateSnapshotCommand({ VolumeId: v }))).SnapshotId!;
  await waitUntilSnapshotCompleted({ client: ec2, maxWaitTime: 20, minDelay: 0.2, maxDelay: 0.5 }, { SnapshotIds: [snap] });
  const objects = join(s.dir, 'objects');
  expect(readdirSync(objects).length).toBeGreaterThan(0);

  const res = await fetch(`${s.endpoint}/_ebs-sim/reset`, { method: 'POST' });
  expect([res.status, await res.json()]).toEqual([200, { status: 'reset' }]);
  expect((await ec2.send(new DescribeVolumesCommand({}))).Volumes).toEqual([]);
  expect((await ec2.send(new DescribeSnapshotsCommand({}))).Snapshots).toEqual([]);
  expect(!existsSync(objects) || readdirSync(objects).every((d) => readdirSync(join(objects, d)).length === 0)).toBe(true);
  expect((await s.sim.store.fsck()).volumes).toBe(0);
  expect((await fetch(`${s.endpoint}/_ebs-sim/health`)).status).toBe(200);
  expect((await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId).toMatch(/^vol-/);
});

it("answers at moto's /moto-api/reset too, whatever the body and content type (no 415)", async () => {
  const ec2 = s.client();
  const cases: Array<[string, RequestInit]> = [
    ['/moto-api/reset', { method: 'POST' }],
    // What Python's urllib sends for data=b"": an empty form.
    ['/moto-api/reset', { method: 'POST', body: '', headers: { 'content-type': 'application/x-www-form-urlencoded' } }],
    ['/_ebs-sim/reset', { method: 'POST', body: '', headers: { 'content-type': 'application/x-www-form-urlencoded' } }],
    ['/_ebs-sim/reset', { method: 'POST', body: '{"anything": 1}', headers: { 'content-type': 'application/json' } }],
    ['/moto-api/reset', { method: 'POST', body: Buffer.from([0, 1, 2]), headers: { 'content-type': 'application/octet-stream' } }],
  ];
  for (const [path, init] of cases) {
    await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }));
    const res = await fetch(`${s.endpoint}${path}`, init);
    expect([path, res.status, await res.json()]).toEqual([path, 200, { status: 'reset' }]);
    expect((await ec2.send(new DescribeVolumesCommand({}))).Volumes).toEqual([]);
  }
});
