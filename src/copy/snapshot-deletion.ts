/**
 * How a snapshot is deleted once nothing depends on it (the copy engine decides when): its blocks
 * queued for the collector, then its manifest, then its local data and records. The collector's
 * next sweep deletes the blocks no other manifest references. A crash in between leaves the
 * delete request in place, and the next open finishes the job.
 */
import type { BlockStore } from '../core/block-store.js';
import { isCoreError } from '../core/errors.js';
import type { RecordPut } from '../core/record-store.js';
import type { BlockCollector } from './block-collector.js';
import type { BlockRepository } from './block-repository.js';
import { doneNamespace } from './snapshot-copy-job.js';

/** Deletes everything of `snapshotId`; `statusRecord` (its copy status, deleted) goes in the last batch. */
export async function deleteSnapshotData(
  store: BlockStore,
  repo: BlockRepository,
  collector: BlockCollector,
  snapshotId: string,
  statusRecord: RecordPut,
): Promise<void> {
  // Its blocks: those its manifest names, and those a copy that never completed had uploaded.
  const candidates = new Set<string>();
  for (const sha of (await repo.getManifest(snapshotId))?.blocks.values() ?? []) candidates.add(sha);
  const done: RecordPut[] = [];
  for await (const [index, sha] of store.records.list<string>(doneNamespace(snapshotId))) {
    if (sha) candidates.add(sha);
    done.push({ namespace: doneNamespace(snapshotId), id: index, value: null });
  }
  await collector.queue(snapshotId, candidates);
  await repo.deleteManifest(snapshotId);
  collector.dropped(snapshotId);
  const records = [...done, statusRecord];
  const local = await store.getSnapshot(snapshotId).then(
    () => true,
    (e: unknown) => (isCoreError(e, 'SNAPSHOT_NOT_FOUND') ? false : Promise.reject(e)),
  );
  if (local) await store.deleteSnapshot(snapshotId, records);
  else await store.records.write(records);
}
