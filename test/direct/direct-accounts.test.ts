/**
 * The direct APIs under `--auth sigv4`, through @aws-sdk/client-ebs: the same credentials and
 * accounts as EC2, the region from the credential scope, and a snapshot that nobody but its owner
 * reads until it is shared with createVolumePermission; only the owner ever writes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  CompleteSnapshotCommand, GetSnapshotBlockCommand, ListChangedBlocksCommand, ListSnapshotBlocksCommand, StartSnapshotCommand, type EBSClient,
} from '@aws-sdk/client-ebs';
import { ModifySnapshotAttributeCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCredentialsFile } from '../../src/server/auth.js';
import { send, signRequest } from '../support/signed-fetch.js';
import { startSimServer, type SimServer } from '../support/sim-server.js';
import { tempDir } from '../support/temp-dir.js';
import { BLOCK, ebsClient, expectEbsError, putBlock } from './direct-support.js';

const A = { accessKeyId: 'AKIAALICE', secretAccessKey: 'alice-secret', accountId: '111111111111' };
const B = { accessKeyId: 'AKIABOB', secretAccessKey: 'bob-secret', accountId: '222222222222' };

let s: SimServer;
let tmp: ReturnType<typeof tempDir>;
let alice: EBSClient;
let bob: EBSClient;

beforeAll(async () => {
  tmp = tempDir();
  const file = join(tmp.dir, 'credentials.json');
  writeFileSync(file, JSON.stringify({ credentials: [A, B] }));
  s = await startSimServer({ app: { auth: 'sigv4', credentials: loadCredentialsFile(file) } });
  alice = ebsClient(s.endpoint, A);
  bob = ebsClient(s.endpoint, B);
});
afterAll(async () => {
  alice?.destroy();
  bob?.destroy();
  await s?.close();
  tmp?.remove();
});

describe('the direct APIs under --auth sigv4', () => {
  it('keep account B out of A\'s snapshot until A shares it, and let only A write', async () => {
    const started = await alice.send(new StartSnapshotCommand({ VolumeSize: 1 }));
    expect(started.OwnerId).toBe(A.accountId);
    const id = started.SnapshotId!;
    await expectEbsError(putBlock(bob, id, 0, randomBytes(BLOCK)), 'ResourceNotFoundException', 'SNAPSHOT_NOT_FOUND');
    const data = randomBytes(BLOCK);
    await putBlock(alice, id, 0, data);
    await expectEbsError(bob.send(new CompleteSnapshotCommand({ SnapshotId: id, ChangedBlocksCount: 1 })), 'ResourceNotFoundException', 'SNAPSHOT_NOT_FOUND');
    await alice.send(new CompleteSnapshotCommand({ SnapshotId: id, ChangedBlocksCount: 1 }));
    expect((await s.sim.engine.statuses.settled(id)).state).toBe('completed');

    const token = (await alice.send(new ListSnapshotBlocksCommand({ SnapshotId: id }))).Blocks![0]!.BlockToken!;
    await expectEbsError(bob.send(new ListSnapshotBlocksCommand({ SnapshotId: id })), 'ResourceNotFoundException', 'SNAPSHOT_NOT_FOUND');
    await expectEbsError(bob.send(new ListChangedBlocksCommand({ SecondSnapshotId: id })), 'ResourceNotFoundException', 'SNAPSHOT_NOT_FOUND');
    await expectEbsError(bob.send(new GetSnapshotBlockCommand({ SnapshotId: id, BlockIndex: 0, BlockToken: token })), 'ResourceNotFoundException', 'SNAPSHOT_NOT_FOUND');
    // Another region of A's own account does not see it either.
    const west = ebsClient(s.endpoint, A, 'us-west-2');
    await expectEbsError(west.send(new ListSnapshotBlocksCommand({ SnapshotId: id })), 'ResourceNotFoundException', 'SNAPSHOT_NOT_FOUND');
    west.destroy();

    await s.client(A).send(new ModifySnapshotAttributeCommand({
      SnapshotId: id, Attribute: 'createVolumePermission', OperationType: 'add', UserIds: [B.accountId],
    }));
    const shared = await bob.send(new ListSnapshotBlocksCommand({ SnapshotId: id }));
    expect(shared.Blocks!.map((b) => b.BlockIndex)).toEqual([0]);
    const got = await bob.send(new GetSnapshotBlockCommand({ SnapshotId: id, BlockIndex: 0, BlockToken: shared.Blocks![0]!.BlockToken! }));
    expect(Buffer.from(await got.BlockData!.transformToByteArray()).equals(data)).toBe(true);
    // Shared is read-only: B's child of it is B's own; B never writes A's.
    await expectEbsError(putBlock(bob, id, 1, randomBytes(BLOCK)), 'AccessDeniedException', 'UNAUTHORIZED_ACCOUNT');
    const child = await bob.send(new StartSnapshotCommand({ VolumeSize: 1, ParentSnapshotId: id }));
    expect(child.OwnerId).toBe(B.accountId);
  });

  it('needs a signature for the service ebs', async () => {
    await expectEbsError(fetch(`${s.endpoint}/snapshots/snap-0123456789abcdef0/blocks`).then(async (r) => {
      const body = (await r.json()) as { Message: string };
      throw Object.assign(new Error(body.Message), { name: r.headers.get('x-amzn-errortype')!.split(':')[0]!, $status: r.status });
    }), 'MissingAuthenticationTokenException');
    const asEc2 = await signRequest(A, { method: 'GET', url: `${s.endpoint}/snapshots/snap-0123456789abcdef0/blocks`, headers: {} }, { service: 'ec2' });
    const res = await send(asEc2);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { Message: string }).Message).toMatch(/ebs/);
  });
});
