/**
 * `--allow-control`'s fault endpoint on a real server: the object store fails, a snapshot goes to
 * `error` with its reason, a fresh one completes once the faults are cleared, and a restore read
 * fails cleanly (a data-plane error, never wrong bytes) while gets fail.
 */
import { randomBytes } from 'node:crypto';
import { CreateSnapshotCommand, CreateVolumeCommand, DescribeSnapshotsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBytes, putBytes, startSimServer, type SimServer } from '../support/sim-server.js';

let s: SimServer;
let ec2: EC2Client;

const faults = (method: string, body?: unknown) =>
  fetch(`${s.endpoint}/_ebs-sim/faults`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, any> }));

async function settledSnapshot(snapshotId: string) {
  for (;;) {
    const snap = (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }))).Snapshots![0]!;
    if (snap.State !== 'pending') return snap;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

beforeAll(async () => {
  // A one-second retry budget: a failing store fails the copy in about a second, not five minutes.
  s = await startSimServer({ app: { allowControl: true }, sim: { faultInjection: true, storeRetryBudgetSeconds: 1 } });
  ec2 = s.client();
});
afterAll(() => s?.close());

describe('PUT/GET/DELETE /_ebs-sim/faults', () => {
  it('refuses a bad plan with a JSON error naming the field, and changes nothing', async () => {
    for (const body of [[1], { objectStore: { errorRate: 2 } }, { objectStore: { operations: ['upload'] } }, { objectStore: { failnext: 1 } }, { other: {} }]) {
      const r = await faults('PUT', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/objectStore|JSON object|Unknown field/) });
    }
    expect((await faults('GET')).body).toEqual({ objectStore: null, injected: { matched: 0, failed: 0, delayed: 0, hung: 0 } });
  });

  it('a snapshot goes to error with its reason while puts fail; a fresh one completes once cleared', async () => {
    const volumeId = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
    const data = randomBytes(1024 * 1024);
    expect((await putBytes(s.endpoint, volumeId, 0, data)).status).toBe(200);
    const set = await faults('PUT', { objectStore: { operations: ['put'], errorRate: 1, seed: 3 } });
    expect(set).toMatchObject({ status: 200, body: { objectStore: { operations: ['put'], errorRate: 1, seed: 3 } } });

    const failed = await settledSnapshot((await ec2.send(new CreateSnapshotCommand({ VolumeId: volumeId }))).SnapshotId!);
    expect(failed.State).toBe('error');
    expect(failed.StateMessage).toMatch(/injected fault: put/);
    expect((await faults('GET')).body.injected.failed).toBeGreaterThan(0);

    expect((await faults('DELETE')).body.objectStore).toBeNull();
    const ok = await settledSnapshot((await ec2.send(new CreateSnapshotCommand({ VolumeId: volumeId }))).SnapshotId!);
    expect(ok).toMatchObject({ State: 'completed', Progress: '100%' });

    // Restored while gets fail (so that its background loading cannot fetch the blocks first):
    // its reads load from the store, and a read is a clean 503.
    await faults('PUT', { objectStore: { operations: ['get'], errorRate: 1 } });
    const restored = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', SnapshotId: ok.SnapshotId! }))).VolumeId!;
    const res = await fetch(`${s.endpoint}/data/volumes/${restored}?offset=0&length=${data.length}`);
    const body = await res.json();
    expect({ status: res.status, body }).toMatchObject({ status: 503, body: { code: 'BACKING_UNAVAILABLE' } });
    await faults('DELETE');
    expect((await getBytes(s.endpoint, restored, 0, data.length)).equals(data)).toBe(true);
  });

  it('fails exactly the next N calls, then none; latency shows in the counters; a hang holds calls until cleared', async () => {
    const volumeId = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
    expect((await putBytes(s.endpoint, volumeId, 0, randomBytes(4 * 512 * 1024))).status).toBe(200);
    // Three failed uploads are retried within the budget: the copy completes.
    await faults('PUT', { objectStore: { operations: ['put'], failNext: 3, latencyMs: 5, keyPrefix: 'blocks/' } });
    const snap = await settledSnapshot((await ec2.send(new CreateSnapshotCommand({ VolumeId: volumeId }))).SnapshotId!);
    expect(snap.State).toBe('completed');
    const { injected } = (await faults('GET')).body;
    expect(injected.failed).toBe(3);
    expect(injected.delayed).toBeGreaterThanOrEqual(4 + 3);

    await expect(putBytes(s.endpoint, volumeId, 0, randomBytes(512 * 1024))).resolves.toMatchObject({ status: 200 });
    await faults('PUT', { objectStore: { hang: true } });
    const hung = (await ec2.send(new CreateSnapshotCommand({ VolumeId: volumeId }))).SnapshotId!;
    await expect.poll(async () => (await faults('GET')).body.injected.hung, { timeout: 5_000 }).toBeGreaterThan(0);
    expect((await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [hung] }))).Snapshots![0]!.State).toBe('pending');
    await faults('DELETE');
    expect((await settledSnapshot(hung)).State).toBe('completed');
  });
});

describe('without --allow-control', () => {
  it('there is no fault endpoint', async () => {
    const plain = await startSimServer();
    try {
      const r = await fetch(`${plain.endpoint}/_ebs-sim/faults`, { method: 'PUT', body: '{}', headers: { 'content-type': 'application/json' } });
      expect(r.status).toBe(404);
    } finally {
      await plain.close();
    }
  });
});
