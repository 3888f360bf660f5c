/**
 * Object-store faults: errors, latency, a hang and an outage, through the fault store
 * (--allow-control) and against moto_server (SIGSTOP, then killed). A snapshot taken through
 * trouble either completes and restores byte-exact, or ends in `error` with its reason: never
 * `completed` with missing blocks.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CreateSnapshotCommand, CreateVolumeCommand, DeleteVolumeCommand, DescribeSnapshotsCommand, type EC2Client, type Snapshot } from '@aws-sdk/client-ec2';
import { findOnPath, startMotoServer } from '../test/support/moto-server.js';
import type { Rng } from '../test/support/random.js';
import { ec2Client, rng, sha256, sleep, startServer, type Figure, type PhaseResult, type SoakContext } from './harness.js';

const DATA = 4 * 512 * 1024;

interface Case {
  name: string;
  /** What the snapshot must end as. */
  expect: 'completed' | 'error';
  ok: boolean;
  detail: string;
}

async function settle(ec2: EC2Client, id: string, timeoutMs = 120_000): Promise<Snapshot> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] }))).Snapshots![0]!;
    if (s.State !== 'pending' || Date.now() > end) return s;
    await sleep(50);
  }
}

/** Writes fresh data, snapshots it while `during` runs, and checks how it ends. */
async function snapshotThrough(
  ec2: EC2Client, endpoint: string, r: Rng, name: string, expect: Case['expect'], during: (snapshotId: string) => Promise<void>,
): Promise<Case> {
  const volumeId = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
  const data = randomBytes(DATA);
  await (await fetch(`${endpoint}/data/volumes/${volumeId}?offset=0`, { method: 'PUT', body: data })).arrayBuffer();
  const id = (await ec2.send(new CreateSnapshotCommand({ VolumeId: volumeId }))).SnapshotId!;
  await during(id);
  const s = await settle(ec2, id);
  let ok = s.State === expect;
  let detail = `${s.State}${s.StateMessage ? `: ${s.StateMessage.slice(0, 160)}` : ''}`;
  if (s.State === 'completed') {
    const vol = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', SnapshotId: id }))).VolumeId!;
    const res = await fetch(`${endpoint}/data/volumes/${vol}?offset=0&length=${DATA}`);
    const exact = res.status === 200 && sha256(Buffer.from(await res.arrayBuffer())) === sha256(data);
    if (!exact) detail += ', but it restored to other bytes';
    ok &&= exact;
    await ec2.send(new DeleteVolumeCommand({ VolumeId: vol }));
  }
  if (s.State === 'error' && !s.StateMessage) {
    ok = false;
    detail += ' with no StateMessage';
  }
  return { name, expect, ok, detail };
}

export async function runFaults(ctx: SoakContext): Promise<PhaseResult> {
  const cases: Case[] = [];
  const r = rng(ctx.seed + 2);

  // Through the fault store, on the fs store.
  {
    const dir = join(ctx.root, 'faults');
    mkdirSync(dir, { recursive: true });
    const server = await startServer(ctx, dir, ['--allow-control', '--store-retry-budget', '3', '--store-timeout', '1']);
    const ec2 = ec2Client(server.endpoint);
    const faults = async (method: string, objectStore?: object) => {
      const res = await fetch(`${server.endpoint}/_ebs-sim/faults`, {
        method,
        ...(objectStore ? { body: JSON.stringify({ objectStore }), headers: { 'content-type': 'application/json' } } : {}),
      });
      if (res.status !== 200) throw new Error(`${method} faults: ${res.status} ${await res.text()}`);
    };
    try {
      // The faults are set before each snapshot, and cleared after it settled.
      const through = (name: string, expect: Case['expect'], during: (id: string) => Promise<void> = async () => undefined) =>
        snapshotThrough(ec2, server.endpoint, r, name, expect, during).finally(() => faults('DELETE'));
      await faults('PUT', { operations: ['put'], errorRate: 0.3, seed: ctx.seed });
      cases.push(await through('fault store: 30% of puts fail', 'completed'));
      await faults('PUT', { latencyMs: 150 });
      cases.push(await through('fault store: 150 ms on every call', 'completed'));
      await faults('PUT', { hang: true });
      cases.push(await through('fault store: every call hangs for 2 s, then cleared', 'completed', async () => {
        await sleep(2_000);
        await faults('DELETE');
      }));
      await faults('PUT', { operations: ['put'], errorRate: 1 });
      cases.push(await through('fault store: outage (every put fails) past the 3 s budget', 'error'));
      cases.push(await through('fault store: cleared, a fresh snapshot', 'completed'));
    } finally {
      ec2.destroy();
      await server.stop();
    }
  }

  // Against moto_server: it stops answering, then it is gone.
  const moto = findOnPath('moto_server');
  if (moto) {
    const store = await startMotoServer(moto);
    const dir = join(ctx.root, 'faults-moto');
    mkdirSync(dir, { recursive: true });
    const spec = `s3://soak-bucket/ebs?endpoint=${store.endpoint}&region=us-east-1&forcePathStyle=true&createBucket=true`;
    process.env.AWS_ACCESS_KEY_ID ??= 'testing';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';
    const server = await startServer(ctx, dir, ['--store-retry-budget', '4', '--store-timeout', '1'], spec);
    const ec2 = ec2Client(server.endpoint);
    try {
      cases.push(await snapshotThrough(ec2, server.endpoint, r, 'moto: SIGSTOP for 2 s, then SIGCONT', 'completed', async () => {
        store.pause();
        await sleep(2_000);
        store.resume();
      }));
      cases.push(await snapshotThrough(ec2, server.endpoint, r, 'moto: killed (outage) past the 4 s budget', 'error', async () => {
        await store.stop();
      }));
    } finally {
      ec2.destroy();
      await server.stop();
      await store.stop();
    }
  }

  const figures: Figure[] = cases.map((c) => ({ phase: 'store faults', figure: c.name, value: c.detail, target: c.expect, ok: c.ok }));
  if (!moto) figures.push({ phase: 'store faults', figure: 'moto_server cases', value: 'SKIPPED: moto_server is not installed (pip install "moto[server]")' });
  return { figures, failures: cases.filter((c) => !c.ok).map((c) => `${c.name}: expected ${c.expect}, got ${c.detail}`) };
}
