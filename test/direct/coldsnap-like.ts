/**
 * An uploader and a downloader written with @aws-sdk/client-ebs the way coldsnap (awslabs) drives
 * the direct APIs: 64 workers, zero blocks skipped, the last partial block zero-padded, the
 * LINEAR aggregate checksum; the download lists every page first, then fetches with 64 workers
 * and checks each block's length and checksum.
 */
import { createHash } from 'node:crypto';
import {
  CompleteSnapshotCommand, GetSnapshotBlockCommand, ListSnapshotBlocksCommand, PutSnapshotBlockCommand, StartSnapshotCommand,
  type EBSClient,
} from '@aws-sdk/client-ebs';

export const BLOCK = 512 * 1024;
const GIB = 1024 ** 3;

async function pool<T>(items: T[], workers: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: workers }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

const isZero = (b: Buffer) => b.every((x) => x === 0);

export async function uploadImage(ebs: EBSClient, image: Buffer, opts: { workers?: number; description?: string } = {}): Promise<{ snapshotId: string; blocksSent: number }> {
  const started = await ebs.send(new StartSnapshotCommand({ VolumeSize: Math.ceil(image.length / GIB), Timeout: 10, Description: opts.description }));
  const snapshotId = started.SnapshotId!;
  const count = Math.ceil(image.length / BLOCK);
  const digests = new Map<number, Buffer>();
  const indexes = Array.from({ length: count }, (_, i) => i);
  let sent = 0;
  await pool(indexes, opts.workers ?? 64, async (i) => {
    const block = Buffer.alloc(BLOCK); // the last, partial block is zero-padded
    image.copy(block, 0, i * BLOCK, Math.min(image.length, (i + 1) * BLOCK));
    if (isZero(block)) return;
    const digest = createHash('sha256').update(block).digest();
    digests.set(i, digest);
    await ebs.send(new PutSnapshotBlockCommand({
      SnapshotId: snapshotId, BlockIndex: i, BlockData: block, DataLength: BLOCK,
      Checksum: digest.toString('base64'), ChecksumAlgorithm: 'SHA256', Progress: Math.floor((100 * ++sent) / count),
    }));
  });
  const linear = createHash('sha256');
  for (const i of [...digests.keys()].sort((a, b) => a - b)) linear.update(digests.get(i)!);
  const done = await ebs.send(new CompleteSnapshotCommand({
    SnapshotId: snapshotId, ChangedBlocksCount: digests.size,
    Checksum: linear.digest('base64'), ChecksumAlgorithm: 'SHA256', ChecksumAggregationMethod: 'LINEAR',
  }));
  if (done.Status !== 'pending' && done.Status !== 'completed') throw new Error(`CompleteSnapshot answered ${done.Status}`);
  return { snapshotId, blocksSent: digests.size };
}

export async function downloadImage(ebs: EBSClient, snapshotId: string, opts: { workers?: number } = {}): Promise<Buffer> {
  const blocks: Array<{ index: number; token: string }> = [];
  let token: string | undefined;
  let volumeSize = 0;
  let blockSize = BLOCK;
  do {
    const page = await ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: snapshotId, MaxResults: 10_000, NextToken: token }));
    volumeSize = page.VolumeSize!;
    blockSize = page.BlockSize!;
    for (const b of page.Blocks ?? []) blocks.push({ index: b.BlockIndex!, token: b.BlockToken! });
    token = page.NextToken;
  } while (token);
  const out = Buffer.alloc(volumeSize * GIB); // the sparse file
  await pool(blocks, opts.workers ?? 64, async ({ index, token: blockToken }) => {
    const r = await ebs.send(new GetSnapshotBlockCommand({ SnapshotId: snapshotId, BlockIndex: index, BlockToken: blockToken }));
    const data = Buffer.from(await r.BlockData!.transformToByteArray());
    if (r.DataLength !== data.length || data.length > blockSize) throw new Error(`block ${index}: ${data.length} bytes, DataLength ${r.DataLength}`);
    if (createHash('sha256').update(data).digest('base64') !== r.Checksum) throw new Error(`block ${index}: checksum mismatch`);
    data.copy(out, index * blockSize);
  });
  return out;
}
