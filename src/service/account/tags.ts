/** CreateTags, DeleteTags, DescribeTags on the caller's volumes, snapshots and instances. */
import { compileFilters, type FilterInput } from '../state/filters.js';
import { TAG_FILTERS } from '../state/filter-tables.js';
import { resourceKind } from '../state/resource-ids.js';
import { pageOf, type Page, type PageRequest } from '../state/pagination.js';
import type { InstanceMeta, SnapshotMeta, Tag, VolumeMeta } from '../state/resource-records.js';
import { ownedSnapshot } from '../state/snapshot-access.js';
import { mergeTags, removeTags, type TagInput } from '../state/tag-rules.js';
import type { TagView } from '../state/views.js';
import { checkDryRun, type CallerContext, type ServiceState } from '../context.js';
import { callerInstance } from '../volumes/attachments.js';
import { callerVolume } from '../volumes/volumes.js';

type Tagged = { kind: 'volume'; meta: VolumeMeta } | { kind: 'snapshot'; meta: SnapshotMeta } | { kind: 'instance'; meta: InstanceMeta };

function resource(s: ServiceState, ctx: CallerContext, id: string): Tagged {
  switch (resourceKind(id)) {
    case 'volume':
      return { kind: 'volume', meta: callerVolume(s, ctx, id) };
    case 'snapshot':
      return { kind: 'snapshot', meta: ownedSnapshot(s.catalog.getSnapshot(id), ctx, id) };
    case 'instance':
      return { kind: 'instance', meta: callerInstance(s, ctx, id) };
  }
}

function recordOf(s: ServiceState, r: Tagged) {
  if (r.kind === 'volume') return s.catalog.volumeRecord(r.meta);
  if (r.kind === 'snapshot') return s.catalog.snapshotRecord(r.meta);
  return s.catalog.instanceRecord(r.meta);
}

/** All resources are checked before any changes; the changes are one batch. */
async function retag(s: ServiceState, ctx: CallerContext, ids: readonly string[], change: (tags: Tag[], id: string) => Tag[]): Promise<void> {
  await s.lock.run(async () => {
    const updated = [...new Set(ids)].map((id) => {
      const r = resource(s, ctx, id);
      return { ...r, meta: { ...r.meta, tags: change(r.meta.tags, id) } } as Tagged;
    });
    checkDryRun(ctx);
    await s.store.records.write(updated.map((r) => recordOf(s, r)));
    for (const r of updated) {
      if (r.kind === 'volume') s.catalog.setVolume(r.meta);
      else if (r.kind === 'snapshot') s.catalog.setSnapshot(r.meta);
      else s.catalog.setInstance(r.meta);
    }
  });
}

export function createTags(s: ServiceState, ctx: CallerContext, input: { resources: string[]; tags: TagInput[] }): Promise<void> {
  return retag(s, ctx, input.resources, (tags, id) => mergeTags(tags, input.tags, id));
}

export function deleteTags(s: ServiceState, ctx: CallerContext, input: { resources: string[]; tags?: TagInput[] }): Promise<void> {
  return retag(s, ctx, input.resources, (tags) => removeTags(tags, input.tags));
}

/** A tag row's position: its resource's seq, then its index (at most 50 tags per resource). */
const TAG_SLOTS = 64;

interface TagRow {
  seq: number;
  view: TagView;
}

function* tagRows(s: ServiceState, ctx: CallerContext): Generator<TagRow> {
  type Row = { meta: { seq: number; id: string; tags: Tag[] }; resourceType: TagView['resourceType'] };
  const rows: Row[] = [
    ...[...s.catalog.volumesOf(ctx.accountId, ctx.region)].map((meta) => ({ meta, resourceType: 'volume' as const })),
    ...[...s.catalog.ownedSnapshots(ctx.accountId, ctx.region)].map((meta) => ({ meta, resourceType: 'snapshot' as const })),
    ...[...s.catalog.instancesOf(ctx.accountId, ctx.region)].map((meta) => ({ meta, resourceType: 'instance' as const })),
  ].sort((a, b) => a.meta.seq - b.meta.seq);
  for (const { meta, resourceType } of rows) {
    for (const [k, t] of meta.tags.entries()) {
      yield { seq: meta.seq * TAG_SLOTS + k, view: { resourceId: meta.id, resourceType, key: t.key, value: t.value, resourceTags: meta.tags } };
    }
  }
}

export function describeTags(s: ServiceState, ctx: CallerContext, input: PageRequest & { filters?: FilterInput[] }): Page<TagView> {
  const filter = compileFilters(TAG_FILTERS, input.filters);
  return pageOf(tagRows(s, ctx), (row) => row.view, filter.matches, input, { min: 5, max: 1000 });
}
