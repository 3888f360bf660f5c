/**
 * `GET /_ebs-sim/stats` (with --allow-control): where a running server's time goes, and how long
 * each block of a snapshot's copy took to become stored (what `ebs-sim bench` reports).
 */
import { randomBytes } from 'node:crypto';
import { CreateSnapshotCommand, CreateVolumeCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putBytes, startSimServer, type SimServer } from '../support/sim-server.js';

const BLOCK = 512 * 1024;
let s: SimServer;
let ec2: EC2Client;

interface Summary { count: number; totalMs: number; p50Ms: number; p90Ms: number; p99Ms: number; maxMs: number }

beforeAll(async () => {
  s = await startSimServer({ app: { allowControl: true }, sim: { faultInjection: true } });
  ec2 = s.client();
});
afterAll(() => s?.close());

describe('GET /_ebs-sim/stats', () => {
  it('times each non-zero block of a copy, per snapshot, beside the locks', async () => {
    const volumeId = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
    // Five distinct blocks, one repeated (stored once, still a block of the copy), a hole between.
    const repeated = randomBytes(BLOCK);
    const blocks = [randomBytes(BLOCK), randomBytes(BLOCK), repeated, randomBytes(BLOCK), repeated, randomBytes(BLOCK)];
    for (const [i, b] of blocks.entries()) await putBytes(s.endpoint, volumeId, (i < 3 ? i : i + 2) * BLOCK, b);
    const first = (await ec2.send(new CreateSnapshotCommand({ VolumeId: volumeId }))).SnapshotId!;
    await s.sim.engine.statuses.settled(first);
    await putBytes(s.endpoint, volumeId, 0, randomBytes(BLOCK));
    const second = (await ec2.send(new CreateSnapshotCommand({ VolumeId: volumeId }))).SnapshotId!;
    await s.sim.engine.statuses.settled(second);

    const res = await fetch(`${s.endpoint}/_ebs-sim/stats`);
    expect(res.status).toBe(200);
    const stats = (await res.json()) as { locks: Record<string, { held: Summary }>; copies: { blockCopyTimes: Record<string, Summary> } };
    expect(stats.locks.service!.held.count).toBeGreaterThan(0);
    const times = stats.copies.blockCopyTimes;
    expect(Object.keys(times).sort()).toEqual([first, second].sort());
    expect(times[first]!.count).toBe(blocks.length);
    expect(times[second]!.count).toBe(1); // incremental: only the block written since
    for (const t of Object.values(times)) {
      expect(t.p50Ms).toBeGreaterThan(0);
      expect(t.p50Ms).toBeLessThanOrEqual(t.p90Ms);
      expect(t.p90Ms).toBeLessThanOrEqual(t.p99Ms);
      expect(t.p99Ms).toBeLessThanOrEqual(t.maxMs);
      expect(t.totalMs).toBeGreaterThanOrEqual(t.maxMs);
    }
  });

  it('times each kind of call as the server saw it: EC2 calls by Action, others by route', async () => {
    const before = (await (await fetch(`${s.endpoint}/_ebs-sim/stats`)).json()) as { requests: Record<string, Summary> };
    const volumeId = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
    await putBytes(s.endpoint, volumeId, 0, randomBytes(BLOCK));
    await putBytes(s.endpoint, volumeId, BLOCK, randomBytes(BLOCK));
    const stats = (await (await fetch(`${s.endpoint}/_ebs-sim/stats`)).json()) as {
      requests: Record<string, Summary>;
      process: { memory: { rss: number; heapUsed: number; external: number } };
    };
    const count = (label: string, from: { requests: Record<string, Summary> }) => from.requests[label]?.count ?? 0;
    expect(count('CreateVolume', stats) - count('CreateVolume', before)).toBe(1);
    expect(count('PUT /data/volumes/:volumeId', stats) - count('PUT /data/volumes/:volumeId', before)).toBe(2);
    expect(count('GET /_ebs-sim/stats', stats)).toBeGreaterThanOrEqual(1); // the first read, answered before this one
    const put = stats.requests['PUT /data/volumes/:volumeId']!;
    expect(put.p50Ms).toBeGreaterThan(0);
    expect(put.p99Ms).toBeLessThanOrEqual(put.maxMs);
    expect(stats.process.memory.rss).toBeGreaterThan(stats.process.memory.heapUsed);
  });
});
