/**
 * A 256 MiB seeded image with holes and a partial last block, uploaded and downloaded as coldsnap
 * does (coldsnap-like.ts). EC2's snapshot_completed waiter waits for the seal; a volume restored
 * from the snapshot reads back identical through the data plane; deduplicated blocks are counted.
 */
import { EBSClient } from '@aws-sdk/client-ebs';
import { CreateVolumeCommand, DescribeSnapshotsCommand, waitUntilSnapshotCompleted, type EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng, testSeed } from '../support/random.js';
import { getBytes, startSimServer, type SimServer } from '../support/sim-server.js';
import { BLOCK, downloadImage, uploadImage } from './coldsnap-like.js';

const MiB = 1024 * 1024;
let s: SimServer;
let ec2: EC2Client;
let ebs: EBSClient;

beforeAll(async () => {
  s = await startSimServer();
  ec2 = s.client();
  ebs = new EBSClient({ region: 'us-east-1', endpoint: s.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
});
afterAll(async () => {
  ebs?.destroy();
  await s?.close();
});

/** Random blocks, runs of zero blocks (holes), one block repeated (dedup), a partial tail. */
function seededImage(seed: number): Buffer {
  const rng = new Rng(seed);
  const image = Buffer.alloc(256 * MiB - 100 * 1024);
  const repeated = rng.bytes(BLOCK);
  for (let at = 0; at < image.length; at += BLOCK) {
    const roll = rng.next();
    if (roll < 0.3) continue; // a hole
    (roll < 0.4 ? repeated : rng.bytes(BLOCK)).copy(image, at);
  }
  return image;
}

describe('a coldsnap-like client', () => {
  it('round-trips a 256 MiB image with holes, and a restore of it reads back identical', async () => {
    const seed = testSeed();
    const image = seededImage(seed);
    const { snapshotId, blocksSent } = await uploadImage(ebs, image);
    const holes = Math.ceil(image.length / BLOCK) - blocksSent;
    expect(holes, `seed ${seed}`).toBeGreaterThan(50);

    await waitUntilSnapshotCompleted({ client: ec2, maxWaitTime: 120, minDelay: 1, maxDelay: 1 }, { SnapshotIds: [snapshotId] });
    const described = (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }))).Snapshots![0]!;
    expect(described).toMatchObject({ State: 'completed', Progress: '100%', VolumeSize: 1, VolumeId: 'vol-ffffffff' });
    const status = s.sim.engine.statuses.status(snapshotId)!;
    expect(status.bytesDeduplicated, 'the repeated block is stored once').toBeGreaterThan(0);
    expect(status.bytesUploaded + status.bytesDeduplicated).toBe(blocksSent * BLOCK);

    const downloaded = await downloadImage(ebs, snapshotId);
    expect(downloaded.length).toBe(1024 * MiB);
    expect(downloaded.subarray(0, image.length).equals(image), `seed ${seed}`).toBe(true);
    expect(downloaded.subarray(image.length).every((b) => b === 0)).toBe(true);

    const volumeId = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', SnapshotId: snapshotId }))).VolumeId!;
    for (let at = 0; at < image.length; at += 64 * MiB) {
      const n = Math.min(64 * MiB, image.length - at);
      expect((await getBytes(s.endpoint, volumeId, at, n)).equals(image.subarray(at, at + n)), `seed ${seed}, at ${at}`).toBe(true);
    }
    // ~20 s on a quiet 2-core machine; three times that when other work shares it.
  }, 180_000);
});
