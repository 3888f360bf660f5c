/**
 * DeleteSnapshot's cost against how many snapshots the store holds, through a real
 * `ebs-sim serve` on an fs object store. For each store size N (100, 1,000, 10,000 by default;
 * EBS_SIM_BENCH_DELETE_COUNTS changes it), N snapshots are made, each with one block of its own
 * (8 volumes, each written 4 KiB at block 0 before each snapshot), then 50 of them, picked at
 * random, are deleted one call at a time.
 *
 * The figure is the call's p50 at N against the p50 at 100 in the same run (target: within 1.5×).
 * Beside it, what the call no longer pays: the sweep that deletes the freed blocks, timed from
 * the last DeleteSnapshot answer until the 50 blocks are gone from the store's directory.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CreateSnapshotCommand, CreateVolumeCommand, DeleteSnapshotCommand, DescribeSnapshotsCommand, EC2Client, paginateDescribeSnapshots,
} from '@aws-sdk/client-ec2';
import { serve } from './served.js';
import { BENCH_DIR, fmtMs, Report, tempDir } from './support.js';

const COUNTS = (process.env.EBS_SIM_BENCH_DELETE_COUNTS ?? '100,1000,10000').split(',').map(Number);
const DELETES = 50;
const VOLUMES = 8;

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

async function blocksInStore(objectsDir: string): Promise<number> {
  return (await readdir(join(objectsDir, 'blocks')).catch(() => [])).length;
}

/**
 * CreateSnapshot as a client that takes snapshots back to back must: a volume may have only so
 * many pending at once (5 for gp2, as in EC2), so on ConcurrentSnapshotLimitExceeded it waits for
 * one to complete and asks again.
 */
async function createSnapshot(ec2: EC2Client, volumeId: string): Promise<string> {
  for (;;) {
    try {
      return (await ec2.send(new CreateSnapshotCommand({ VolumeId: volumeId }))).SnapshotId!;
    } catch (err) {
      if ((err as { name?: string }).name !== 'ConcurrentSnapshotLimitExceeded') throw err;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

interface Measured {
  n: number;
  p50: number;
  p90: number;
  sweepMs: number;
  buildS: number;
}

async function measure(n: number): Promise<Measured> {
  const root = tempDir(`delete-${n}`);
  const server = await serve(root.dir);
  const ec2 = new EC2Client({ region: 'us-east-1', endpoint: server.endpoint, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' }, maxAttempts: 1 });
  try {
    const t0 = performance.now();
    const ids: string[] = [];
    await Promise.all(Array.from({ length: VOLUMES }, async (_, v) => {
      const volumeId = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 8 }))).VolumeId!;
      for (let i = v; i < n; i += VOLUMES) {
        const put = await fetch(`${server.endpoint}/data/volumes/${volumeId}?offset=0`, { method: 'PUT', body: Buffer.alloc(4096, `${n}:${i}:${Math.random()}`) });
        if (put.status !== 200) throw new Error(`data-plane write: ${put.status} ${await put.text()}`);
        ids.push(await createSnapshot(ec2, volumeId));
        if (i % 2000 === 1999) console.log(`  ${n} snapshots: about ${i + 1} made`);
      }
    }));
    for (;;) {
      const pending = (await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'status', Values: ['pending'] }], MaxResults: 5 }))).Snapshots!;
      if (pending.length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    let completed = 0;
    for await (const page of paginateDescribeSnapshots({ client: ec2 }, { OwnerIds: ['self'], Filters: [{ Name: 'status', Values: ['completed'] }] })) completed += page.Snapshots!.length;
    if (completed !== n) throw new Error(`${completed} of ${n} snapshots completed`);
    const buildS = (performance.now() - t0) / 1000;
    // Let LevelDB's compactions after the build finish, so that they do not land on the deletions.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const objectsDir = join(root.dir, 'objects');
    const blocksBefore = await blocksInStore(objectsDir);

    const victims = [...ids].sort(() => Math.random() - 0.5).slice(0, DELETES);
    const times: number[] = [];
    for (const id of victims) {
      const t = performance.now();
      await ec2.send(new DeleteSnapshotCommand({ SnapshotId: id }));
      times.push(performance.now() - t);
    }
    const lastAnswer = performance.now();
    while ((await blocksInStore(objectsDir)) > blocksBefore - DELETES) {
      if (performance.now() - lastAnswer > 600_000) throw new Error('the freed blocks were not collected within 10 minutes');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const sweepMs = performance.now() - lastAnswer;
    const m = { n, p50: quantile(times, 0.5), p90: quantile(times, 0.9), sweepMs, buildS };
    console.log(`  ${n} snapshots (made in ${buildS.toFixed(0)} s): DeleteSnapshot p50 ${fmtMs(m.p50)}, p90 ${fmtMs(m.p90)}; freed blocks gone ${fmtMs(sweepMs)} after the last answer`);
    return m;
  } finally {
    ec2.destroy();
    await server.stop();
    root.remove();
  }
}

export async function deleteBench(): Promise<Report> {
  const report = new Report('DeleteSnapshot against store size, through ebs-sim serve (fs store)');
  console.log(`  data under ${BENCH_DIR}; ${DELETES} deletions per store size`);
  const results: Measured[] = [];
  for (const n of COUNTS) results.push(await measure(n));
  const base = results[0]!;
  for (const m of results.slice(1)) {
    report.add({
      figure: `DeleteSnapshot p50 with ${m.n} snapshots in the store`,
      ours: `${fmtMs(m.p50)} (p90 ${fmtMs(m.p90)})`,
      baseline: `${fmtMs(base.p50)} with ${base.n} (p90 ${fmtMs(base.p90)})`,
      ratio: m.p50 / base.p50,
      target: '<= 1.5x',
      met: m.p50 / base.p50 <= 1.5,
    });
  }
  for (const m of results) {
    report.add({
      figure: `sweep: the ${DELETES} freed blocks gone from the store, with ${m.n} snapshots`,
      ours: `${fmtMs(m.sweepMs)} after the last answer`,
      baseline: `${fmtMs(base.sweepMs)} with ${base.n}`,
      ratio: m.sweepMs / base.sweepMs,
      target: 'informational: a sweep lists every manifest, spaced to <= 10% of the time',
      met: undefined,
    });
  }
  return report;
}
