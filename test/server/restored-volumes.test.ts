/**
 * A restored volume stays whole whatever happens to its source snapshot (DESIGN's invariant 3):
 * deleting the snapshot, in the same account or in the account that shared it, changes nothing
 * that the volume, or a snapshot of it, reads.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateSnapshotCommand, CreateVolumeCommand, DeleteSnapshotCommand, DescribeSnapshotsCommand, ModifySnapshotAttributeCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCredentialsFile } from '../../src/server/auth.js';
import { Rng } from '../support/random.js';
import { send, signRequest, type Key } from '../support/signed-fetch.js';
import { getBytes, putBytes, startSimServer, type SimServer } from '../support/sim-server.js';
import { tempDir } from '../support/temp-dir.js';

const MiB = 1024 * 1024;
const rng = new Rng(15);

async function completed(ec2: EC2Client, snapshotId: string): Promise<void> {
  await expect
    .poll(async () => (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }))).Snapshots?.[0]?.State, { timeout: 30_000, interval: 20 })
    .toBe('completed');
}

interface DataPlane {
  write(volumeId: string, offset: number, data: Buffer): Promise<Response>;
  read(volumeId: string, offset: number, length: number): Promise<Buffer>;
}

/** Every step of the reported repro, on a volume restored from a snapshot that is then deleted. */
async function checkSurvivesSourceDeletion(opts: {
  owner: EC2Client;
  ownerData: DataPlane;
  restorer: EC2Client;
  /** The data plane as the restoring account (it owns the restored volume). */
  io: DataPlane;
  beforeRestore?(snapshotId: string): Promise<void>;
  sim: SimServer['sim'];
}): Promise<void> {
  const { owner, restorer, io } = opts;
  const data = rng.bytes(64 * MiB);
  const src = (await owner.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
  expect((await opts.ownerData.write(src, 0, data)).status).toBe(200);
  const snap = (await owner.send(new CreateSnapshotCommand({ VolumeId: src }))).SnapshotId!;
  await completed(owner, snap);
  await opts.beforeRestore?.(snap);

  const restored = (await restorer.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', SnapshotId: snap }))).VolumeId!;
  expect((await io.read(restored, 0, 4096)).equals(data.subarray(0, 4096))).toBe(true);
  // Loaded in full, as a volume used for a while is; then its source goes.
  await expect.poll(() => opts.sim.engine.restores.hydration(restored)?.state, { timeout: 30_000, interval: 20 }).toBe('done');
  await owner.send(new DeleteSnapshotCommand({ SnapshotId: snap }));
  await expect.poll(async () => (await opts.sim.engine.repo.getManifest(snap)) === undefined, { timeout: 30_000, interval: 20 }).toBe(true);

  // Its data, its never-written part (zeros), and a write there.
  expect((await io.read(restored, 0, 64 * MiB)).equals(data)).toBe(true);
  expect((await io.read(restored, 512 * MiB, 4096)).equals(Buffer.alloc(4096))).toBe(true);
  const late = rng.bytes(4096);
  expect((await io.write(restored, 512 * MiB, late)).status).toBe(200);
  expect((await io.read(restored, 512 * MiB - 4096, 8192)).equals(Buffer.concat([Buffer.alloc(4096), late]))).toBe(true);

  // A snapshot of the restored volume completes and restores byte for byte.
  const again = (await restorer.send(new CreateSnapshotCommand({ VolumeId: restored }))).SnapshotId!;
  await completed(restorer, again);
  const copy = (await restorer.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', SnapshotId: again }))).VolumeId!;
  expect((await io.read(copy, 0, 64 * MiB)).equals(data)).toBe(true);
  expect((await io.read(copy, 512 * MiB - 4096, 8192)).equals(Buffer.concat([Buffer.alloc(4096), late]))).toBe(true);
}

describe('a restored volume whose source snapshot is deleted', () => {
  let s: SimServer;
  beforeAll(async () => {
    s = await startSimServer();
  });
  afterAll(() => s.close());

  it('reads, writes and snapshots as before', async () => {
    const ec2 = s.client();
    const io: DataPlane = {
      write: (v, offset, data) => putBytes(s.endpoint, v, offset, data),
      read: (v, offset, length) => getBytes(s.endpoint, v, offset, length),
    };
    await checkSurvivesSourceDeletion({ owner: ec2, ownerData: io, restorer: ec2, io, sim: s.sim });
  });

  it('keeps the source while a restored volume still loads from it, and frees it once nothing does', async () => {
    const ec2 = s.client();
    const data = rng.bytes(8 * MiB);
    const src = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
    expect((await putBytes(s.endpoint, src, 0, data)).status).toBe(200);
    const snap = (await ec2.send(new CreateSnapshotCommand({ VolumeId: src }))).SnapshotId!;
    await completed(ec2, snap);
    const restored = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', SnapshotId: snap }))).VolumeId!;
    // Written before its hydration ended, then snapshotted: that snapshot reads the source's
    // bytes beneath the write from the source, until the snapshot itself is deleted.
    const before = (await ec2.send(new CreateSnapshotCommand({ VolumeId: restored }))).SnapshotId!;
    await completed(ec2, before);
    expect((await putBytes(s.endpoint, restored, 0, rng.bytes(4096))).status).toBe(200);
    await ec2.send(new DeleteSnapshotCommand({ SnapshotId: snap }));
    await expect.poll(() => s.sim.engine.restores.hydration(restored)?.state, { timeout: 30_000, interval: 20 }).toBe('done');
    expect((await s.sim.engine.readSnapshot(before, 0, 8 * MiB)).equals(data)).toBe(true);
    expect((await s.sim.store.readSnapshot(before, 0, 8 * MiB)).equals(data)).toBe(true);
    expect(await s.sim.engine.repo.getManifest(snap)).toBeDefined(); // kept: `before` needs it

    await ec2.send(new DeleteSnapshotCommand({ SnapshotId: before }));
    await expect.poll(async () => (await s.sim.engine.repo.getManifest(snap)) === undefined, { timeout: 30_000, interval: 20 }).toBe(true);
    expect((await getBytes(s.endpoint, restored, 4096, 8 * MiB - 4096)).equals(data.subarray(4096))).toBe(true);
  });
});

describe('across accounts under --auth sigv4', () => {
  const A: Key & { account: string } = { accessKeyId: 'AKIAALICE', secretAccessKey: 'alice-secret', account: '111111111111' };
  const B: Key & { account: string } = { accessKeyId: 'AKIABOB', secretAccessKey: 'bob-secret', account: '222222222222' };
  let s: SimServer;
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(async () => {
    tmp = tempDir();
    const file = join(tmp.dir, 'credentials.json');
    writeFileSync(file, JSON.stringify({ credentials: [A, B].map((k) => ({ accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey, accountId: k.account })) }));
    s = await startSimServer({ app: { auth: 'sigv4', credentials: loadCredentialsFile(file) } });
  });
  afterAll(async () => {
    await s.close();
    tmp.remove();
  });

  /** The data plane, signed as one account. */
  const signedData = (key: Key): DataPlane => {
    const url = (v: string, q: string) => `${s.endpoint}/data/volumes/${v}?${q}`;
    return {
      write: async (v, offset, data) =>
        send(await signRequest(key, { method: 'PUT', url: url(v, `offset=${offset}`), headers: {}, body: data }, { unsignedPayload: true })),
      read: async (v, offset, length) => {
        const res = await send(await signRequest(key, { method: 'GET', url: url(v, `offset=${offset}&length=${length}`), headers: {} }));
        if (res.status !== 200) throw new Error(`GET ${v} → ${res.status} ${await res.text()}`);
        return Buffer.from(await res.arrayBuffer());
      },
    };
  };

  it('B restores A shared snapshot, A deletes it: B volume is whole', async () => {
    const alice = s.client(A);
    await checkSurvivesSourceDeletion({
      owner: alice,
      ownerData: signedData(A),
      restorer: s.client(B),
      io: signedData(B),
      sim: s.sim,
      beforeRestore: async (snap) => {
        await alice.send(new ModifySnapshotAttributeCommand({
          SnapshotId: snap, Attribute: 'createVolumePermission', OperationType: 'add', UserIds: [B.account],
        }));
      },
    });
  });
});
