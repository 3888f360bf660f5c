/**
 * Where a CreateSnapshot's time goes: the raw signed request loop of the ec2 bench (one
 * keep-alive connection, round robin over 30 volumes with 4 KiB written each), against a server
 * in this process whose parts are timed by wrapping them. In process because the split is about
 * parts; the served figure beside it is the one to compare with moto. Phases, per call:
 *  - the whole request as the client sees it, and as the server sees it (headers in → last
 *    byte out);
 *  - the service verb (checks, the service lock, the freeze, the catalog's view);
 *  - the freeze: the core's lock and one LevelDB batch with the catalog record and copy status;
 *  - after the answer, the snapshot's copy job (its one block, its manifest file, its status
 *    record), which competes with the next call for the CPU on a small machine.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CreateVolumeCommand } from '@aws-sdk/client-ec2';
import { BlockRepository } from '../src/copy/block-repository.js';
import { CopyStatuses } from '../src/copy/copy-statuses.js';
import { BlockStore } from '../src/core/block-store.js';
import { startSimServer } from '../test/support/sim-server.js';
import { rawCreateSnapshots } from './raw-create-snapshots.js';
import { fmtMs, Report, tempDir } from './support.js';

const VOLUMES = 30;
const CALLS = 150;

/** Sums the time spent in `obj[name]` (a method returning a promise) while `on()` says to. */
function timed<T extends object>(obj: T, name: keyof T & string, totals: Map<string, number[]>, label: string, on: () => boolean): () => void {
  const original = obj[name] as unknown as (...args: unknown[]) => Promise<unknown>;
  const samples: number[] = [];
  totals.set(label, samples);
  (obj as Record<string, unknown>)[name] = function (this: unknown, ...args: unknown[]) {
    if (!on()) return original.apply(this, args);
    const t = performance.now();
    return original.apply(this, args).finally(() => samples.push(performance.now() - t));
  };
  return () => ((obj as Record<string, unknown>)[name] = original);
}

export async function createSnapshotSplit(report: Report): Promise<void> {
  const tmp = tempDir('split');
  const s = await startSimServer({ sim: { dataDir: join(tmp.dir, 'leveldb'), objectStore: `fs:${join(tmp.dir, 'objects')}` } });
  const region = 'us-east-1';
  const totals = new Map<string, number[]>();
  let measuring = false;
  const on = () => measuring;
  const undo = [
    timed(s.sim.services.snapshots, 'create', totals, 'service verb (checks, lock, freeze, view)', on),
    timed(BlockStore.prototype, 'snapshotMany', totals, 'freeze: core lock + one LevelDB batch (catalog record, copy status)', on),
    timed(BlockRepository.prototype, 'putManifest', totals, 'copy job: manifest file written (after the answer)', on),
    timed(BlockRepository.prototype, 'ensureBlock', totals, 'copy job: its one block checked or stored (after the answer)', on),
    timed(CopyStatuses.prototype, 'save', totals, 'copy job: status records saved (after the answer)', on),
  ];
  const served: number[] = [];
  s.app.server.on('request', (_req, res) => {
    if (!measuring) return;
    const t = performance.now();
    res.once('finish', () => served.push(performance.now() - t));
  });
  try {
    const ec2 = s.client({ region, accessKeyId: 'bench', secretAccessKey: 'bench' });
    const vols: string[] = [];
    for (let i = 0; i < VOLUMES; i++) {
      const id = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: `${region}a`, Size: 1 }))).VolumeId!;
      const res = await fetch(`${s.endpoint}/data/volumes/${id}?offset=0`, { method: 'PUT', body: Buffer.alloc(4096, 7) });
      if (res.status !== 200) throw new Error(`data plane write: ${res.status}`);
      vols.push(id);
    }
    await rawCreateSnapshots(s.endpoint, region, vols, 10);
    await new Promise((resolve) => setTimeout(resolve, 500));
    measuring = true;
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    const client = await rawCreateSnapshots(s.endpoint, region, vols, CALLS);
    const wall = performance.now() - t0;
    // The copies of the last calls finish after the loop: wait for them before the totals.
    await Promise.all([...s.sim.engine.statuses.list()].filter((st) => st.state === 'pending').map((st) => s.sim.engine.statuses.settled(st.snapshotId)));
    const used = process.cpuUsage(cpu);
    measuring = false;
    const p50 = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! : NaN);
    const perCall = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / CALLS;
    const clientP50 = p50(client);
    const row = (figure: string, xs: number[]) =>
      report.add({ figure: `CreateSnapshot split, in process: ${figure}, p50 (mean per call)`, ours: `${fmtMs(p50(xs))} (${fmtMs(perCall(xs))})`, baseline: `client p50 ${fmtMs(clientP50)}`, ratio: p50(xs) / clientP50, target: 'a split, no target', met: undefined });
    row('the request as the server sees it', served);
    for (const [label, xs] of totals) row(label, xs);
    report.add({
      figure: 'CreateSnapshot split, in process: CPU of client and server per call (wall per call)',
      ours: fmtMs((used.user + used.system) / 1000 / CALLS), baseline: `wall ${fmtMs(wall / CALLS)} per call`, ratio: undefined, target: 'a split, no target', met: undefined,
    });
  } finally {
    for (const u of undo) u();
    await s.close();
    tmp.remove();
  }
}
