/**
 * The EBS direct APIs through @aws-sdk/client-ebs on the snapshots CreateSnapshot froze: list what
 * each holds, fetch each block (the SDK checks nothing itself, so the test checks the checksums),
 * and ListChangedBlocks between two snapshots of a volume names exactly the overwritten blocks.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  EBSClient, GetSnapshotBlockCommand, ListChangedBlocksCommand, ListSnapshotBlocksCommand, type ChangedBlock,
} from '@aws-sdk/client-ebs';
import { CreateSnapshotCommand, CreateVolumeCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { putBytes, startSimServer, type SimServer } from '../support/sim-server.js';

const BLOCK = 512 * 1024;
let s: SimServer;
let ec2: EC2Client;
let ebs: EBSClient;

beforeAll(async () => {
  s = await startSimServer();
  ec2 = s.client();
  ebs = new EBSClient({ region: 'us-east-1', endpoint: s.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
});
afterAll(async () => {
  ebs?.destroy();
  await s?.close();
});

async function snapshot(volumeId: string): Promise<string> {
  const id = (await ec2.send(new CreateSnapshotCommand({ VolumeId: volumeId }))).SnapshotId!;
  expect((await s.sim.engine.statuses.settled(id)).state).toBe('completed');
  return id;
}

async function fetchBlock(snapshotId: string, index: number, token: string): Promise<Buffer> {
  const out = await ebs.send(new GetSnapshotBlockCommand({ SnapshotId: snapshotId, BlockIndex: index, BlockToken: token }));
  const data = Buffer.from(await out.BlockData!.transformToByteArray());
  expect(out.DataLength).toBe(data.length);
  expect(out.ChecksumAlgorithm).toBe('SHA256');
  expect(out.Checksum).toBe(createHash('sha256').update(data).digest('base64'));
  return data;
}

describe('the direct APIs on CreateSnapshot snapshots', () => {
  it('lists, fetches and compares what two snapshots of a volume froze', async () => {
    const volumeId = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
    const first = randomBytes(8 * BLOCK);
    expect((await putBytes(s.endpoint, volumeId, 0, first)).status).toBe(200);
    const snap1 = await snapshot(volumeId);

    // Overwrite blocks 1 and 5 (5 with a few bytes only), write block 20 for the first time.
    const again = Buffer.from(first);
    randomBytes(BLOCK).copy(again, BLOCK);
    again.write('changed', 5 * BLOCK + 100);
    const fresh = randomBytes(BLOCK);
    await putBytes(s.endpoint, volumeId, BLOCK, again.subarray(BLOCK, 2 * BLOCK));
    await putBytes(s.endpoint, volumeId, 5 * BLOCK + 100, Buffer.from('changed'));
    await putBytes(s.endpoint, volumeId, 20 * BLOCK, fresh);
    const snap2 = await snapshot(volumeId);

    const listed = await ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: snap1 }));
    expect(listed).toMatchObject({ VolumeSize: 1, BlockSize: BLOCK });
    expect(listed.Blocks!.map((b) => b.BlockIndex)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(listed.ExpiryTime!.getTime()).toBeGreaterThan(Date.now() + 6 * 24 * 3600 * 1000);
    for (const b of listed.Blocks!) {
      expect((await fetchBlock(snap1, b.BlockIndex!, b.BlockToken!)).equals(first.subarray(b.BlockIndex! * BLOCK, (b.BlockIndex! + 1) * BLOCK))).toBe(true);
    }

    const changed = await ebs.send(new ListChangedBlocksCommand({ FirstSnapshotId: snap1, SecondSnapshotId: snap2 }));
    const blocks: ChangedBlock[] = changed.ChangedBlocks!;
    expect(blocks.map((b) => b.BlockIndex)).toEqual([1, 5, 20]);
    expect(blocks.map((b) => [b.FirstBlockToken !== undefined, b.SecondBlockToken !== undefined])).toEqual([[true, true], [true, true], [false, true]]);
    for (const b of blocks) {
      const i = b.BlockIndex!;
      if (b.FirstBlockToken) expect((await fetchBlock(snap1, i, b.FirstBlockToken)).equals(first.subarray(i * BLOCK, (i + 1) * BLOCK))).toBe(true);
      const want = i === 20 ? fresh : again.subarray(i * BLOCK, (i + 1) * BLOCK);
      expect((await fetchBlock(snap2, i, b.SecondBlockToken!)).equals(want)).toBe(true);
    }

    // Without a first snapshot: every block of the second; and pages that follow NextToken.
    const all = await ebs.send(new ListChangedBlocksCommand({ SecondSnapshotId: snap2 }));
    expect(all.ChangedBlocks!.map((b) => b.BlockIndex)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 20]);
    const fromFive = await ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: snap2, StartingBlockIndex: 5 }));
    expect(fromFive.Blocks!.map((b) => b.BlockIndex)).toEqual([5, 6, 7, 20]);
  });

  it('compares across snapshots by what the epoch index says was written, omitting blocks written back to the same bytes', async () => {
    const volumeId = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
    const base = randomBytes(200 * BLOCK);
    await putBytes(s.endpoint, volumeId, 0, base);
    const s1 = await snapshot(volumeId);
    const block = (i: number) => base.subarray(i * BLOCK, (i + 1) * BLOCK);
    await putBytes(s.endpoint, volumeId, 2 * BLOCK, Buffer.from(block(2))); // the same bytes again
    await putBytes(s.endpoint, volumeId, 4 * BLOCK, randomBytes(BLOCK)); // changed, then changed back below
    await putBytes(s.endpoint, volumeId, 3 * BLOCK, Buffer.alloc(BLOCK)); // zeros: a hole in s3
    await snapshot(volumeId);
    await putBytes(s.endpoint, volumeId, 4 * BLOCK, Buffer.from(block(4)));
    const changedIdx = Array.from({ length: 150 }, (_, k) => 50 + k);
    // A byte unlike the one there (a fixed byte would match random bytes in one block of 256).
    for (const i of changedIdx) await putBytes(s.endpoint, volumeId, i * BLOCK + 7, Buffer.from([base[i * BLOCK + 7]! ^ 0xff]));
    const s3 = await snapshot(volumeId);

    const spy = vi.spyOn(s.sim.store, 'blocksChangedBetween');
    const seen: ChangedBlock[] = [];
    let next: string | undefined;
    do {
      const page = await ebs.send(new ListChangedBlocksCommand({ FirstSnapshotId: s1, SecondSnapshotId: s3, MaxResults: 100, NextToken: next }));
      seen.push(...page.ChangedBlocks!);
      next = page.NextToken;
    } while (next);
    expect(seen.map((b) => b.BlockIndex)).toEqual([3, ...changedIdx]);
    expect([seen[0]!.FirstBlockToken !== undefined, seen[0]!.SecondBlockToken]).toEqual([true, undefined]);
    expect(spy).toHaveBeenCalledTimes(1); // one epoch scan for every page of the listing
    expect(await spy.mock.results[0]!.value).toBeInstanceOf(Uint32Array);
    spy.mockRestore();
    const reversed = await ebs.send(new ListChangedBlocksCommand({ FirstSnapshotId: s3, SecondSnapshotId: s1 }));
    expect(reversed.ChangedBlocks!.map((b) => b.BlockIndex)).toEqual([3, ...changedIdx]);
  });
});
