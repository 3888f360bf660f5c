/**
 * The EBS direct APIs on the simulator's own snapshots: read what any completed snapshot holds,
 * block by block (its manifest, its blocks in the object store), compare two of a lineage, and
 * write snapshots with no volume (StartSnapshot → PutSnapshotBlock → CompleteSnapshot), whose
 * blocks join the same content-addressed store. A snapshot written this way is `pending` in
 * DescribeSnapshots until its seal ends, then an ordinary snapshot: restorable, copyable,
 * deletable.
 */
import { createHash } from 'node:crypto';
import { DEFAULT_BLOCK_SIZE } from '../../core/geometry.js';
import { newSnapshotId } from '../../core/ids.js';
import type { CopyStatus } from '../../copy/copy-status.js';
import { GIB, schedule, type CallerContext, type ServiceState } from '../context.js';
import { resolveEncryption } from '../account/encryption.js';
import { checkSnapshotId, COPIED_SNAPSHOT_VOLUME_ID } from '../state/resource-ids.js';
import type { SnapshotMeta, Tag } from '../state/resource-records.js';
import { ownedSnapshot, visibleSnapshot } from '../state/snapshot-access.js';
import { checkTag } from '../state/tag-rules.js';
import { MAX_DESCRIPTION } from '../snapshots/snapshots.js';
import { BLOCK_TOKEN_TTL_MS, PAGE_TOKEN_TTL_MS } from './block-tokens.js';
import { DirectApiError } from './direct-errors.js';
import { changedAmong, changedBlocks, snapshotBlocks } from './manifest-pages.js';

export const BLOCK_SIZE = DEFAULT_BLOCK_SIZE;
/** AWS: at most 100 snapshots pending through StartSnapshot per account. */
export const MAX_PENDING_DIRECT = 100;
const DEFAULT_TIMEOUT_MINUTES = 60;
const MAX_TAGS = 50;

export interface StartSnapshotInput {
  VolumeSize: number;
  ParentSnapshotId?: string;
  Tags?: Array<{ Key?: string; Value?: string }>;
  Description?: string;
  ClientToken?: string;
  Encrypted?: boolean;
  KmsKeyArn?: string;
  Timeout?: number;
}

export interface StartSnapshotOutput {
  SnapshotId: string;
  OwnerId: string;
  Status: string;
  StartTime: Date;
  VolumeSize: number;
  BlockSize: number;
  Tags: { Key: string; Value: string }[];
  Description: string;
  ParentSnapshotId?: string;
  KmsKeyArn?: string;
  SseType: 'sse-kms' | 'none';
}

/** The state every direct-API call shares (in ServiceState.direct). */
export interface DirectState {
  tokens: import('./block-tokens.js').BlockTokens;
  limits: import('./rate-limits.js').RateLimits;
  /** `snapshot\0index` of the puts running now: a second put of one index is a conflict. */
  puts: Set<string>;
  /** Last put or start per open snapshot (simulated ms): the Timeout counts from there. */
  activity: Map<string, number>;
}

// ---- StartSnapshot ----

export async function startSnapshot(s: ServiceState, ctx: CallerContext, input: StartSnapshotInput): Promise<StartSnapshotOutput> {
  s.direct.limits.take('start', ctx.accountId);
  const request = fingerprint(input);
  return s.lock.run(async () => {
    if (input.ClientToken !== undefined) {
      const earlier = findByClientToken(s, ctx, input.ClientToken);
      if (earlier) {
        if (earlier.direct!.request !== request) {
          throw new DirectApiError('CLIENT_TOKEN_CONFLICT', `ClientToken ${input.ClientToken} was used with other parameters for ${earlier.id}.`);
        }
        return startOutput(s, earlier);
      }
    }
    const parent = input.ParentSnapshotId === undefined ? undefined : readableSnapshot(s, ctx, input.ParentSnapshotId);
    if (parent && input.Encrypted !== undefined) {
      throw new DirectApiError('PARAMETER_INVALID', 'Encrypted cannot be given with ParentSnapshotId: the snapshot inherits its parent\'s encryption.');
    }
    if (parent && input.VolumeSize < parent.volumeSizeGiB) {
      throw new DirectApiError('VOLUME_SIZE_INVALID', `VolumeSize ${input.VolumeSize} GiB is smaller than the parent snapshot's ${parent.volumeSizeGiB} GiB.`);
    }
    if (input.VolumeSize > 64 * 1024) throw new DirectApiError('VOLUME_SIZE_INVALID', `VolumeSize ${input.VolumeSize} GiB is over the 65536 GiB maximum.`);
    if (input.Description !== undefined && [...input.Description].length > MAX_DESCRIPTION) {
      throw new DirectApiError('PARAMETER_INVALID', `Description is longer than ${MAX_DESCRIPTION} characters.`);
    }
    const tags = checkTags(input.Tags);
    const pending = [...s.catalog.ownedSnapshots(ctx.accountId, ctx.region)].filter((m) => m.direct && s.engine.statuses.state(m.id) === 'pending').length;
    if (pending >= MAX_PENDING_DIRECT) {
      throw new DirectApiError('PENDING_LIMIT_EXCEEDED', `Account ${ctx.accountId} already has ${MAX_PENDING_DIRECT} snapshots pending through StartSnapshot; complete some first.`);
    }
    const encryption = resolveEncryption(s, ctx, input.Encrypted, input.KmsKeyArn, parent);
    const id = newSnapshotId();
    const now = s.clock.now();
    const meta: SnapshotMeta = {
      id,
      seq: s.catalog.nextSeq(),
      ownerId: ctx.accountId,
      region: ctx.region,
      volumeId: COPIED_SNAPSHOT_VOLUME_ID, // AWS shows snapshots written through the direct APIs with this volume
      volumeSizeGiB: input.VolumeSize,
      description: input.Description ?? '',
      ...encryption,
      startTime: new Date(now).toISOString(),
      tags,
      productCodes: [],
      createVolumePermissions: { userIds: [], public: false },
      archived: false,
      direct: {
        ...(parent ? { parentSnapshotId: parent.id } : {}),
        ...(input.ClientToken !== undefined ? { clientToken: input.ClientToken } : {}),
        request,
        timeoutMinutes: input.Timeout ?? DEFAULT_TIMEOUT_MINUTES,
        lineage: parent ? lineageOf(parent) : id,
      },
    };
    await s.engine.direct.start({
      snapshotId: id,
      volumeId: meta.volumeId,
      volumeSize: input.VolumeSize * GIB,
      blockSize: BLOCK_SIZE,
      parentId: parent?.id ?? null,
      records: [s.catalog.snapshotRecord(meta)],
    });
    s.catalog.setSnapshot(meta);
    watchTimeout(s, meta, now);
    return startOutput(s, meta);
  });
}

function startOutput(s: ServiceState, m: SnapshotMeta): StartSnapshotOutput {
  return {
    SnapshotId: m.id,
    OwnerId: m.ownerId,
    Status: s.engine.statuses.state(m.id) ?? 'error',
    StartTime: new Date(m.startTime),
    VolumeSize: m.volumeSizeGiB,
    BlockSize: BLOCK_SIZE,
    Tags: m.tags.map((t) => ({ Key: t.key, Value: t.value })),
    Description: m.description,
    ...(m.direct?.parentSnapshotId ? { ParentSnapshotId: m.direct.parentSnapshotId } : {}),
    ...(m.kmsKeyId !== undefined ? { KmsKeyArn: m.kmsKeyId } : {}),
    SseType: m.encrypted ? 'sse-kms' : 'none',
  };
}

/** What a ClientToken promises to repeat: every parameter but the token. */
function fingerprint(input: StartSnapshotInput): string {
  const { ClientToken: _token, ...rest } = input;
  return createHash('sha256').update(JSON.stringify(rest, Object.keys(rest).sort())).digest('base64');
}

function findByClientToken(s: ServiceState, ctx: CallerContext, token: string): SnapshotMeta | undefined {
  for (const m of s.catalog.ownedSnapshots(ctx.accountId, ctx.region)) if (m.direct?.clientToken === token) return m;
  return undefined;
}

function checkTags(input: StartSnapshotInput['Tags']): Tag[] {
  if ((input?.length ?? 0) > MAX_TAGS) throw new DirectApiError('TAG_INVALID', `At most ${MAX_TAGS} tags, got ${input!.length}.`);
  let tags: Tag[];
  try {
    tags = (input ?? []).map(checkTag);
  } catch (err) {
    throw new DirectApiError('TAG_INVALID', (err as Error).message);
  }
  if (new Set(tags.map((t) => t.key)).size !== tags.length) throw new DirectApiError('TAG_INVALID', 'A tag key appears more than once.');
  return tags;
}

/**
 * The snapshot fails once `Timeout` minutes pass with neither a put nor a CompleteSnapshot.
 * Follows the service's clock; the next open arms it again from the open.
 */
export function watchTimeout(s: ServiceState, meta: SnapshotMeta, since: number): void {
  s.direct.activity.set(meta.id, since);
  const limitMs = meta.direct!.timeoutMinutes * 60_000;
  const check = async (): Promise<void> => {
    const last = s.direct.activity.get(meta.id);
    if (last === undefined) return;
    const due = last + limitMs;
    if (s.clock.now() < due) return schedule(s, due - s.clock.now(), check);
    s.direct.activity.delete(meta.id);
    await s.engine.direct.expire(meta.id, `No block was written and CompleteSnapshot was not called for ${meta.direct!.timeoutMinutes} minutes (the snapshot's Timeout).`);
  };
  schedule(s, limitMs, check);
}

// ---- PutSnapshotBlock ----

export interface PutSnapshotBlockInput {
  SnapshotId: string;
  BlockIndex: number;
  BlockData: Buffer;
  DataLength: number;
  Checksum: string;
  ChecksumAlgorithm: string;
  Progress?: number;
}

export async function putSnapshotBlock(s: ServiceState, ctx: CallerContext, input: PutSnapshotBlockInput): Promise<{ Checksum: string; ChecksumAlgorithm: 'SHA256' }> {
  const meta = writableSnapshot(s, ctx, input.SnapshotId);
  s.direct.limits.take('put', ctx.accountId, meta.id);
  if (input.DataLength !== BLOCK_SIZE || input.BlockData.length !== BLOCK_SIZE) {
    throw new DirectApiError('DATA_LENGTH_INVALID', `A block is ${BLOCK_SIZE} bytes: x-amz-Data-Length is ${input.DataLength} and the body ${input.BlockData.length} bytes.`);
  }
  checkIndex(meta, input.BlockIndex);
  const digest = createHash('sha256').update(input.BlockData).digest();
  if (digest.toString('base64') !== input.Checksum) {
    throw new DirectApiError('CHECKSUM_MISMATCH', `The checksum ${input.Checksum} does not match the SHA-256 of the block's ${BLOCK_SIZE} bytes.`);
  }
  const key = `${meta.id}\0${input.BlockIndex}`;
  if (s.direct.puts.has(key)) throw new DirectApiError('BLOCK_UPDATE_CONFLICT', `Block ${input.BlockIndex} of ${meta.id} is being written by another request.`);
  s.direct.puts.add(key);
  try {
    await s.engine.direct.put(meta.id, {
      index: input.BlockIndex, content: input.BlockData, sha256: digest.toString('hex'),
      ...(input.Progress !== undefined ? { progress: input.Progress } : {}),
    });
    if (s.direct.activity.has(meta.id)) s.direct.activity.set(meta.id, s.clock.now());
  } finally {
    s.direct.puts.delete(key);
  }
  return { Checksum: digest.toString('base64'), ChecksumAlgorithm: 'SHA256' };
}

/** A snapshot the caller owns that was started with StartSnapshot and still takes blocks. */
function writableSnapshot(s: ServiceState, ctx: CallerContext, id: string): SnapshotMeta {
  const meta = ownedDirect(s, ctx, id);
  const st = s.engine.statuses.status(meta.id);
  if (st?.state === 'pending' && !st.direct?.sealing) return meta;
  if (st?.state === 'error' && !s.direct.activity.has(meta.id) && st.message?.includes('Timeout')) {
    throw new DirectApiError('WRITE_TIMED_OUT', `Snapshot ${id} timed out: ${st.message}`);
  }
  throw new DirectApiError('SNAPSHOT_NOT_WRITABLE', `Snapshot ${id} takes no more blocks: ${st?.state === 'pending' ? 'CompleteSnapshot was called' : `it is ${st?.state ?? 'gone'}`}.`);
}

function ownedDirect(s: ServiceState, ctx: CallerContext, id: string): SnapshotMeta {
  const meta = ownedOrDenied(s, ctx, id);
  if (!meta.direct) throw new DirectApiError('SNAPSHOT_NOT_WRITABLE', `Snapshot ${id} was not started with StartSnapshot: only those take blocks.`);
  return meta;
}

function ownedOrDenied(s: ServiceState, ctx: CallerContext, id: string): SnapshotMeta {
  try {
    return ownedSnapshot(s.catalog.getSnapshot(checkSnapshotId(id)), ctx, id);
  } catch (err) {
    if ((err as { code?: string }).code === 'UNAUTHORIZED_OPERATION') throw new DirectApiError('ACCESS_DENIED', `Only the owner writes to snapshot ${id}.`);
    throw err;
  }
}

function checkIndex(meta: SnapshotMeta, index: number): void {
  const blocks = (meta.volumeSizeGiB * GIB) / BLOCK_SIZE;
  if (!Number.isSafeInteger(index) || index < 0 || index >= blocks) {
    throw new DirectApiError('BLOCK_INDEX_INVALID', `Block index ${index} is outside the snapshot: a ${meta.volumeSizeGiB} GiB volume has blocks 0 to ${blocks - 1}.`);
  }
}

// ---- CompleteSnapshot ----

export interface CompleteSnapshotInput {
  SnapshotId: string;
  ChangedBlocksCount: number;
  Checksum?: string;
  ChecksumAlgorithm?: string;
  ChecksumAggregationMethod?: string;
}

export async function completeSnapshot(s: ServiceState, ctx: CallerContext, input: CompleteSnapshotInput): Promise<{ Status: CopyStatus['state'] }> {
  s.direct.limits.take('complete', ctx.accountId);
  const meta = ownedDirect(s, ctx, input.SnapshotId);
  const given = [input.Checksum, input.ChecksumAlgorithm, input.ChecksumAggregationMethod].filter((v) => v !== undefined).length;
  if (given !== 0 && given !== 3) {
    throw new DirectApiError('PARAMETER_INVALID', 'Give all of x-amz-Checksum, x-amz-Checksum-Algorithm and x-amz-Checksum-Aggregation-Method, or none.');
  }
  if (given === 3 && (input.ChecksumAlgorithm !== 'SHA256' || input.ChecksumAggregationMethod !== 'LINEAR')) {
    throw new DirectApiError('PARAMETER_INVALID', 'The aggregate checksum is SHA256 with the LINEAR aggregation method.');
  }
  const st = s.engine.statuses.status(meta.id);
  // A retried CompleteSnapshot: say where it is.
  if (st && (st.state !== 'pending' || st.direct?.sealing)) return { Status: st.state };
  writableSnapshot(s, ctx, meta.id);
  s.direct.activity.delete(meta.id);
  await s.engine.direct.complete(meta.id, {
    changedBlocks: input.ChangedBlocksCount,
    ...(input.Checksum !== undefined ? { checksum: input.Checksum } : {}),
  });
  if (s.timings.instant) return { Status: (await s.engine.statuses.settled(meta.id)).state };
  return { Status: 'pending' };
}

// ---- reading: GetSnapshotBlock, ListSnapshotBlocks, ListChangedBlocks ----

/** A snapshot the caller may read (its own, or one shared with it) that is completed. */
function readableSnapshot(s: ServiceState, ctx: CallerContext, id: string): SnapshotMeta {
  const meta = visibleSnapshot(s.catalog.getSnapshot(checkSnapshotId(id)), ctx, id);
  const state = s.engine.statuses.state(meta.id);
  if (state !== 'completed') throw new DirectApiError('SNAPSHOT_NOT_READABLE', `Snapshot ${id} is ${state ?? 'gone'}: only completed snapshots can be read.`);
  return meta;
}

async function manifestOf(s: ServiceState, meta: SnapshotMeta) {
  const m = await s.engine.repo.getManifest(meta.id);
  if (!m) throw new DirectApiError('SNAPSHOT_NOT_READABLE', `Snapshot ${meta.id} has no manifest in the object store.`);
  return m;
}

export interface GetSnapshotBlockInput {
  SnapshotId: string;
  BlockIndex: number;
  BlockToken: string;
}

export async function getSnapshotBlock(s: ServiceState, ctx: CallerContext, input: GetSnapshotBlockInput) {
  const meta = readableSnapshot(s, ctx, input.SnapshotId);
  s.direct.limits.take('get', ctx.accountId, meta.id);
  checkIndex(meta, input.BlockIndex);
  s.direct.tokens.openBlockToken(input.BlockToken, meta.id, input.BlockIndex, s.clock.now());
  const sha = (await manifestOf(s, meta)).blocks.get(input.BlockIndex);
  // A token is made only for a block the manifest holds; this one was for a hole.
  if (sha === undefined) throw new DirectApiError('BLOCK_TOKEN_INVALID', `Block ${input.BlockIndex} of ${meta.id} is a hole: no token names it.`);
  const data = await s.engine.repo.getBlock(sha);
  return { BlockData: data, DataLength: data.length, Checksum: Buffer.from(sha, 'hex').toString('base64'), ChecksumAlgorithm: 'SHA256' as const };
}

export interface ListInput {
  MaxResults?: number;
  NextToken?: string;
  StartingBlockIndex?: number;
}

/** MaxResults below 100 still returns up to 100 (AWS); 10,000 at most, and by default. */
function pageSize(input: ListInput): number {
  return Math.min(10_000, Math.max(100, input.MaxResults ?? 10_000));
}

/** Where a page starts: the page token wins over StartingBlockIndex. */
function pageStart(s: ServiceState, scope: string, input: ListInput): number {
  if (input.NextToken !== undefined) return s.direct.tokens.openPageToken(input.NextToken, scope, s.clock.now());
  return input.StartingBlockIndex ?? 0;
}

export async function listSnapshotBlocks(s: ServiceState, ctx: CallerContext, input: ListInput & { SnapshotId: string }) {
  s.direct.limits.take('listBlocks', ctx.accountId);
  const meta = readableSnapshot(s, ctx, input.SnapshotId);
  const m = await manifestOf(s, meta);
  const now = s.clock.now();
  const page = snapshotBlocks(m, pageStart(s, meta.id, input), pageSize(input));
  const indexes = page.blocks.map((b) => b.index);
  const expiresAt = now + BLOCK_TOKEN_TTL_MS;
  return {
    Blocks: zipTokens(indexes, s.direct.tokens.blockTokens(meta.id, indexes, expiresAt)),
    ExpiryTime: new Date(expiresAt),
    VolumeSize: meta.volumeSizeGiB,
    BlockSize: BLOCK_SIZE,
    ...(page.next !== undefined ? { NextToken: s.direct.tokens.pageToken(meta.id, page.next, now + PAGE_TOKEN_TTL_MS) } : {}),
  };
}

export async function listChangedBlocks(s: ServiceState, ctx: CallerContext, input: ListInput & { FirstSnapshotId?: string; SecondSnapshotId: string }) {
  s.direct.limits.take('listChanged', ctx.accountId);
  const second = readableSnapshot(s, ctx, input.SecondSnapshotId);
  const first = input.FirstSnapshotId === undefined ? undefined : readableSnapshot(s, ctx, input.FirstSnapshotId);
  if (first && lineageOf(first) !== lineageOf(second)) {
    throw new DirectApiError('SNAPSHOTS_UNRELATED', `Snapshots ${first.id} and ${second.id} are not of one lineage (the same volume, or a chain of ParentSnapshotId).`);
  }
  const [m1, m2] = await Promise.all([first ? manifestOf(s, first) : undefined, manifestOf(s, second)]);
  const scope = `${first?.id ?? ''}\0${second.id}`;
  const now = s.clock.now();
  const start = pageStart(s, scope, input);
  const candidates = first && m1 ? await changeCandidates(s, first, second) : undefined;
  const page = candidates && m1 ? changedAmong(candidates, m1, m2, start, pageSize(input)) : changedBlocks(m1, m2, start, pageSize(input));
  const expiresAt = now + BLOCK_TOKEN_TTL_MS;
  const { tokens } = s.direct;
  // One cipher call per snapshot for the whole page.
  const inFirst = page.blocks.filter((b) => b.first !== undefined).map((b) => b.index);
  const inSecond = page.blocks.filter((b) => b.second !== undefined).map((b) => b.index);
  const firstTokens = first ? tokens.blockTokens(first.id, inFirst, expiresAt) : [];
  const secondTokens = tokens.blockTokens(second.id, inSecond, expiresAt);
  let f = 0;
  let g = 0;
  return {
    ChangedBlocks: page.blocks.map((b) => ({
      BlockIndex: b.index,
      ...(b.first !== undefined ? { FirstBlockToken: firstTokens[f++]! } : {}),
      ...(b.second !== undefined ? { SecondBlockToken: secondTokens[g++]! } : {}),
    })),
    ExpiryTime: new Date(expiresAt),
    VolumeSize: second.volumeSizeGiB,
    BlockSize: BLOCK_SIZE,
    ...(page.next !== undefined ? { NextToken: tokens.pageToken(scope, page.next, now + PAGE_TOKEN_TTL_MS) } : {}),
  };
}

/** Candidates per pair of snapshots (kept while the second's manifest is cached): the epoch scan runs once per listing. */
const candidatesByPair = new WeakMap<SnapshotMeta, Map<string, Uint32Array | undefined>>();

/**
 * For two CreateSnapshot snapshots of one volume that the core still holds, the blocks the epoch
 * index says were written between them; undefined otherwise (then the manifests are merged).
 */
async function changeCandidates(s: ServiceState, first: SnapshotMeta, second: SnapshotMeta): Promise<Uint32Array | undefined> {
  if (first.direct || second.direct || first.copiedFrom || second.copiedFrom || first.volumeId !== second.volumeId) return undefined;
  let byFirst = candidatesByPair.get(second);
  if (!byFirst) candidatesByPair.set(second, (byFirst = new Map()));
  if (!byFirst.has(first.id)) byFirst.set(first.id, await s.store.blocksChangedBetween(first.id, second.id));
  return byFirst.get(first.id);
}

function zipTokens(indexes: number[], tokens: string[]): Array<{ BlockIndex: number; BlockToken: string }> {
  return indexes.map((index, k) => ({ BlockIndex: index, BlockToken: tokens[k]! }));
}

/**
 * Which snapshots ListChangedBlocks may compare: those of one volume, and chains started with
 * ParentSnapshotId (a child joins its parent's lineage). A copy starts its own.
 */
export function lineageOf(m: SnapshotMeta): string {
  if (m.direct) return m.direct.lineage;
  if (m.copiedFrom) return m.id;
  return m.volumeId;
}
