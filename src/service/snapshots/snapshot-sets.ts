/**
 * CreateSnapshots: crash-consistent snapshots of an instance's volumes, frozen at one instant in
 * one LevelDB batch (the copy engine's createSnapshots), catalog records riding along. They hold
 * what the volumes hold at that instant: never what sits dirty in the instance's page caches. If
 * one member's copy fails, the engine puts every member of the set in `error`.
 */
import { CatalogError, invalidValue } from '../service-errors.js';
import { checkVolumeId } from '../state/resource-ids.js';
import { instanceStateAt } from '../state/instance-states.js';
import type { SnapshotMeta, Tag } from '../state/resource-records.js';
import { mergeTags, tagsFromSpecifications, type TagSpecificationInput } from '../state/tag-rules.js';
import type { SnapshotView } from '../state/views.js';
import { newSnapshotId } from '../../core/ids.js';
import { callerInstance, liveDevices } from '../volumes/attachments.js';
import { checkDryRun, type CallerContext, type ServiceState } from '../context.js';
import { checkDescription, checkSnapshotLimits, newSnapshotMeta, settledUnderInstantTiming, snapshotView } from './snapshots.js';

/** EC2: "up to 40 volumes" per set. */
const MAX_VOLUMES = 40;

export interface CreateSnapshotsInput {
  instanceId: string;
  excludeBootVolume?: boolean;
  excludeDataVolumeIds?: string[];
  description?: string;
  tagSpecifications?: TagSpecificationInput[];
  copyTagsFromSource?: string;
  outpostArn?: string;
}

export async function createSnapshots(s: ServiceState, ctx: CallerContext, input: CreateSnapshotsInput): Promise<SnapshotView[]> {
  callerInstance(s, ctx, input.instanceId);
  const description = checkDescription(input.description);
  if (input.outpostArn !== undefined) throw invalidValue('Outposts are not simulated: omit OutpostArn.');
  if (input.copyTagsFromSource !== undefined && input.copyTagsFromSource !== 'volume') {
    throw invalidValue(`CopyTagsFromSource must be 'volume', got '${input.copyTagsFromSource}'.`);
  }
  const excluded = new Set((input.excludeDataVolumeIds ?? []).map(checkVolumeId));
  // Tags from TagSpecifications are checked once here; each snapshot gets its own copy below.
  const specTags = tagsFromSpecifications(input.tagSpecifications, 'snapshot', 'the snapshots');

  const views = await s.lock.run(async () => {
    const now = s.clock.now();
    const instance = callerInstance(s, ctx, input.instanceId);
    const state = instanceStateAt(instance, now);
    if (state === 'shutting-down' || state === 'terminated') {
      throw new CatalogError('INCORRECT_INSTANCE_STATE', `The instance '${instance.id}' is ${state}: its volumes cannot be snapshotted.`);
    }
    const devices = liveDevices(s, instance.id, now);
    const root = devices.find((d) => d.device === instance.rootDeviceName);
    if (root && excluded.has(root.volume.id)) {
      throw invalidValue(`${root.volume.id} is the root volume of ${instance.id}: exclude it with ExcludeBootVolume, not ExcludeDataVolumeId.`);
    }
    const members = devices.filter((d) => !excluded.has(d.volume.id) && !(input.excludeBootVolume === true && d === root));
    if (members.length === 0) throw invalidValue(`No volume of ${instance.id} is left to snapshot after the exclusions.`);
    if (members.length > MAX_VOLUMES) throw invalidValue(`${instance.id} has ${members.length} volumes; CreateSnapshots takes at most ${MAX_VOLUMES}.`);
    for (const d of members) checkSnapshotLimits(s, d.volume, now);
    checkDryRun(ctx);
    const metas: SnapshotMeta[] = members.map((d) => {
      const id = newSnapshotId();
      const tags: Tag[] = input.copyTagsFromSource === 'volume' ? mergeTags(d.volume.tags, specTags.map((t) => ({ Key: t.key, Value: t.value })), id) : specTags.map((t) => ({ ...t }));
      return newSnapshotMeta(s, ctx, d.volume, { id, description, tags, now });
    });
    await s.engine.createSnapshots(
      metas.map((m) => ({ volumeId: m.volumeId, snapshotId: m.id })),
      { records: metas.map((m) => s.catalog.snapshotRecord(m)) },
    );
    for (const m of metas) s.catalog.setSnapshot(m);
    return metas.map((m) => snapshotView(s, m, ctx.accountId));
  });
  return settledUnderInstantTiming(s, ctx, views);
}
