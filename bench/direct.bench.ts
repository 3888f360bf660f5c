/**
 * The EBS direct APIs through a real `ebs-sim serve` (the build in dist/, `--direct-rate-limits
 * off`, an fs store), each figure beside a baseline measured in the same run on the same server:
 *  - upload: 1 GiB of unique blocks with 64 concurrent PutSnapshotBlock callers, from StartSnapshot
 *    until DescribeSnapshots says `completed`, vs the same bytes written through the data plane;
 *  - download: the same snapshot with 64 GetSnapshotBlock callers (every page listed first, as
 *    coldsnap does), vs a restore of it read through the data plane (lazy load from the store);
 *  - ListChangedBlocks: one 10,000-entry page among 10,000 changed blocks of a 16 TiB volume
 *    (two CreateSnapshot snapshots), p50 against the 50 ms target, beside a ListSnapshotBlocks page
 *    of the same size.
 * Blocks and their checksums are made before the clock starts: the figures are the server's.
 * AWS publishes about 500 MB/s per snapshot with 100 connections; each figure is shown beside it.
 * Run: npm run bench -- direct
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { Readable } from 'node:stream';
import {
  CompleteSnapshotCommand, EBSClient, GetSnapshotBlockCommand, ListChangedBlocksCommand, ListSnapshotBlocksCommand, PutSnapshotBlockCommand,
  StartSnapshotCommand,
} from '@aws-sdk/client-ebs';
import { CreateSnapshotCommand, CreateVolumeCommand, DescribeSnapshotsCommand, DescribeVolumesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { serve, type Served } from './served.js';
import { BLOCK, BlockSource, fmtMBs, fmtMs, MemoryWatch, fmtMB, Report, tempDir } from './support.js';

const GiB = 1024 ** 3;
const BLOCKS = GiB / BLOCK;
const WORKERS = 64;
const AWS_FIGURE = 'AWS: ~500 MB/s per snapshot with 100 connections';
const CHANGED = 10_000;
const PAGE_SAMPLES = 30;

/** A line with the server's resident memory now and its high-water mark, between phases. */
function noteServerMemory(pid: number, after: string): void {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mib = (field: string) => Math.round(Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024);
  console.log(`  [server after ${after}: RSS ${mib('VmRSS')} MiB, high-water ${mib('VmHWM')} MiB]`);
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

async function pool<T>(items: T[], workers: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: workers }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

interface Clients {
  ec2: EC2Client;
  ebs: EBSClient;
  destroy(): void;
}

function clients(endpoint: string): Clients {
  const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };
  const httpAgent = new Agent({ keepAlive: true, maxSockets: WORKERS });
  const ec2 = new EC2Client({ region: 'us-east-1', endpoint, credentials, maxAttempts: 1 });
  const ebs = new EBSClient({ region: 'us-east-1', endpoint, credentials, maxAttempts: 1, requestHandler: { httpAgent } });
  return { ec2, ebs, destroy: () => { ec2.destroy(); ebs.destroy(); httpAgent.destroy(); } };
}

async function untilCompleted(ec2: EC2Client, snapshotId: string): Promise<void> {
  for (;;) {
    const s = (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }))).Snapshots![0]!;
    if (s.State === 'completed') return;
    if (s.State === 'error') throw new Error(`snapshot ${snapshotId} failed: ${s.StateMessage}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function newVolume(c: Clients, input: { Size?: number; SnapshotId?: string }): Promise<string> {
  const id = (await c.ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', ...input }))).VolumeId!;
  for (;;) {
    const v = (await c.ec2.send(new DescribeVolumesCommand({ VolumeIds: [id] }))).Volumes![0]!;
    if (v.State === 'available') return id;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** One streamed PUT of `blocks` at `offset` through the data plane. */
async function dataPlaneWrite(endpoint: string, volumeId: string, blocks: Buffer[]): Promise<void> {
  const body = Readable.from(blocks, { highWaterMark: 4 });
  const res = await fetch(`${endpoint}/data/volumes/${volumeId}?offset=0`, {
    method: 'PUT', body: Readable.toWeb(body) as ReadableStream, duplex: 'half', headers: { 'content-length': String(blocks.length * BLOCK) },
  } as RequestInit);
  if (res.status !== 200) throw new Error(`data-plane write: ${res.status} ${await res.text()}`);
}

async function dataPlaneRead(endpoint: string, volumeId: string, bytes: number): Promise<void> {
  const step = 64 * 1024 * 1024;
  for (let at = 0; at < bytes; at += step) {
    const res = await fetch(`${endpoint}/data/volumes/${volumeId}?offset=${at}&length=${step}`);
    if (res.status !== 200) throw new Error(`data-plane read: ${res.status} ${await res.text()}`);
    const got = (await res.arrayBuffer()).byteLength;
    if (got !== step) throw new Error(`data-plane read: ${got} bytes, not ${step}`);
  }
}

async function uploadAndDownload(report: Report, server: Served, c: Clients): Promise<void> {
  const source = new BlockSource();
  const blocks = Array.from({ length: BLOCKS }, (_, i) => Buffer.from(source.block(1_000_000 + i)));
  const sums = blocks.map((b) => createHash('sha256').update(b).digest('base64'));

  // Baseline: the same bytes through the data plane.
  const volumeId = await newVolume(c, { Size: 1 });
  let t = performance.now();
  await dataPlaneWrite(server.endpoint, volumeId, blocks);
  const plane = GiB / ((performance.now() - t) / 1000);
  noteServerMemory(server.child.pid!, 'the data-plane write');

  t = performance.now();
  const id = (await c.ebs.send(new StartSnapshotCommand({ VolumeSize: 1, Timeout: 60 }))).SnapshotId!;
  await pool(blocks.map((_, i) => i), WORKERS, async (i) => {
    await c.ebs.send(new PutSnapshotBlockCommand({
      SnapshotId: id, BlockIndex: i, BlockData: blocks[i]!, DataLength: BLOCK, Checksum: sums[i]!, ChecksumAlgorithm: 'SHA256',
    }));
  });
  await c.ebs.send(new CompleteSnapshotCommand({ SnapshotId: id, ChangedBlocksCount: BLOCKS }));
  await untilCompleted(c.ec2, id);
  const upload = GiB / ((performance.now() - t) / 1000);
  noteServerMemory(server.child.pid!, 'the direct upload');
  report.add({
    figure: `direct upload, 1 GiB unique, ${WORKERS} PutSnapshotBlock callers, until completed (${AWS_FIGURE})`,
    ours: fmtMBs(upload), baseline: `${fmtMBs(plane)} data-plane write of the same bytes`,
    ratio: upload / plane, target: 'ratio >= 0.7', met: upload / plane >= 0.7,
  });

  // Download: every page first, then the blocks.
  t = performance.now();
  const tokens: Array<{ index: number; token: string }> = [];
  let next: string | undefined;
  do {
    const page = await c.ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: id, MaxResults: 10_000, NextToken: next }));
    for (const b of page.Blocks ?? []) tokens.push({ index: b.BlockIndex!, token: b.BlockToken! });
    next = page.NextToken;
  } while (next);
  if (tokens.length !== BLOCKS) throw new Error(`listed ${tokens.length} blocks, not ${BLOCKS}`);
  await pool(tokens, WORKERS, async ({ index, token }) => {
    const out = await c.ebs.send(new GetSnapshotBlockCommand({ SnapshotId: id, BlockIndex: index, BlockToken: token }));
    const data = await out.BlockData!.transformToByteArray();
    if (data.length !== BLOCK || out.Checksum !== sums[index]) throw new Error(`block ${index}: wrong length or checksum`);
  });
  const download = GiB / ((performance.now() - t) / 1000);
  noteServerMemory(server.child.pid!, 'the direct download');

  const restored = await newVolume(c, { SnapshotId: id });
  t = performance.now();
  await dataPlaneRead(server.endpoint, restored, GiB);
  const restoreRead = GiB / ((performance.now() - t) / 1000);
  noteServerMemory(server.child.pid!, 'the restore read');
  report.add({
    figure: `direct download, ${WORKERS} GetSnapshotBlock callers, pages listed first (${AWS_FIGURE})`,
    ours: fmtMBs(download), baseline: `${fmtMBs(restoreRead)} restore read of it through the data plane`,
    ratio: download / restoreRead, target: 'ratio >= 0.7', met: download / restoreRead >= 0.7,
  });
}

/**
 * Two CreateSnapshot snapshots of a 16 TiB volume: the first with 20,000 written blocks spread over
 * it, the second after 10,000 of them were overwritten. A 4 KiB write per block, the same bytes at
 * each, so that the store keeps few distinct blocks (dedup) and the setup stays cheap.
 */
async function changedBlocksPage(report: Report, server: Served, c: Clients): Promise<void> {
  const volumeGiB = 16 * 1024;
  const volumeId = await newVolume(c, { Size: volumeGiB });
  const spread = Math.floor((volumeGiB * GiB) / BLOCK / (2 * CHANGED));
  const indexes = Array.from({ length: 2 * CHANGED }, (_, i) => i * spread);
  const write = (index: number, data: Buffer) => fetch(`${server.endpoint}/data/volumes/${volumeId}?offset=${index * BLOCK}`, { method: 'PUT', body: data })
    .then(async (r) => { if (r.status !== 200) throw new Error(`write: ${r.status} ${await r.text()}`); });
  const a = Buffer.alloc(4096, 'a');
  const b = Buffer.alloc(4096, 'b');
  let t = performance.now();
  await pool(indexes, 8, (i) => write(i, a));
  const first = (await c.ec2.send(new CreateSnapshotCommand({ VolumeId: volumeId }))).SnapshotId!;
  await untilCompleted(c.ec2, first);
  await pool(indexes.filter((_, k) => k % 2 === 0), 8, (i) => write(i, b));
  const second = (await c.ec2.send(new CreateSnapshotCommand({ VolumeId: volumeId }))).SnapshotId!;
  await untilCompleted(c.ec2, second);
  console.log(`  [16 TiB volume: ${2 * CHANGED} blocks written, two snapshots, ${CHANGED} changed, set up in ${((performance.now() - t) / 1000).toFixed(1)} s]`);

  const timePages = async (call: () => Promise<number>): Promise<number[]> => {
    const times: number[] = [];
    for (let i = 0; i < PAGE_SAMPLES + 3; i++) {
      const start = performance.now();
      const n = await call();
      if (n !== CHANGED) throw new Error(`a page of ${n} entries, not ${CHANGED}`);
      if (i >= 3) times.push(performance.now() - start); // the first calls warm the manifest caches
    }
    return times;
  };
  const changed = await timePages(async () => (await c.ebs.send(new ListChangedBlocksCommand({ FirstSnapshotId: first, SecondSnapshotId: second, MaxResults: 10_000 }))).ChangedBlocks!.length);
  const listed = await timePages(async () => (await c.ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: second, MaxResults: 10_000 }))).Blocks!.length);
  const p50 = quantile(changed, 0.5);
  report.add({
    figure: `ListChangedBlocks, a ${CHANGED}-entry page among ${CHANGED} changed blocks of a 16 TiB volume (p50 of ${PAGE_SAMPLES}; p90 ${fmtMs(quantile(changed, 0.9))})`,
    ours: fmtMs(p50), baseline: `${fmtMs(quantile(listed, 0.5))} ListSnapshotBlocks page of ${CHANGED}`,
    ratio: p50 / quantile(listed, 0.5), target: 'p50 < 50 ms', met: p50 < 50,
  });
}

export async function runDirectBench(): Promise<Report> {
  const report = new Report('direct');
  const root = tempDir('direct');
  const server = await serve(root.dir, ['--direct-rate-limits', 'off']);
  const memory = new MemoryWatch(server.child.pid!);
  const c = clients(server.endpoint);
  try {
    await uploadAndDownload(report, server, c);
    await changedBlocksPage(report, server, c);
    const mem = memory.stop();
    report.add({
      figure: 'server peak RSS through the direct benchmarks', ours: `${fmtMB(mem.peakRss)} (anon ${fmtMB(mem.peakAnon)})`,
      baseline: '-', ratio: undefined, target: 'informational', met: undefined,
    });
  } finally {
    c.destroy();
    await server.stop();
    root.remove();
  }
  return report;
}
