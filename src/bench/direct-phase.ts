/** The direct preset's workload: a snapshot written and read block by block through the EBS direct APIs. */
import { createHash } from 'node:crypto';
import { CompleteSnapshotCommand, GetSnapshotBlockCommand, ListSnapshotBlocksCommand, PutSnapshotBlockCommand, StartSnapshotCommand } from '@aws-sdk/client-ebs';
import type { BlockData } from './block-data.js';
import { BLOCK, GiB, type BenchConfig } from './config.js';
import type { ProgressDisplay } from './progress-display.js';
import { PublicClient, pool } from './public-client.js';
import type { SnapshotRun, ThroughputPhase } from './results.js';
import { watchSnapshots } from './snapshot-watch.js';

/** StartSnapshot, PutSnapshotBlock by `directWorkers` callers, CompleteSnapshot until completed; then every block read back. */
export async function directUploadAndDownload(
  client: PublicClient, config: BenchConfig, data: BlockData, base: number, display: ProgressDisplay, runStart: number, snapshots: SnapshotRun[],
): Promise<{ upload: ThroughputPhase; download: ThroughputPhase }> {
  const blocks = Math.ceil(config.sizeBytes / BLOCK);
  const indexes = Array.from({ length: blocks }, (_, i) => i);
  // Checksums first, off the clock: what is timed is the server, not this client's hashing.
  const checksums = indexes.map((i) => createHash('sha256').update(data.block(base + i)).digest('base64'));
  const sentAt = performance.now();
  const snapshotId = (await client.ebs.send(new StartSnapshotCommand({ VolumeSize: Math.max(1, Math.ceil(config.volumeSizeBytes / GiB)), Timeout: 60 }))).SnapshotId!;
  client.made.snapshots.add(snapshotId);
  const upPoints: Array<[number, number]> = [];
  const upLatencies: number[] = [];
  let done = 0;
  await pool(indexes, config.directWorkers, async (i) => {
    const block = Buffer.from(data.block(base + i));
    const t = performance.now();
    await client.ebs.send(new PutSnapshotBlockCommand({ SnapshotId: snapshotId, BlockIndex: i, BlockData: block, DataLength: BLOCK, Checksum: checksums[i]!, ChecksumAlgorithm: 'SHA256' }));
    upLatencies.push(performance.now() - t);
    done += BLOCK;
    upPoints.push([performance.now() - sentAt, done]);
  });
  await client.ebs.send(new CompleteSnapshotCommand({ SnapshotId: snapshotId, ChangedBlocksCount: blocks }));
  const [run] = await watchSnapshots(client, [{ snapshotId, group: 'direct', position: 0, kind: 'direct', bytesWritten: blocks * BLOCK, sentAt }], display, config.pollMs, runStart);
  snapshots.push(run!);
  const upload: ThroughputPhase = {
    name: 'direct upload', description: `StartSnapshot, PutSnapshotBlock by ${config.directWorkers} callers, CompleteSnapshot, until DescribeSnapshots says completed`,
    bytes: done, durationMs: run!.durationMs, bytesPerSec: done / (run!.durationMs / 1000), points: upPoints, latenciesMs: upLatencies, opBytes: BLOCK,
  };

  const start = performance.now();
  const tokens: Array<{ index: number; token: string }> = [];
  let next: string | undefined;
  do {
    const page = await client.ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: snapshotId, MaxResults: 10_000, NextToken: next }));
    for (const b of page.Blocks ?? []) tokens.push({ index: b.BlockIndex!, token: b.BlockToken! });
    next = page.NextToken;
  } while (next);
  const downPoints: Array<[number, number]> = [];
  const downLatencies: number[] = [];
  let got = 0;
  await pool(tokens, config.directWorkers, async ({ index, token }) => {
    const t = performance.now();
    const out = await client.ebs.send(new GetSnapshotBlockCommand({ SnapshotId: snapshotId, BlockIndex: index, BlockToken: token }));
    const bytes = await out.BlockData!.transformToByteArray();
    downLatencies.push(performance.now() - t);
    got += bytes.length;
    downPoints.push([performance.now() - start, got]);
  });
  const downMs = performance.now() - start;
  const download: ThroughputPhase = {
    name: 'direct download', description: `ListSnapshotBlocks (every page first), then GetSnapshotBlock by ${config.directWorkers} callers`,
    bytes: got, durationMs: downMs, bytesPerSec: got / (downMs / 1000), points: downPoints, latenciesMs: downLatencies, opBytes: BLOCK,
  };
  return { upload, download };
}
