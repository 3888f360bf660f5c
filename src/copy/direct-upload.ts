/**
 * Snapshots written block by block (the EBS direct APIs: StartSnapshot, PutSnapshotBlock,
 * CompleteSnapshot), with no volume behind them. Each put stores its block content-addressed in
 * the object store, as a copy does (a block already there is not stored again, and counts as
 * deduplicated), and records index → digest in the snapshot's done records, the namespace a copy
 * checkpoints to. Sealing checks the count and the LINEAR checksum the client sent, then writes
 * the manifest (the parent's blocks, overlaid with the puts) last: that is the commit point.
 *
 * Blocks put but not yet in a manifest are pinned in memory, so the collector leaves them; a
 * restart pins them again from the done records.
 */
import { createHash } from 'node:crypto';
import type { RecordPut, RecordStore } from '../core/record-store.js';
import type { BlockRepository } from './block-repository.js';
import type { CopyStatus } from './copy-status.js';
import type { Manifest } from './manifest.js';
import { doneNamespace } from './snapshot-copy-job.js';

export interface DirectSeal {
  /** The client's ChangedBlocksCount. */
  changedBlocks: number;
  /** The client's LINEAR aggregate checksum (base64), if it sent one. */
  checksum?: string;
}

export interface DirectUploadDeps {
  repo: BlockRepository;
  records: RecordStore;
  now(): number;
  /** Changes a status under the engine's save lock (undefined: leave it); resolves with the saved one. */
  update(snapshotId: string, change: (prev: CopyStatus) => CopyStatus | undefined, records?: RecordPut[]): Promise<CopyStatus | undefined>;
  /** The parent's manifest once it settled; undefined if it did not complete. */
  parentManifest(parentId: string): Promise<Manifest | undefined>;
}

const zeroDigests = new Map<number, string>();

/** SHA-256 hex of an all-zero block: such a block is a hole, never stored. */
export function zeroBlockSha(blockSize: number): string {
  let sha = zeroDigests.get(blockSize);
  if (sha === undefined) {
    sha = createHash('sha256').update(Buffer.alloc(blockSize)).digest('hex');
    zeroDigests.set(blockSize, sha);
  }
  return sha;
}

/** Stores one block of a direct snapshot; its done record and the counters go in one batch. */
export async function putDirectBlock(
  deps: DirectUploadDeps,
  st: CopyStatus,
  put: { index: number; content: Buffer; sha256: string; progress?: number },
): Promise<{ deduplicated: boolean }> {
  const zero = put.sha256 === zeroBlockSha(st.blockSize);
  const record: RecordPut = { namespace: doneNamespace(st.snapshotId), id: String(put.index), value: put.sha256 };
  // One pin per index put (the caller lets one put of an index run at a time): a rewrite drops
  // the pin of what it replaces.
  const previous = await deps.records.get<string>(record.namespace, record.id);
  const uploaded = zero ? false : await deps.repo.ensureBlock(put.sha256, put.content);
  await deps.update(st.snapshotId, (prev) => ({
    ...prev,
    blocksDone: prev.blocksDone + 1,
    bytesUploaded: prev.bytesUploaded + (uploaded ? put.content.length : 0),
    bytesDeduplicated: prev.bytesDeduplicated + (uploaded || zero ? 0 : put.content.length),
    direct: { ...prev.direct!, progress: Math.max(prev.direct?.progress ?? 0, put.progress ?? 0) },
  }), [record]);
  if (previous) unpinStored(deps.repo, [previous], st.blockSize);
  return { deduplicated: !uploaded && !zero };
}

/** What was put, by index (a block put twice counts once, with its last digest). */
async function putBlocks(records: RecordStore, snapshotId: string): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  for await (const [index, sha] of records.list<string>(doneNamespace(snapshotId))) if (sha) out.set(Number(index), sha);
  return out;
}

/** Pins again, after a restart, the blocks a pending direct snapshot was put. */
export async function repinDirectBlocks(deps: DirectUploadDeps, st: CopyStatus): Promise<void> {
  const zero = zeroBlockSha(st.blockSize);
  for (const sha of (await putBlocks(deps.records, st.snapshotId)).values()) {
    if (sha !== zero) await deps.repo.pinExisting(sha).catch(() => undefined);
  }
}

/** Drops the pins of put blocks (zero blocks were never stored, so never pinned). */
export function unpinStored(repo: BlockRepository, shas: Iterable<string>, blockSize: number): void {
  const zero = zeroBlockSha(blockSize);
  repo.unpin([...shas].filter((sha) => sha !== zero));
}

/** SHA-256 (base64) of the blocks' raw digests in ascending index order: the LINEAR aggregate. */
export function linearChecksum(blocks: Map<number, string>): string {
  const hash = createHash('sha256');
  for (const index of [...blocks.keys()].sort((a, b) => a - b)) hash.update(Buffer.from(blocks.get(index)!, 'hex'));
  return hash.digest('base64');
}

/**
 * Seals a direct snapshot: checks what the client declared against what it put, then writes the
 * manifest and marks it completed (or throws, for the engine to mark it failed).
 */
export async function sealDirectSnapshot(deps: DirectUploadDeps, st: CopyStatus, seal: DirectSeal): Promise<void> {
  const put = await putBlocks(deps.records, st.snapshotId);
  try {
    if (put.size !== seal.changedBlocks) {
      throw new Error(`ChangedBlocksCount is ${seal.changedBlocks}, but ${put.size} distinct blocks were written.`);
    }
    if (seal.checksum !== undefined && seal.checksum !== linearChecksum(put)) {
      throw new Error('The aggregate checksum (SHA256, LINEAR) does not match the blocks written.');
    }
    const blocks = new Map<number, string>();
    if (st.parentId) {
      const parent = await deps.parentManifest(st.parentId);
      if (!parent) throw new Error(`The parent snapshot ${st.parentId} did not complete.`);
      for (const [index, sha] of parent.blocks) if (index * st.blockSize < st.volumeSize) blocks.set(index, sha);
    }
    const zero = zeroBlockSha(st.blockSize);
    for (const [index, sha] of put) {
      if (sha === zero) blocks.delete(index);
      else blocks.set(index, sha);
    }
    await deps.repo.putManifest({
      snapshotId: st.snapshotId, volumeId: st.volumeId, volumeSize: st.volumeSize, blockSize: st.blockSize,
      parentId: st.parentId, createdAt: st.startedAt, blocks,
    });
    const done = [...put.keys()].map((index) => ({ namespace: doneNamespace(st.snapshotId), id: String(index), value: null }));
    await deps.update(st.snapshotId, (prev) => ({
      ...prev, state: 'completed', progress: 100, blocksTotal: blocks.size, blocksDone: blocks.size, completedAt: new Date(deps.now()).toISOString(),
    }), done);
  } finally {
    unpinStored(deps.repo, put.values(), st.blockSize);
  }
}
