/**
 * AttachVolume and DetachVolume. An attachment is `attaching`, then `attached` after
 * `attachmentMs`; a detach shows `detaching` for as long, then the volume is `available`. The
 * volume is `in-use` meanwhile. DetachVolume first writes back the attachment's page cache (the
 * OS unmounts cleanly); with Force its dirty pages are lost, as when a disk is pulled.
 */
import { attachmentsAt, checkDeviceName } from '../state/attachment-records.js';
import { CatalogError, instanceNotFound, invalidValue } from '../service-errors.js';
import { checkInstanceId } from '../state/resource-ids.js';
import { instanceStateAt } from '../state/instance-states.js';
import type { Attachment, InstanceMeta, VolumeMeta } from '../state/resource-records.js';
import type { AttachmentView } from '../state/views.js';
import { checkDryRun, type CallerContext, type ServiceState } from '../context.js';
import { callerVolume } from './volumes.js';

/** Multi-Attach: io1/io2 volumes attach to up to 16 instances of one zone. */
const MAX_MULTI_ATTACH = 16;

export interface DetachVolumeInput {
  volumeId: string;
  instanceId?: string;
  device?: string;
  force?: boolean;
}

export interface InstanceDevice {
  device: string;
  volume: VolumeMeta;
  attachment: Attachment;
}

/** An instance of the caller's account in the caller's region, or InvalidInstanceID.NotFound. */
export function callerInstance(s: ServiceState, ctx: CallerContext, id: string): InstanceMeta {
  checkInstanceId(id);
  const i = s.catalog.getInstance(id);
  if (!i || i.accountId !== ctx.accountId || i.region !== ctx.region) throw instanceNotFound([id]);
  return i;
}

/** The instance's block devices as the clock sees them (detaching ones included), in attach order. */
export function deviceMappings(s: ServiceState, instanceId: string, now: number): InstanceDevice[] {
  const out: InstanceDevice[] = [];
  for (const volume of s.catalog.volumesAttachedTo(instanceId)) {
    for (const attachment of attachmentsAt(volume, now)) {
      if (attachment.instanceId === instanceId) out.push({ device: attachment.device, volume, attachment });
    }
  }
  return out.sort((a, b) => a.attachment.attachTime.localeCompare(b.attachment.attachTime) || a.device.localeCompare(b.device));
}

/** The devices a guest can use: attaching or attached. */
export function liveDevices(s: ServiceState, instanceId: string, now: number): InstanceDevice[] {
  return deviceMappings(s, instanceId, now).filter((d) => d.attachment.state === 'attaching' || d.attachment.state === 'attached');
}

export function attachmentView(volumeId: string, a: Attachment, state = a.state): AttachmentView {
  return { volumeId, instanceId: a.instanceId, device: a.device, state, attachTime: new Date(a.attachTime), deleteOnTermination: a.deleteOnTermination };
}

/** A new attachment record at `now`. */
export function newAttachment(s: ServiceState, instanceId: string, device: string, deleteOnTermination: boolean, now: number): Attachment {
  const ms = s.timings.attachmentMs;
  return {
    instanceId, device, attachTime: new Date(now).toISOString(), deleteOnTermination,
    ...(ms > 0 ? { state: 'attaching' as const, settleTime: new Date(now + ms).toISOString() } : { state: 'attached' as const }),
  };
}

export async function attachVolume(s: ServiceState, ctx: CallerContext, input: { volumeId: string; instanceId: string; device: string }): Promise<AttachmentView> {
  callerVolume(s, ctx, input.volumeId);
  callerInstance(s, ctx, input.instanceId);
  const device = checkDeviceName(input.device);
  return s.lock.run(async () => {
    const now = s.clock.now();
    const volume = callerVolume(s, ctx, input.volumeId);
    const instance = callerInstance(s, ctx, input.instanceId);
    const state = instanceStateAt(instance, now);
    if (state === 'shutting-down' || state === 'terminated') {
      throw new CatalogError('INCORRECT_INSTANCE_STATE', `The instance '${instance.id}' is not in a valid state for this operation (it is ${state}).`);
    }
    if (volume.state !== 'available') throw new CatalogError('INCORRECT_STATE', `The volume '${volume.id}' is '${volume.state}': only available volumes can be attached.`);
    if (volume.availabilityZone !== instance.availabilityZone) {
      throw new CatalogError('VOLUME_ZONE_MISMATCH',
        `The volume '${volume.id}' is not in the same availability zone as instance '${instance.id}' (${volume.availabilityZone}, ${instance.availabilityZone}).`);
    }
    const live = attachmentsAt(volume, now);
    const inUse = live.filter((a) => a.state === 'attaching' || a.state === 'attached');
    if (inUse.some((a) => a.instanceId === instance.id) || (inUse.length > 0 && !volume.multiAttachEnabled)) {
      throw new CatalogError('VOLUME_IN_USE', `${volume.id} is already attached to an instance (${inUse.map((a) => a.instanceId).join(', ')}).`);
    }
    if (inUse.length >= MAX_MULTI_ATTACH) throw new CatalogError('VOLUME_IN_USE', `${volume.id} is attached to ${MAX_MULTI_ATTACH} instances, the Multi-Attach maximum.`);
    if (deviceMappings(s, instance.id, now).some((d) => d.device === device)) throw invalidValue(`Attachment point ${device} is already in use`);
    checkDryRun(ctx);
    const attachment = newAttachment(s, instance.id, device, false, now);
    await s.catalog.saveVolume({ ...volume, attachments: [...live, attachment] });
    // EC2 answers AttachVolume with `attaching`, whatever comes next (`--timing instant`: attached).
    return attachmentView(volume.id, attachment, s.timings.instant ? 'attached' : 'attaching');
  });
}

export async function detachVolume(s: ServiceState, ctx: CallerContext, input: DetachVolumeInput): Promise<AttachmentView> {
  callerVolume(s, ctx, input.volumeId);
  if (input.instanceId !== undefined) callerInstance(s, ctx, input.instanceId);
  const detached = await s.lock.run(async () => {
    const now = s.clock.now();
    const volume = callerVolume(s, ctx, input.volumeId);
    const live = attachmentsAt(volume, now);
    const inUse = live.filter((a) => a.state === 'attaching' || a.state === 'attached');
    if (inUse.length === 0) {
      const detaching = live.length > 0 ? ' (already detaching)' : '';
      throw new CatalogError('INCORRECT_STATE', `Volume '${volume.id}' is in the '${live.length > 0 ? 'in-use' : 'available'}' state${detaching}.`);
    }
    const matching = inUse.filter((a) => (input.instanceId === undefined || a.instanceId === input.instanceId) && (input.device === undefined || a.device === input.device));
    if (matching.length === 0) {
      throw new CatalogError('ATTACHMENT_NOT_FOUND',
        `The volume ${volume.id} is not attached to ${input.instanceId ?? 'any instance'}${input.device !== undefined ? ` at ${input.device}` : ''}.`);
    }
    if (matching.length > 1) {
      throw new CatalogError('INVALID_PARAMETER_COMBINATION', `${volume.id} is attached to several instances (Multi-Attach): give InstanceId.`);
    }
    const attachment = matching[0]!;
    const instance = s.catalog.getInstance(attachment.instanceId);
    const state = instance ? instanceStateAt(instance, now) : 'terminated';
    if (instance && attachment.device === instance.rootDeviceName && state !== 'stopped') {
      throw new CatalogError('INCORRECT_STATE', `Unable to detach root volume '${volume.id}' from instance '${instance.id}' while it is ${state}: stop it first.`);
    }
    checkDryRun(ctx);
    const ms = s.timings.attachmentMs;
    const rest = live.filter((a) => a !== attachment);
    const leaving: Attachment = { ...attachment, state: 'detaching', settleTime: new Date(now + ms).toISOString() };
    await s.catalog.saveVolume({ ...volume, attachments: ms > 0 ? [...rest, leaving] : rest });
    return { volumeId: volume.id, attachment };
  });
  // Outside the lock: a write-back of up to the dirty limit must not hold up every other call.
  await s.guests.retire(detached.attachment.instanceId, detached.attachment.device, detached.volumeId, input.force === true ? 'drop' : 'flush');
  return attachmentView(detached.volumeId, detached.attachment, s.timings.instant ? 'detached' : 'detaching');
}
