/**
 * `ebs-sim bench` as users run it: the real command (src/cli/main.ts), which starts its own real
 * `ebs-sim serve` and drives it through the EC2 API and the data plane; then `bench compare` on
 * two of its real results files.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeSnapshotsCommand, DescribeVolumesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { XMLValidator } from 'fast-xml-parser';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchResults } from '../../src/bench/results.js';
import { runCli, startCliServer } from '../support/cli-server.js';
import { findOnPath, startMotoServer } from '../support/moto-server.js';
import { takesDirect } from '../support/takes-direct.js';
import { tempDir } from '../support/temp-dir.js';

const tmp = tempDir('ebs-sim-bench-');
afterAll(() => tmp.remove());

const MiB = 1024 * 1024;
const read = (file: string) => readFileSync(file, 'utf8');
const results = (dir: string) => JSON.parse(read(join(dir, 'results.json'))) as BenchResults;

/** The SVGs report.md shows, each checked to be well-formed XML with data drawn in it. */
function checkSvgs(dir: string, markdownFile: string): string[] {
  const names = [...read(join(dir, markdownFile)).matchAll(/!\[[^\]]*\]\(([^)]+\.svg)\)/g)].map((m) => m[1]!);
  for (const name of names) {
    const svg = read(join(dir, name));
    expect(XMLValidator.validate(svg), name).toBe(true);
    const lines = [...svg.matchAll(/<polyline class="series"[^>]* points="([^"]+)"/g)].map((m) => m[1]!.trim().split(' ').length);
    const bars = [...svg.matchAll(/<rect class="bar"[^>]* height="([\d.]+)"/g)].map((m) => Number(m[1]));
    const points = [...svg.matchAll(/<circle class="point"/g)].length;
    // Data: a line of at least two points, a marked point, or bars with some height.
    expect(Math.max(0, ...lines) >= 2 || points > 0 || bars.some((h) => h > 0), `${name} draws data`).toBe(true);
    expect(svg).toMatch(/<text[^>]*>[^<]*\((?:MB\/s|s|%|ms|MB)\)<\/text>/); // an axis title with its unit
  }
  return names;
}

describe('ebs-sim bench', () => {
  const runA = join(tmp.dir, 'full-a');
  const runB = join(tmp.dir, 'full-b');

  it('--preset full --size 64MiB: samples, monotonic progress, a measured baseline, well-formed plots with data', async () => {
    const run = await runCli(['bench', '--preset', 'full', '--size', '64MiB', '--volume-size', '1GiB', '--out', runA]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    // Not a terminal: plain progress lines, ending at 100%.
    expect(run.stdout).toMatch(/snap-[0-9a-f]+ full +64 MiB +100% +[\d.]+ MB\/s +ETA done/);
    expect(run.stdout).toMatch(/fs copy vs plain file writes \(≥ 1\.0\): \d+\.\d{3}/);

    const r = results(runA);
    expect(r.flags).toMatchObject({ preset: 'full', sizeBytes: 64 * MiB, volumes: 1, chainLength: 1 });
    expect(r.machine.cpus).toBeGreaterThan(0);
    expect(r.versions.node).toBe(process.version);
    expect(r.server.own).toBe(true);
    expect(r.server.peakRssBytes).toBeGreaterThan(0);

    expect(r.snapshots).toHaveLength(1);
    const [snap] = r.snapshots;
    expect(snap!.bytesWritten).toBe(64 * MiB);
    expect(snap!.samples.length).toBeGreaterThanOrEqual(1);
    expect(snap!.samples.at(-1)!.progress).toBe(100);
    for (let i = 1; i < snap!.samples.length; i++) {
      expect(snap!.samples[i]!.progress).toBeGreaterThanOrEqual(snap!.samples[i - 1]!.progress);
      expect(snap!.samples[i]!.t).toBeGreaterThan(snap!.samples[i - 1]!.t);
    }
    expect(snap!.durationMs).toBeGreaterThan(0);
    // The copy engine's own per-block times, from the server's stats: every block was random.
    expect(snap!.blockCopyMs!.count).toBe(128);
    expect(snap!.blockCopyMs!.p50Ms).toBeGreaterThan(0);
    expect(snap!.blockCopyMs!.p99Ms).toBeLessThanOrEqual(snap!.blockCopyMs!.maxMs);

    // The baseline: plain file writes of the same 128 blocks, each timed.
    expect(r.baseline).toMatchObject({ name: 'plain file writes', bytes: 64 * MiB });
    expect(r.baseline.latenciesMs).toHaveLength(128);
    expect(r.baseline.points).toHaveLength(128);
    expect(r.baseline.durationMs).toBeGreaterThan(0);
    const copy = r.figures.find((f) => f.key === 'copy.full')!;
    expect(copy.baseline!.value).toBeCloseTo(r.baseline.bytesPerSec / 1e6, 6);
    expect(copy.ratio).toBeCloseTo(snap!.bytesPerSec / r.baseline.bytesPerSec, 6);
    // Beside it, not instead of it: the same blocks written with O_DIRECT, as the copy writes them.
    const disk = r.figures.find((f) => f.key === 'copy.full.disk');
    if (takesDirect(tmp.dir)) {
      expect(r.diskBaseline).toMatchObject({ name: 'plain direct writes', bytes: 64 * MiB });
      expect(r.diskBaseline!.latenciesMs).toHaveLength(128);
      expect(run.stdout).toMatch(/beside it: plain direct writes, 64 MiB in [\d.]+ s: [\d.]+ MB\/s/);
      expect(disk!.ratio).toBeCloseTo(snap!.bytesPerSec / r.diskBaseline!.bytesPerSec, 6);
      expect(disk!.target).toBeUndefined(); // no target of its own; copy.full keeps the issue's
      expect(read(join(runA, 'report.md'))).toContain('| plain direct writes |');
    } else {
      expect([r.diskBaseline, disk]).toEqual([undefined, undefined]);
      expect(run.stdout).toContain('this file system refuses O_DIRECT');
    }
    expect(r.moonshots.map((m) => m.figure)).toEqual([
      'fs copy vs plain file writes', 'restore read vs the copy', '16 concurrent copies, aggregate vs one copy alone', 'incremental 1% vs the full copy\'s time',
    ]);

    const svgs = checkSvgs(runA, 'report.md');
    expect(svgs).toEqual(expect.arrayContaining(['throughput.svg', 'progress.svg', 'latency.svg']));
    expect(read(join(runA, 'latency.svg'))).toContain(`copy engine: ${snap!.snapshotId}`);
    // The server's data went with it; the report stays.
    expect(existsSync(join(runA, 'data'))).toBe(false);
  });

  it('compare: two real runs, figure by figure, printed and plotted', async () => {
    const run = await runCli(['bench', '--preset', 'incremental', '--size', '32MiB', '--volume-size', '1GiB', '--chain', '2', '--writes-during-pending', '--copy-concurrency', '4', '--out', runB]);
    expect([run.code, run.stderr]).toEqual([0, '']);
    const b = results(runB);
    expect(b.server.args!.join(' ')).toContain('--copy-concurrency 4');
    expect(b.snapshots.map((s) => s.kind)).toEqual(['full', 'incremental']);
    expect(b.snapshots[0]!.bytesWritten).toBe(32 * MiB);
    // The incremental copy has the changed block and the blocks written while the full one was pending.
    const pending = b.writesDuringPending!;
    expect(pending.bytes).toBeGreaterThanOrEqual(512 * 1024);
    expect(pending.latenciesMs!.length).toBe(pending.bytes / (512 * 1024));
    expect(b.snapshots[1]!.bytesWritten).toBeGreaterThanOrEqual(512 * 1024);
    expect(b.snapshots[1]!.bytesWritten).toBeLessThanOrEqual(512 * 1024 + pending.bytes);
    expect(b.figures.find((f) => f.key === 'copy.incremental')?.ratio).toBeGreaterThan(0);

    const cmp = await runCli(['bench', 'compare', join(runA, 'results.json'), join(runB, 'results.json'), '--out', tmp.dir]);
    expect([cmp.code, cmp.stderr]).toEqual([0, '']);
    const a = results(runA);
    const line = cmp.stdout.split('\n').find((l) => l.startsWith('full copy of'))!;
    expect(line).toBeDefined();
    // A's and B's figures, and B/A, as the two files say.
    const fa = a.figures.find((f) => f.key === 'copy.full')!.value;
    const fb = b.figures.find((f) => f.key === 'copy.full')!.value;
    expect(line).toContain((fb / fa).toFixed(3));
    expect(cmp.stdout).toMatch(/^incremental copy .*\(ms\) +– +[\d.]+ +–$/m); // only B has it
    expect(checkSvgs(tmp.dir, 'compare.md')).toEqual(['compare-throughput.svg', 'compare-progress.svg']);
  });

  it('--help explains the presets; bad flags are usage errors', async () => {
    const help = await runCli(['bench', '--help']);
    expect(help.code).toBe(0);
    for (const preset of ['full', 'incremental', 'restore', 'many', 'direct']) expect(help.stdout).toContain(`  ${preset} `);
    const bad = await runCli(['bench', '--preset', 'fastest']);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining('--preset must be one of full, incremental, restore, many, direct')]);
    const notJson = await runCli(['bench', 'compare', join(tmp.dir, 'missing-a.json')]);
    expect(notJson.code).toBe(2);
  });
});

it('--preset scale, small: every curve has its points, freeze and copy times, and a plot', async () => {
  const out = join(tmp.dir, 'scale');
  const run = await runCli(['bench', '--preset', 'scale', '--size', '2MiB', '--chain', '4', '--profile', '--out', out]);
  expect([run.code, run.stderr]).toEqual([0, '']);
  const r = results(out);
  expect(r.scale!.map((c) => [c.key, c.points.map((p) => p.x)])).toEqual([
    ['volume-size', [1, 16, 256, 4096, 16384]],
    ['written', [2]],
    ['chain', [1, 2, 3, 4]],
    ['concurrency', [1, 2, 4, 8, 16]],
  ]);
  for (const p of r.scale!.flatMap((c) => c.points)) {
    expect(p.freezeMs).toBeGreaterThan(0);
    expect(p.copyMs).toBeGreaterThanOrEqual(p.freezeMs);
    expect(p.peakRssBytes).toBeGreaterThan(0);
  }
  // Every snapshot of the curves: 5 + 1 + 4 + 31.
  expect(r.snapshots).toHaveLength(41);
  expect(r.figures.map((f) => f.key)).toEqual(expect.arrayContaining(['scale.volumeSize', 'scale.freeze', 'scale.concurrency', 'server.peakRss']));
  // --profile: the server's CPU profile, summed by function, in the results and the report.
  const profile = r.server.cpuProfile!;
  expect(existsSync(profile.file)).toBe(true);
  expect(profile.top.length).toBeGreaterThan(3);
  expect(profile.scope).toBe('the copies');
  expect(profile.top.reduce((n, f) => n + f.share, 0)).toBeLessThanOrEqual(1.000001);
  expect(read(join(out, 'report.md'))).toContain("## Where the server's CPU went");
  expect(checkSvgs(out, 'report.md')).toEqual(expect.arrayContaining(['scale-volume-size.svg', 'scale-written.svg', 'scale-chain.svg', 'scale-concurrency.svg']));
  // 41 snapshots and volumes up to 16 TiB: seconds on a quiet machine, far more on a busy one.
}, 180_000);

it('--preset direct, small: upload and download through the direct APIs beside data-plane writes of the same blocks', async () => {
  const out = join(tmp.dir, 'direct');
  const run = await runCli(['bench', '--preset', 'direct', '--size', '16MiB', '--volume-size', '1GiB', '--direct-workers', '8', '--out', out]);
  expect([run.code, run.stderr]).toEqual([0, '']);
  const r = results(out);
  expect(r.baseline).toMatchObject({ name: 'data-plane write', bytes: 16 * MiB, opBytes: 512 * 1024 });
  expect(r.baseline.latenciesMs).toHaveLength(32);
  expect(r.direct!.upload).toMatchObject({ bytes: 16 * MiB });
  expect(r.direct!.download).toMatchObject({ bytes: 16 * MiB });
  expect(r.direct!.upload.latenciesMs).toHaveLength(32);
  expect(r.snapshots).toHaveLength(1);
  expect(r.snapshots[0]).toMatchObject({ kind: 'direct', bytesWritten: 16 * MiB });
  expect(r.snapshots[0]!.samples.at(-1)!.progress).toBe(100);
  expect(r.figures.map((f) => f.key)).toEqual(expect.arrayContaining(['direct.upload', 'direct.download']));
  expect(checkSvgs(out, 'report.md')).toEqual(expect.arrayContaining(['direct.svg', 'latency.svg']));
  // Per-block latency: the baseline beside PutSnapshotBlock and GetSnapshotBlock.
  expect([...read(join(out, 'latency.svg')).matchAll(/<rect class="bar"/g)]).toHaveLength(12);
});

it('--endpoint: measures a server it did not start, and leaves nothing of its own behind unless --keep', async () => {
  const server = await startCliServer();
  const ec2 = new EC2Client({ region: 'us-east-1', endpoint: server.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const snapshotState = (id: string) =>
    ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] })).then((r) => r.Snapshots![0]!.State, (err: Error) => err.name);
  const volumeState = (id: string) =>
    ec2.send(new DescribeVolumesCommand({ VolumeIds: [id] })).then((r) => r.Volumes![0]!.State, (err: Error) => err.name);
  try {
    const out = join(tmp.dir, 'endpoint');
    const run = await runCli(['bench', '--endpoint', server.endpoint, '--size', '8MiB', '--volume-size', '1GiB', '--out', out]);
    expect([run.code, run.stderr]).toEqual([0, '']);
    expect(run.stdout).toContain(`measuring ${server.endpoint}`);
    const r = results(out);
    expect(r.server).toMatchObject({ endpoint: server.endpoint, own: false, rss: [] });
    expect(r.snapshots).toHaveLength(1);
    expect(r.snapshots[0]!.samples.at(-1)!.progress).toBe(100);
    expect(r.baseline.bytes).toBe(8 * MiB);
    expect(existsSync(join(out, 'data'))).toBe(false);
    // Its volume and snapshot were deleted when it ended.
    expect(run.stdout).toContain(`removed what this run made on ${server.endpoint}: 1 volume(s), 1 snapshot(s)`);
    expect(await snapshotState(r.snapshots[0]!.snapshotId)).toBe('InvalidSnapshot.NotFound');
    expect(['deleting', 'InvalidVolume.NotFound']).toContain(await volumeState(r.snapshots[0]!.volumeId!));

    const kept = join(tmp.dir, 'endpoint-keep');
    const keep = await runCli(['bench', '--endpoint', server.endpoint, '--size', '8MiB', '--volume-size', '1GiB', '--keep', '--out', kept]);
    expect([keep.code, keep.stderr]).toEqual([0, '']);
    expect(keep.stdout).not.toContain('removed what this run made');
    const k = results(kept);
    expect(await snapshotState(k.snapshots[0]!.snapshotId)).toBe('completed');
    expect(await volumeState(k.snapshots[0]!.volumeId!)).toBe('available');
  } finally {
    ec2.destroy();
    await server.stop();
  }
});

it('--keep without --endpoint is a usage error', async () => {
  const run = await runCli(['bench', '--keep']);
  expect(run.code).toBe(2);
  expect(run.stderr).toContain('--keep is about a server the bench did not start (--endpoint)');
});

// The s3 store is only worth measuring against a real S3 server: moto_server, where installed.
const moto = findOnPath('moto_server');
it.skipIf(moto === undefined)(`--object-store s3://: a raw PutObject loop is the baseline${moto ? '' : ' (skipped: moto_server is not on PATH)'}`, async () => {
  const s3server = await startMotoServer(moto!);
  const credentials = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };
  const saved = { AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY };
  Object.assign(process.env, credentials); // the bench's child processes inherit them
  const s3 = new S3Client({ endpoint: s3server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
    const out = join(tmp.dir, 's3');
    const store = `s3://bench/runs?endpoint=${s3server.endpoint}&region=us-east-1&forcePathStyle=true`;
    const run = await runCli(['bench', '--object-store', store, '--size', '8MiB', '--volume-size', '1GiB', '--out', out]);
    expect([run.code, run.stderr]).toEqual([0, '']);
    const r = results(out);
    expect(r.baseline).toMatchObject({ name: 'raw PutObject', bytes: 8 * MiB });
    expect(r.baseline.latenciesMs).toHaveLength(16);
    expect(r.snapshots[0]!.samples.at(-1)!.progress).toBe(100);
    const copy = r.figures.find((f) => f.key === 'copy.full')!;
    expect(copy.ratio).toBeGreaterThan(0);
    expect(copy.target).toBeUndefined(); // the fs target is not the s3 store's
    expect(r.moonshots[0]!.note).toContain('the store is not fs');
    // The snapshot went to the bucket; the baseline's objects did not stay.
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'bench', Prefix: 'runs/' }));
    const keys = (listed.Contents ?? []).map((o) => o.Key!);
    expect(keys.some((k) => k.startsWith('runs/blocks/'))).toBe(true);
    expect(keys.filter((k) => k.includes('ebs-sim-bench-baseline'))).toEqual([]);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    s3.destroy();
    await s3server.stop();
  }
});
