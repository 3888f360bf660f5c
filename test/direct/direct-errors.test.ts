/**
 * Every check of the direct APIs, through @aws-sdk/client-ebs: the SDK's exception class and its
 * `Reason`, and what each failure leaves behind (nothing stored; a snapshot in `error` with its
 * StateMessage). Also ParentSnapshotId, idempotency, and a direct snapshot's life in EC2
 * (CreateVolume, CopySnapshot, DeleteSnapshot). Rate limits are off here (direct-limits.test.ts).
 */
import { randomBytes } from 'node:crypto';
import {
  CompleteSnapshotCommand, GetSnapshotBlockCommand, ListChangedBlocksCommand, ListSnapshotBlocksCommand, PutSnapshotBlockCommand,
  StartSnapshotCommand, type EBSClient,
} from '@aws-sdk/client-ebs';
import {
  CopySnapshotCommand, CreateSnapshotCommand, CreateVolumeCommand, DeleteSnapshotCommand, DescribeSnapshotsCommand, type EC2Client,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBytes, putBytes, startSimServer, type SimServer } from '../support/sim-server.js';
import { BLOCK, ebsClient, expectEbsError, putBlock, sha256 } from './direct-support.js';

let s: SimServer;
let ec2: EC2Client;
let ebs: EBSClient;

beforeAll(async () => {
  s = await startSimServer({ sim: { directRateLimits: false } });
  ec2 = s.client();
  ebs = ebsClient(s.endpoint);
});
afterAll(async () => {
  ebs?.destroy();
  await s?.close();
});

const start = async (input: Partial<ConstructorParameters<typeof StartSnapshotCommand>[0]> = {}) =>
  (await ebs.send(new StartSnapshotCommand({ VolumeSize: 1, ...input }))).SnapshotId!;

const complete = (id: string, count: number) => ebs.send(new CompleteSnapshotCommand({ SnapshotId: id, ChangedBlocksCount: count }));

async function described(id: string) {
  return (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] }))).Snapshots![0]!;
}

/** A direct snapshot with these blocks, completed and sealed. */
async function sealed(blocks: Map<number, Buffer>, input: Parameters<typeof start>[0] = {}): Promise<string> {
  const id = await start(input);
  for (const [i, data] of blocks) await putBlock(ebs, id, i, data);
  expect((await complete(id, blocks.size)).Status).toBe('pending');
  expect((await s.sim.engine.statuses.settled(id)).state).toBe('completed');
  return id;
}

async function listed(id: string): Promise<Map<number, string>> {
  const out = await ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: id }));
  return new Map(out.Blocks!.map((b) => [b.BlockIndex!, b.BlockToken!]));
}

async function fetched(id: string, index: number, token: string): Promise<Buffer> {
  const out = await ebs.send(new GetSnapshotBlockCommand({ SnapshotId: id, BlockIndex: index, BlockToken: token }));
  return Buffer.from(await out.BlockData!.transformToByteArray());
}

describe('PutSnapshotBlock checks', () => {
  it('rejects a wrong checksum, a short block, an index past the volume and a put after completion; stores nothing of them', async () => {
    const id = await start();
    const data = randomBytes(BLOCK);
    await expectEbsError(ebs.send(new PutSnapshotBlockCommand({
      SnapshotId: id, BlockIndex: 0, BlockData: data, DataLength: BLOCK, Checksum: sha256(randomBytes(BLOCK)), ChecksumAlgorithm: 'SHA256',
    })), 'ValidationException', 'INVALID_PARAMETER_VALUE');
    const short = randomBytes(4096);
    await expectEbsError(ebs.send(new PutSnapshotBlockCommand({
      SnapshotId: id, BlockIndex: 1, BlockData: short, DataLength: short.length, Checksum: sha256(short), ChecksumAlgorithm: 'SHA256',
    })), 'ValidationException', 'INVALID_PARAMETER_VALUE');
    // 1 GiB holds blocks 0..2047.
    expect(await expectEbsError(putBlock(ebs, id, 2048, data), 'ValidationException', 'INVALID_BLOCK')).toContain('2047');
    expect(s.sim.engine.statuses.status(id)).toMatchObject({ state: 'pending', bytesUploaded: 0, bytesDeduplicated: 0 });

    await complete(id, 0);
    expect((await s.sim.engine.statuses.settled(id)).state).toBe('completed');
    expect((await listed(id)).size, 'nothing of the rejected puts was stored').toBe(0);
    await expectEbsError(putBlock(ebs, id, 0, data), 'ValidationException', 'INVALID_PARAMETER_VALUE');
  });

  it('takes blocks only into snapshots started with StartSnapshot', async () => {
    const volumeId = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
    const snap = (await ec2.send(new CreateSnapshotCommand({ VolumeId: volumeId }))).SnapshotId!;
    await expectEbsError(putBlock(ebs, snap, 0, randomBytes(BLOCK)), 'ValidationException', 'INVALID_PARAMETER_VALUE');
    await expectEbsError(putBlock(ebs, 'snap-0123456789abcdef0', 0, randomBytes(BLOCK)), 'ResourceNotFoundException', 'SNAPSHOT_NOT_FOUND');
    await expectEbsError(putBlock(ebs, 'vol-0123', 0, randomBytes(BLOCK)), 'ValidationException', 'INVALID_SNAPSHOT_ID');
  });
});

describe('requests that are none of the six', () => {
  it('answer UnknownOperationException, and a body that is no JSON object a ValidationException', async () => {
    for (const [method, path] of [['GET', '/snapshots'], ['DELETE', '/snapshots/snap-0123456789abcdef0/blocks/0'], ['GET', '/snapshots/snap-0123456789abcdef0/other']]) {
      const res = await fetch(`${s.endpoint}${path}`, { method });
      expect([res.status, res.headers.get('x-amzn-errortype')], `${method} ${path}`).toEqual([404, 'UnknownOperationException']);
    }
    const res = await fetch(`${s.endpoint}/snapshots`, { method: 'POST', body: '[1, 2', headers: { 'content-type': 'application/json' } });
    expect([res.status, res.headers.get('x-amzn-errortype'), ((await res.json()) as { Reason: string }).Reason]).toEqual([400, 'ValidationException', 'INVALID_PARAMETER_VALUE']);
  });
});

describe('reads', () => {
  it('refuses to read a pending snapshot', async () => {
    const id = await start();
    await putBlock(ebs, id, 3, randomBytes(BLOCK));
    await expectEbsError(ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: id })), 'ValidationException', 'INVALID_PARAMETER_VALUE');
    await expectEbsError(ebs.send(new ListChangedBlocksCommand({ SecondSnapshotId: id })), 'ValidationException', 'INVALID_PARAMETER_VALUE');
    await complete(id, 1);
  });

  it('refuses tampered tokens, tokens of another snapshot or index, expired tokens and bad page tokens', async () => {
    const a = await sealed(new Map([[0, randomBytes(BLOCK)], [1, randomBytes(BLOCK)]]));
    const b = await sealed(new Map([[0, randomBytes(BLOCK)]]));
    const ta = await listed(a);
    const tb = await listed(b);
    expect((await fetched(a, 0, ta.get(0)!)).length).toBe(BLOCK);

    const token = ta.get(0)!;
    const raw = Buffer.from(token, 'base64');
    raw[raw.length - 1]! ^= 1;
    const tampered = raw.toString('base64');
    for (const [id, index, t] of [[a, 0, tampered], [a, 0, ta.get(1)!], [a, 1, token], [a, 0, tb.get(0)!], [a, 0, 'not a token']] as const) {
      await expectEbsError(ebs.send(new GetSnapshotBlockCommand({ SnapshotId: id, BlockIndex: index, BlockToken: t })), 'ValidationException', 'INVALID_BLOCK_TOKEN');
    }

    // Page tokens: a page of 100 over 150 blocks, then a token from elsewhere and a tampered one.
    const many = new Map(Array.from({ length: 150 }, (_, i) => [i, randomBytes(BLOCK)] as const));
    const big = await sealed(many);
    const first = await ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: big, MaxResults: 100 }));
    expect(first.Blocks).toHaveLength(100);
    const next = await ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: big, MaxResults: 100, NextToken: first.NextToken }));
    expect(next.Blocks!.map((x) => x.BlockIndex)).toEqual(Array.from({ length: 50 }, (_, i) => 100 + i));
    expect(next.NextToken).toBeUndefined();
    await expectEbsError(ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: a, NextToken: first.NextToken })), 'ValidationException', 'INVALID_PAGE_TOKEN');
    await expectEbsError(ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: big, NextToken: `${first.NextToken}x` })), 'ValidationException', 'INVALID_PAGE_TOKEN');

    // Block tokens expire at ExpiryTime: move the simulated clock past it.
    const expiry = (await ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: a }))).ExpiryTime!;
    expect(expiry.getTime()).toBeGreaterThan(s.sim.controls.clockNow().getTime());
    await s.sim.controls.advanceClock((expiry.getTime() - s.sim.controls.clockNow().getTime()) / 1000 + 1);
    await expectEbsError(ebs.send(new GetSnapshotBlockCommand({ SnapshotId: a, BlockIndex: 0, BlockToken: token })), 'ValidationException', 'INVALID_BLOCK_TOKEN');
    await expectEbsError(ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: big, NextToken: first.NextToken })), 'ValidationException', 'INVALID_PAGE_TOKEN');
  });

  it('compares only snapshots of one lineage', async () => {
    const a = await sealed(new Map([[0, randomBytes(BLOCK)]]));
    const b = await sealed(new Map([[0, randomBytes(BLOCK)]]));
    await expectEbsError(ebs.send(new ListChangedBlocksCommand({ FirstSnapshotId: a, SecondSnapshotId: b })), 'ValidationException', 'UNRELATED_SNAPSHOTS');
  });
});

describe('ParentSnapshotId', () => {
  it('inherits the parent\'s blocks: the child lists them, reads them, and differs from its parent only where it wrote', async () => {
    const p0 = randomBytes(BLOCK);
    const p1 = randomBytes(BLOCK);
    const parent = await sealed(new Map([[0, p0], [1, p1]]));
    const c1 = randomBytes(BLOCK);
    const c7 = randomBytes(BLOCK);
    const child = await sealed(new Map([[1, c1], [7, c7]]), { ParentSnapshotId: parent, VolumeSize: 2 });

    const tokens = await listed(child);
    expect([...tokens.keys()]).toEqual([0, 1, 7]);
    expect((await fetched(child, 0, tokens.get(0)!)).equals(p0)).toBe(true);
    expect((await fetched(child, 1, tokens.get(1)!)).equals(c1)).toBe(true);
    const changed = await ebs.send(new ListChangedBlocksCommand({ FirstSnapshotId: parent, SecondSnapshotId: child }));
    expect(changed.ChangedBlocks!.map((b) => [b.BlockIndex, !!b.FirstBlockToken, !!b.SecondBlockToken])).toEqual([[1, true, true], [7, false, true]]);
    expect(changed.VolumeSize).toBe(2);

    await expectEbsError(start({ ParentSnapshotId: parent, VolumeSize: 1, Encrypted: true }), 'ValidationException', 'INVALID_PARAMETER_VALUE');
    const bigger = await sealed(new Map(), { ParentSnapshotId: child, VolumeSize: 2 });
    await expectEbsError(start({ ParentSnapshotId: bigger, VolumeSize: 1 }), 'ValidationException', 'INVALID_VOLUME_SIZE');
  });
});

describe('idempotency', () => {
  it('repeats a StartSnapshot with the same ClientToken, and refuses the token with other parameters', async () => {
    const token = `ct-${Date.now()}`;
    const first = await start({ ClientToken: token, Description: 'one' });
    expect(await start({ ClientToken: token, Description: 'one' })).toBe(first);
    await expectEbsError(start({ ClientToken: token, Description: 'two' }), 'ConflictException');
    await complete(first, 0);
  });
});

describe('sealing', () => {
  it('fails the snapshot, with a StateMessage, when the count or the aggregate checksum does not match', async () => {
    const data = randomBytes(BLOCK);
    const miscounted = await start();
    await putBlock(ebs, miscounted, 0, data);
    expect((await complete(miscounted, 2)).Status).toBe('pending');
    expect((await s.sim.engine.statuses.settled(miscounted)).state).toBe('error');
    const d1 = await described(miscounted);
    expect(d1).toMatchObject({ State: 'error' });
    expect(d1.StateMessage).toMatch(/2/);

    const wrongSum = await start();
    await putBlock(ebs, wrongSum, 0, data);
    await ebs.send(new CompleteSnapshotCommand({
      SnapshotId: wrongSum, ChangedBlocksCount: 1, Checksum: sha256(randomBytes(32)), ChecksumAlgorithm: 'SHA256', ChecksumAggregationMethod: 'LINEAR',
    }));
    expect((await s.sim.engine.statuses.settled(wrongSum)).state).toBe('error');
    expect((await described(wrongSum)).StateMessage).toMatch(/checksum/i);
    await expectEbsError(ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: wrongSum })), 'ValidationException', 'INVALID_PARAMETER_VALUE');

    await expectEbsError(ebs.send(new CompleteSnapshotCommand({ SnapshotId: await start(), ChangedBlocksCount: 0, Checksum: 'x' })), 'ValidationException', 'INVALID_PARAMETER_VALUE');
  });

  it('fails a snapshot left open past its Timeout, on the simulated clock', async () => {
    const id = await start({ Timeout: 10 });
    await putBlock(ebs, id, 0, randomBytes(BLOCK));
    await s.sim.controls.advanceClock(9 * 60);
    await putBlock(ebs, id, 1, randomBytes(BLOCK)); // a put restarts the wait
    await s.sim.controls.advanceClock(9 * 60);
    expect((await described(id)).State).toBe('pending');
    await s.sim.controls.advanceClock(61);
    expect((await s.sim.engine.statuses.settled(id)).state).toBe('error');
    expect((await described(id)).StateMessage).toMatch(/Timeout/);
    await expectEbsError(putBlock(ebs, id, 2, randomBytes(BLOCK)), 'ValidationException', 'WRITE_REQUEST_TIMEOUT');
  });
});

describe('a direct snapshot in EC2', () => {
  it('restores with CreateVolume, copies with CopySnapshot, and deletes with GC keeping what a child shares', async () => {
    const b0 = randomBytes(BLOCK);
    const b5 = randomBytes(BLOCK);
    const parent = await sealed(new Map([[0, b0], [5, b5]]));
    const child = await sealed(new Map([[5, randomBytes(BLOCK)]]), { ParentSnapshotId: parent, VolumeSize: 1 });
    expect(await described(parent)).toMatchObject({ State: 'completed', Progress: '100%', VolumeSize: 1 });

    const copy = (await ec2.send(new CopySnapshotCommand({ SourceSnapshotId: parent, SourceRegion: 'us-east-1' }))).SnapshotId!;
    expect((await s.sim.engine.statuses.settled(copy)).state).toBe('completed');
    await ec2.send(new DeleteSnapshotCommand({ SnapshotId: parent }));
    await expect.poll(async () => (await s.sim.engine.repo.getManifest(parent)) === undefined, { timeout: 30_000, interval: 20 }).toBe(true);

    // The child still reads its parent's block 0; the copy still holds both.
    const tokens = await listed(child);
    expect((await fetched(child, 0, tokens.get(0)!)).equals(b0)).toBe(true);
    const copied = await listed(copy);
    expect((await fetched(copy, 5, copied.get(5)!)).equals(b5)).toBe(true);

    const volumeId = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', SnapshotId: child }))).VolumeId!;
    expect((await getBytes(s.endpoint, volumeId, 0, BLOCK)).equals(b0)).toBe(true);
    expect((await getBytes(s.endpoint, volumeId, BLOCK, BLOCK)).every((x) => x === 0)).toBe(true);
    expect((await putBytes(s.endpoint, volumeId, BLOCK, Buffer.from('after'))).status).toBe(200);
  });
});
