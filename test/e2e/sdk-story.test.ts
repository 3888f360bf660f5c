/**
 * The story with @aws-sdk/client-ec2 against `ebs-sim serve`: create a volume, write
 * through the data plane, snapshot, overwrite, wait with the SDK's snapshot_completed waiter,
 * restore, read back, and find the bytes from before the overwrite.
 */
import {
  CreateSnapshotCommand, CreateVolumeCommand, DescribeSnapshotsCommand, EC2Client, waitUntilSnapshotCompleted, waitUntilVolumeAvailable,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCliServer, type CliServer } from '../support/cli-server.js';
import { Rng, testSeed } from '../support/random.js';
import { getBytes, putBytes } from '../support/sim-server.js';

let server: CliServer;
let ec2: EC2Client;
beforeAll(async () => {
  // A slow copier (4 MiB/s) keeps the snapshot pending for a while: the waiter really waits.
  server = await startCliServer(['--copy-rate', '4MiB']);
  ec2 = new EC2Client({ region: 'us-east-1', endpoint: server.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
});
afterAll(async () => {
  ec2.destroy();
  const { code } = await server.stop();
  expect(code).toBe(0);
});

it('snapshot bytes are the ones acknowledged before CreateSnapshot', async () => {
  const seed = testSeed();
  const rng = new Rng(seed);
  const before = rng.bytes(3 * 1024 * 1024 + 17);
  const after = rng.bytes(before.length);
  const offset = 5 * 1024 * 1024 + 3;

  const vol = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 2, VolumeType: 'gp3' }));
  await waitUntilVolumeAvailable({ client: ec2, maxWaitTime: 20, minDelay: 1 }, { VolumeIds: [vol.VolumeId!] });
  expect((await putBytes(server.endpoint, vol.VolumeId!, offset, before)).status, `seed ${seed}`).toBe(200);

  const snap = await ec2.send(new CreateSnapshotCommand({ VolumeId: vol.VolumeId!, Description: 'before the overwrite' }));
  expect(snap.State).toBe('pending');
  expect((await putBytes(server.endpoint, vol.VolumeId!, offset, after)).status).toBe(200);

  const waited = await waitUntilSnapshotCompleted({ client: ec2, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { SnapshotIds: [snap.SnapshotId!] });
  expect(waited.state).toBe('SUCCESS');
  const done = (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snap.SnapshotId!] }))).Snapshots![0]!;
  expect([done.State, done.Progress]).toEqual(['completed', '100%']);

  const restored = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1b', SnapshotId: snap.SnapshotId }));
  expect(restored.Size).toBe(2);
  await waitUntilVolumeAvailable({ client: ec2, maxWaitTime: 20, minDelay: 1 }, { VolumeIds: [restored.VolumeId!] });
  const back = await getBytes(server.endpoint, restored.VolumeId!, offset, before.length);
  expect(back.equals(before), `seed ${seed}`).toBe(true);
  expect((await getBytes(server.endpoint, vol.VolumeId!, offset, after.length)).equals(after)).toBe(true);
});
