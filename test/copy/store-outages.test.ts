/**
 * Object-store outages: a copy rides them out within its retry budget, pending, with the last
 * error as its message; an attempt that gets no answer times out; only a spent budget fails it.
 * The last part runs the real server on moto_server, stopped with SIGSTOP and resumed.
 */
import { CreateSnapshotCommand, CreateVolumeCommand, DescribeSnapshotsCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestBackingSource } from '../../src/copy/hydration.js';
import { FaultStore, MemoryStore } from '../../src/object-store/index.js';
import { findOnPath, startMotoServer, type MotoServer } from '../support/moto-server.js';
import { Rng } from '../support/random.js';
import { getBytes, putBytes, startSimServer, type SimServer } from '../support/sim-server.js';
import { B, copyEnv, type CopyEnv } from './env.js';

const rng = new Rng(15);
const fast = { baseDelayMs: 5, maxDelayMs: 20 };

async function withEnv(objects: FaultStore, retry: object, fn: (env: CopyEnv) => Promise<void>): Promise<void> {
  const env = await copyEnv(objects, { retry: { attempts: Infinity, ...fast, ...retry } });
  try {
    await fn(env);
  } finally {
    await env.close();
  }
}

async function snapshotOf(env: CopyEnv, data: Buffer): Promise<string> {
  const vol = await env.store.createVolume({ size: 1024 ** 3 });
  await env.store.write(vol.id, 0, data);
  const [s] = await env.engine.createSnapshots([{ volumeId: vol.id }]);
  return s!.snapshotId;
}

describe('a copy during object-store trouble', () => {
  it('stays pending with the last error as its message, then completes when the store is back', async () => {
    const faulty = new FaultStore(new MemoryStore(), [{ op: 'put', always: true }]);
    await withEnv(faulty, { budgetMs: 60_000 }, async (env) => {
      const data = rng.bytes(4 * B);
      const id = await snapshotOf(env, data);
      await expect.poll(() => env.engine.statuses.status(id)?.trouble, { timeout: 10_000, interval: 5 }).toMatch(
        /^Retrying: upload of blocks\/[0-9a-f]{64} failed \(attempt \d+, [\d.]+ s into a 60 s retry budget\): injected fault/,
      );
      expect(env.engine.statuses.status(id)!.state).toBe('pending');
      // Published too, for whoever watches statuses (the console).
      expect(env.events.some((e) => e.snapshotId === id && e.trouble?.startsWith('Retrying:'))).toBe(true);

      faulty.clearFaults();
      const done = await env.engine.statuses.settled(id);
      expect(done).toMatchObject({ state: 'completed', progress: 100 });
      expect(env.engine.statuses.status(id)!.trouble).toBeUndefined();
      expect((await env.engine.readSnapshot(id, 0, data.length)).equals(data)).toBe(true);
    });
  });

  it('goes to error only once a call has failed for the whole budget, and says so', async () => {
    const faulty = new FaultStore(new MemoryStore(), [{ op: 'put', always: true }]);
    await withEnv(faulty, { budgetMs: 300 }, async (env) => {
      const id = await snapshotOf(env, rng.bytes(2 * B));
      const done = await env.engine.statuses.settled(id);
      expect(done.state).toBe('error');
      expect(done.message).toMatch(/upload of blocks\/[0-9a-f]{64} failed after \d+ attempts over 0\.[3-9] s \(retry budget 0\.3 s\): injected fault/);
      expect(env.engine.statuses.status(id)!.trouble).toBeUndefined(); // error shows the message, not the trouble
      const attempts = Number(/after (\d+) attempts/.exec(done.message!)![1]);
      expect(attempts).toBeGreaterThan(3);
    });
  });

  it('times out an attempt that gets no answer, and retries it', async () => {
    // The first upload hangs (for far longer than the test); its retry goes through.
    const faulty = new FaultStore(new MemoryStore(), [{ op: 'put', delayMs: 600_000, fail: false }]);
    await withEnv(faulty, { budgetMs: 60_000, attemptTimeoutMs: 100 }, async (env) => {
      const data = rng.bytes(B);
      const id = await snapshotOf(env, data);
      await expect.poll(() => env.engine.statuses.status(id)?.trouble ?? env.engine.statuses.status(id)?.state, { timeout: 10_000, interval: 5 }).toMatch(
        /got no answer within 0\.1 s|completed/,
      );
      expect(await env.engine.statuses.settled(id)).toMatchObject({ state: 'completed' });
      expect(env.events.some((e) => e.snapshotId === id && /got no answer within 0\.1 s/.test(e.trouble ?? ''))).toBe(true);
      expect((await env.engine.readSnapshot(id, 0, B)).equals(data)).toBe(true);
    });
  });

  it("fails a restored volume's read with BACKING_UNAVAILABLE within the read's own budget", async () => {
    const faulty = new FaultStore(new MemoryStore());
    await withEnv(faulty, { budgetMs: 600_000 }, async (env) => {
      const id = await snapshotOf(env, rng.bytes(B));
      await env.engine.statuses.settled(id);
      faulty.addFault({ op: 'get', always: true, keyPrefix: 'blocks/' });
      const started = Date.now();
      const read = manifestBackingSource(env.engine.repo, 200).readBlock(id, 0);
      await expect(read).rejects.toMatchObject({
        code: 'BACKING_UNAVAILABLE',
        message: expect.stringMatching(/did not serve block 0 of snapshot .* within 0\.2 s: download of blocks\/\S+ failed \d+ times, last with injected fault/),
      });
      expect(Date.now() - started).toBeLessThan(10_000); // nowhere near the copy's 600 s budget
    });
  });
});

const moto = findOnPath('moto_server');

describe.skipIf(moto === undefined)(`the server on an S3 store that stops answering${moto ? '' : ' skipped: moto_server is not on PATH'}`, () => {
  let server: MotoServer;
  let s: SimServer;
  beforeAll(async () => {
    server = await startMotoServer(moto!);
    process.env.AWS_ACCESS_KEY_ID ??= 'test';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
    s = await startSimServer({
      sim: {
        objectStore: `s3://outage?endpoint=${encodeURIComponent(server.endpoint)}&forcePathStyle=true&createBucket=true&region=us-east-1`,
        storeTimeoutSeconds: 0.5,
        storeRetryBudgetSeconds: 120,
      },
    });
  }, 60_000);
  afterAll(async () => {
    server?.resume();
    await s?.close();
    await server?.stop();
  });

  it('keeps the snapshot pending with a StateMessage while moto is stopped, and completes after SIGCONT', async () => {
    const ec2 = s.client();
    const vol = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
    const data = rng.bytes(2 * 1024 * 1024);
    expect((await putBytes(s.endpoint, vol, 0, data)).status).toBe(200);
    server.pause();
    let resumed = false;
    try {
      const snap = (await ec2.send(new CreateSnapshotCommand({ VolumeId: vol }))).SnapshotId!;
      const describe = async () => (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snap] }))).Snapshots![0]!;
      await expect.poll(async () => (await describe()).StateMessage ?? '', { timeout: 20_000, interval: 100 }).toMatch(/^Retrying: .* got no answer within 0\.5 s/);
      expect((await describe()).State).toBe('pending');
      server.resume();
      resumed = true;
      await expect.poll(async () => (await describe()).State, { timeout: 60_000, interval: 100 }).toBe('completed');
      expect((await describe()).StateMessage).toBeUndefined();
      const restored = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', SnapshotId: snap }))).VolumeId!;
      expect((await getBytes(s.endpoint, restored, 0, data.length)).equals(data)).toBe(true);
    } finally {
      if (!resumed) server.resume();
    }
  }, 120_000);
});
