/**
 * The direct APIs' documented limits through @aws-sdk/client-ebs: per-snapshot and per-account
 * request rates, and 100 pending snapshots. The server's wall clock stands still, so a one-second
 * window holds however many requests the test sends; advancing the simulated clock opens the next.
 * Also: --timing instant makes CompleteSnapshot answer once the snapshot is sealed.
 */
import { randomBytes } from 'node:crypto';
import { CompleteSnapshotCommand, GetSnapshotBlockCommand, ListSnapshotBlocksCommand, PutSnapshotBlockCommand, StartSnapshotCommand, type EBSClient } from '@aws-sdk/client-ebs';
import { DescribeSnapshotsCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimServer, type SimServer } from '../support/sim-server.js';
import { BLOCK, ebsClient, expectEbsError, putBlock, sha256 } from './direct-support.js';

const FROZEN = Date.parse('2026-06-01T00:00:00Z');

describe('request rates and the pending limit', () => {
  let s: SimServer;
  let ebs: EBSClient;
  beforeAll(async () => {
    s = await startSimServer({ sim: { wallClock: () => FROZEN } });
    ebs = ebsClient(s.endpoint);
  });
  afterAll(async () => {
    ebs?.destroy();
    await s?.close();
  });
  const nextSecond = () => s.sim.controls.advanceClock(1);

  it('throttles StartSnapshot past 10 a second for the account, and lets it through in the next second', async () => {
    await nextSecond();
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push((await ebs.send(new StartSnapshotCommand({ VolumeSize: 1 }))).SnapshotId!);
    await expectEbsError(ebs.send(new StartSnapshotCommand({ VolumeSize: 1 })), 'RequestThrottledException', 'ACCOUNT_THROTTLED');
    await nextSecond();
    for (const id of ids) await ebs.send(new CompleteSnapshotCommand({ SnapshotId: id, ChangedBlocksCount: 0 }));
  });

  it('throttles a snapshot\'s 1,001st block request of a second (RESOURCE_LEVEL_THROTTLE), then the account\'s', async () => {
    await nextSecond();
    const a = (await ebs.send(new StartSnapshotCommand({ VolumeSize: 1 }))).SnapshotId!;
    const b = (await ebs.send(new StartSnapshotCommand({ VolumeSize: 1 }))).SnapshotId!;
    // Each request counts, whether or not its block is accepted: a short one costs the test little.
    const tiny = Buffer.from('x');
    const short = (id: string) => ebs.send(new PutSnapshotBlockCommand({
      SnapshotId: id, BlockIndex: 0, BlockData: tiny, DataLength: 1, Checksum: sha256(tiny), ChecksumAlgorithm: 'SHA256',
    }));
    const results = await Promise.allSettled(Array.from({ length: 1000 }, () => short(a)));
    expect(results.every((r) => r.status === 'rejected' && (r.reason as { Reason?: string }).Reason === 'INVALID_PARAMETER_VALUE')).toBe(true);
    await expectEbsError(putBlock(ebs, a, 0, randomBytes(BLOCK)), 'RequestThrottledException', 'RESOURCE_LEVEL_THROTTLE');
    // The account has used its 1,000 puts this second too: another snapshot is throttled for the account.
    await expectEbsError(putBlock(ebs, b, 0, randomBytes(BLOCK)), 'RequestThrottledException', 'ACCOUNT_THROTTLED');

    await nextSecond();
    await putBlock(ebs, a, 0, randomBytes(BLOCK));
    await ebs.send(new CompleteSnapshotCommand({ SnapshotId: a, ChangedBlocksCount: 1 }));
    await ebs.send(new CompleteSnapshotCommand({ SnapshotId: b, ChangedBlocksCount: 0 }));
    expect((await s.sim.engine.statuses.settled(a)).state).toBe('completed');

    // Reads: GetSnapshotBlock per snapshot, ListSnapshotBlocks at 50 a second.
    await nextSecond();
    const token = (await ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: a }))).Blocks![0]!.BlockToken!;
    const gets = await Promise.allSettled(Array.from({ length: 1000 }, () => ebs.send(new GetSnapshotBlockCommand({ SnapshotId: a, BlockIndex: 1, BlockToken: token }))));
    expect(gets.every((r) => r.status === 'rejected' && (r.reason as { Reason?: string }).Reason === 'INVALID_BLOCK_TOKEN')).toBe(true);
    await expectEbsError(ebs.send(new GetSnapshotBlockCommand({ SnapshotId: a, BlockIndex: 0, BlockToken: token })), 'RequestThrottledException', 'RESOURCE_LEVEL_THROTTLE');
    for (let i = 0; i < 49; i++) await ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: a }));
    await expectEbsError(ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: a })), 'RequestThrottledException', 'ACCOUNT_THROTTLED');
  });

  it('refuses a 101st pending snapshot with ConcurrentLimitExceededException', async () => {
    const pending = (await s.client().send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }))).Snapshots!.filter((x) => x.State === 'pending').length;
    expect(pending).toBe(0);
    const ids: string[] = [];
    while (ids.length < 100) {
      await nextSecond();
      for (let i = 0; i < 10; i++) ids.push((await ebs.send(new StartSnapshotCommand({ VolumeSize: 1 }))).SnapshotId!);
    }
    await nextSecond();
    await expectEbsError(ebs.send(new StartSnapshotCommand({ VolumeSize: 1 })), 'ConcurrentLimitExceededException');
    await ebs.send(new CompleteSnapshotCommand({ SnapshotId: ids[0]!, ChangedBlocksCount: 0 }));
    expect((await s.sim.engine.statuses.settled(ids[0]!)).state).toBe('completed');
    expect((await ebs.send(new StartSnapshotCommand({ VolumeSize: 1 }))).Status).toBe('pending');
  });
});

describe('--direct-rate-limits off', () => {
  it('lets any number through', async () => {
    const s = await startSimServer({ sim: { wallClock: () => FROZEN, directRateLimits: false } });
    const ebs = ebsClient(s.endpoint);
    try {
      for (let i = 0; i < 15; i++) await ebs.send(new StartSnapshotCommand({ VolumeSize: 1 }));
    } finally {
      ebs.destroy();
      await s.close();
    }
  });
});

describe('--timing instant', () => {
  it('answers CompleteSnapshot once the snapshot is sealed: completed, or error', async () => {
    const s = await startSimServer({ sim: { timing: 'instant' } });
    const ebs = ebsClient(s.endpoint);
    try {
      const ok = (await ebs.send(new StartSnapshotCommand({ VolumeSize: 1 }))).SnapshotId!;
      await putBlock(ebs, ok, 0, randomBytes(BLOCK));
      expect((await ebs.send(new CompleteSnapshotCommand({ SnapshotId: ok, ChangedBlocksCount: 1 }))).Status).toBe('completed');
      expect((await ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: ok }))).Blocks).toHaveLength(1);
      const bad = (await ebs.send(new StartSnapshotCommand({ VolumeSize: 1 }))).SnapshotId!;
      expect((await ebs.send(new CompleteSnapshotCommand({ SnapshotId: bad, ChangedBlocksCount: 3 }))).Status).toBe('error');
    } finally {
      ebs.destroy();
      await s.close();
    }
  });
});
