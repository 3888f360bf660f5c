/**
 * The baselines every figure sits beside, measured in the same run on the same machine with the
 * same 512 KiB blocks: plain file writes on the object store's disk (fs), a raw PutObject loop to
 * the same bucket (s3), or a data-plane write (memory store, and the direct preset).
 */
import { closeSync, constants, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AlignedBuffer } from '../platform/direct-io.js';
import type { BlockData } from './block-data.js';
import { BLOCK } from './config.js';
import { PublicClient, pool } from './public-client.js';
import type { ThroughputPhase } from './results.js';

/** Times `count` operations of BLOCK bytes run one after another (or `workers` at a time). */
async function timeBlocks(
  name: string, description: string, count: number, workers: number, op: (i: number) => Promise<void> | void,
): Promise<ThroughputPhase> {
  const points: Array<[number, number]> = [];
  const latenciesMs: number[] = [];
  let done = 0;
  const start = performance.now();
  await pool(Array.from({ length: count }, (_, i) => i), workers, async (i) => {
    const t = performance.now();
    await op(i);
    const end = performance.now();
    latenciesMs.push(end - t);
    done += BLOCK;
    points.push([end - start, done]);
  });
  const durationMs = performance.now() - start;
  return { name, description, bytes: done, durationMs, bytesPerSec: done / (durationMs / 1000), points, latenciesMs, opBytes: BLOCK };
}

/**
 * One new file per block, written with writeFileSync one after another, in `dir`. The caller
 * removes them once the run is over, not before the copies: on ext4 without a journal (this
 * project's machines), creating a file skips every inode freed in the last ~35 s one by one, so
 * 2,048 files deleted just before a 1 GiB copy made its 2,048 new files slower to create
 * (measured: 277-296 MB/s against 394-539 MB/s with them kept).
 */
export async function plainFileWrites(dir: string, data: BlockData, blocks: number): Promise<ThroughputPhase> {
  mkdirSync(dir, { recursive: true });
  return timeBlocks('plain file writes', `plain file writes on the object store's disk: one new 512 KiB file per block, one after another (${dir})`, blocks, 1, (i) => {
    writeFileSync(join(dir, `block-${i}`), data.block(i));
  });
}

/**
 * The same loop as plainFileWrites, each file written with O_DIRECT from one aligned buffer, as
 * the fs store writes snapshot blocks: the bytes reach the disk before the next file, where plain
 * writes leave them in the page cache (and this bench removes them before the kernel writes them
 * back). So this measures the disk the copy writes to; plain file writes measure the memory.
 * Undefined where the file system refuses direct I/O (ramfs, and tmpfs before Linux 6.6).
 */
export async function plainDirectWrites(dir: string, data: BlockData, blocks: number): Promise<ThroughputPhase | undefined> {
  mkdirSync(dir, { recursive: true });
  const aligned = new AlignedBuffer();
  const open = (name: string) => openSync(join(dir, name), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_DIRECT, 0o666);
  try {
    // The probe, in a file of its own (removed with the directory: no deletion before the copy).
    const fd = open('probe');
    try {
      aligned.bytes(fd, BLOCK);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if ((err as { code?: string }).code !== 'EINVAL') throw err;
    aligned.refuse();
  }
  if (aligned.refused) return undefined;
  return timeBlocks('plain direct writes', `plain direct writes on the object store's disk: one new 512 KiB file per block written with O_DIRECT, one after another (${dir})`, blocks, 1, (i) => {
    const fd = open(`block-${i}`);
    try {
      const bytes = aligned.bytes(fd, BLOCK)!;
      bytes.set(data.block(i));
      for (let done = 0; done < BLOCK; ) done += writeSync(fd, bytes, done, BLOCK - done, done);
    } finally {
      closeSync(fd);
    }
  });
}

/** The s3 object store spec's parts, as `ebs-sim serve --object-store` takes them. */
export function parseS3Spec(spec: string): { bucket: string; prefix: string; endpoint?: string; region: string; forcePathStyle: boolean } {
  const url = new URL(spec);
  const endpoint = url.searchParams.get('endpoint') ?? undefined;
  return {
    bucket: url.hostname,
    prefix: url.pathname.replace(/^\/+/, ''),
    ...(endpoint ? { endpoint } : {}),
    region: url.searchParams.get('region') ?? process.env.AWS_REGION ?? 'us-east-1',
    forcePathStyle: url.searchParams.get('forcePathStyle') === 'true',
  };
}

/** PutObject of each block under `<prefix>ebs-sim-bench-baseline/`, one after another (deleted after). */
export async function rawPutObjects(spec: string, data: BlockData, blocks: number): Promise<ThroughputPhase> {
  const s3 = parseS3Spec(spec);
  const client = new S3Client({ region: s3.region, forcePathStyle: s3.forcePathStyle, ...(s3.endpoint ? { endpoint: s3.endpoint } : {}) });
  const key = (i: number) => `${s3.prefix ? `${s3.prefix.replace(/\/$/, '')}/` : ''}ebs-sim-bench-baseline/block-${i}`;
  try {
    const phase = await timeBlocks('raw PutObject', `a raw PutObject loop, one 512 KiB object per block, one after another, to s3://${s3.bucket}`, blocks, 1, async (i) => {
      await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key(i), Body: Buffer.from(data.block(i)) }));
    });
    await pool(Array.from({ length: blocks }, (_, i) => i), 16, async (i) => {
      await client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: key(i) }));
    });
    return phase;
  } finally {
    client.destroy();
  }
}

/**
 * Writes `bytes` to a volume through the data plane, `inFlight` requests of `requestBytes` at a
 * time: blocks `base`.. of `version`.
 */
export async function dataPlaneWrite(
  client: PublicClient, volumeId: string, data: BlockData, bytes: number, opts: { name?: string; version?: number; requestBytes?: number; inFlight?: number; base?: number } = {},
): Promise<ThroughputPhase> {
  const requestBytes = opts.requestBytes ?? 8 * 1024 * 1024;
  const blocksPer = requestBytes / BLOCK;
  const total = Math.ceil(bytes / BLOCK);
  const requests = Array.from({ length: Math.ceil(total / blocksPer) }, (_, r) => r * blocksPer);
  const points: Array<[number, number]> = [];
  const latenciesMs: number[] = [];
  let done = 0;
  const start = performance.now();
  await pool(requests, opts.inFlight ?? 4, async (first) => {
    const count = Math.min(blocksPer, total - first);
    const body = data.range((opts.base ?? 0) + first, count, opts.version ?? 0);
    const t = performance.now();
    await client.write(volumeId, first * BLOCK, body);
    const end = performance.now();
    latenciesMs.push(end - t);
    done += body.length;
    points.push([end - start, done]);
  });
  const durationMs = performance.now() - start;
  return {
    name: opts.name ?? 'data-plane write',
    description: `PUT /data/volumes/${volumeId}, ${requestBytes >= 1024 * 1024 ? `${requestBytes / (1024 * 1024)} MiB` : `${requestBytes / 1024} KiB`} per request, ${opts.inFlight ?? 4} at a time`,
    bytes: done, durationMs, bytesPerSec: done / (durationMs / 1000), points, latenciesMs, opBytes: requestBytes,
  };
}
