/** CreateTags, DeleteTags, DescribeTags on the caller's volumes and snapshots. */
import { compileFilters, type FilterInput } from '../catalog/filters.js';
import { TAG_FILTERS } from '../catalog/filter-tables.js';
import { resourceKind } from '../catalog/ids.js';
import { pageOf, type Page, type PageRequest } from '../catalog/pagination.js';
import type { SnapshotMeta, Tag, VolumeMeta } from '../catalog/records.js';
import { ownedSnapshot } from '../catalog/snapshot-access.js';
import { mergeTags, removeTags, type TagInput } from '../catalog/tags.js';
import type { TagView } from '../catalog/views.js';
import { checkDryRun, type CallerContext, type Services } from './context.js';
import { callerVolume } from './volumes.js';

type Tagged = { kind: 'volume'; meta: VolumeMeta } | { kind: 'snapshot'; meta: SnapshotMeta };

function resource(s: Services, ctx: CallerContext, id: string): Tagged {
  return resourceKind(id) === 'volume'
    ? { kind: 'volume', meta: callerVolume(s, ctx, id) }
    : { kind: 'snapshot', meta: ownedSnapshot(s.catalog.getSnapshot(id), ctx, id) };
}

/** All resources are checked before any changes; the changes are one batch. */
async function retag(s: Services, ctx: CallerContext, ids: readonly string[], change: (tags: Tag[], id: string) => Tag[]): Promise<void> {
  await s.lock.run(async () => {
    const updated = [...new Set(ids)].map((id) => {
      const r = resource(s, ctx, id);
      return { ...r, meta: { ...r.meta, tags: change(r.meta.tags, id) } } as Tagged;
    });
    checkDryRun(ctx);
    await s.store.records.write(updated.map((r) => (r.kind === 'volume' ? s.catalog.volumeRecord(r.meta) : s.catalog.snapshotRecord(r.meta))));
    for (const r of updated) {
      if (r.kind === 'volume') s.catalog.setVolume(r.meta);
      else s.catalog.setSnapshot(r.meta);
    }
  });
}

export function createTags(s: Services, ctx: CallerContext, input: { resources: string[]; tags: TagInput[] }): Promise<void> {
  return retag(s, ctx, input.resources, (tags, id) => mergeTags(tags, input.tags, id));
}

export function deleteTags(s: Services, ctx: CallerContext, input: { resources: string[]; tags?: TagInput[] }): Promise<void> {
  return retag(s, ctx, input.resources, (tags) => removeTags(tags, input.tags));
}

/** A tag row's position: its resource's seq, then its index (at most 50 tags per resource). */
const TAG_SLOTS = 64;

interface TagRow {
  seq: number;
  view: TagView;
}

function* tagRows(s: Services, ctx: CallerContext): Generator<TagRow> {
  const volumes = [...s.catalog.volumesOf(ctx.accountId, ctx.region)];
  const snapshots = [...s.catalog.ownedSnapshots(ctx.accountId, ctx.region)];
  let i = 0;
  let j = 0;
  while (i < volumes.length || j < snapshots.length) {
    const takeVolume = j >= snapshots.length || (i < volumes.length && volumes[i]!.seq < snapshots[j]!.seq);
    const [meta, resourceType] = takeVolume ? [volumes[i++]!, 'volume' as const] : [snapshots[j++]!, 'snapshot' as const];
    for (const [k, t] of meta.tags.entries()) {
      yield { seq: meta.seq * TAG_SLOTS + k, view: { resourceId: meta.id, resourceType, key: t.key, value: t.value, resourceTags: meta.tags } };
    }
  }
}

export function describeTags(s: Services, ctx: CallerContext, input: PageRequest & { filters?: FilterInput[] }): Page<TagView> {
  const filter = compileFilters(TAG_FILTERS, input.filters);
  return pageOf(tagRows(s, ctx), (row) => row.view, filter.matches, input, { min: 5, max: 1000 });
}
