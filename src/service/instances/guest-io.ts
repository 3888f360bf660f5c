/**
 * Guest I/O: what an instance's OS does with its disks, through its simulated page caches.
 * Writes land in the attachment's cache and reach the volume (and so snapshots) only by an
 * fsync, a sync, the dirty-expire interval, a stop, a reboot or a detach; a crash drops them.
 * Reads see the guest's own cached writes. A device is named as in the data plane and NBD:
 * the attachment's device without `/dev/` (`sdf`).
 */
import { deviceKey } from '../state/attachment-records.js';
import { CatalogError, instanceNotFound } from '../service-errors.js';
import { checkInstanceId } from '../state/resource-ids.js';
import { instanceStateAt, stillVisible, takesGuestIo } from '../state/instance-states.js';
import type { InstanceMeta, InstanceStateName } from '../state/resource-records.js';
import type { ServiceState } from '../context.js';
import { checkRange, type DataCaller } from '../volumes/volume-io.js';
import { deviceMappings, liveDevices, type InstanceDevice } from '../volumes/attachments.js';
import type { GuestDisk } from './guest-disks.js';

export interface GuestDeviceView {
  /** `/dev/sdf` */
  device: string;
  /** `sdf`: the path segment of the data plane, and of the NBD export `<instance>/<name>`. */
  name: string;
  volumeId: string;
  attachmentState: string;
  root: boolean;
  sizeBytes: number;
  /** Bytes written by the guest that the volume (and any snapshot taken now) does not hold. */
  dirtyBytes: number;
  frozen: boolean;
}

export interface GuestView {
  instanceId: string;
  state: InstanceStateName;
  dirtyExpireSeconds: number;
  dirtyBytes: number;
  devices: GuestDeviceView[];
}

/** Bytes written back or lost, per device. */
export interface GuestFlushReport {
  instanceId: string;
  bytes: number;
  devices: Array<{ device: string; volumeId: string; bytes: number }>;
}

function instanceFor(s: ServiceState, caller: DataCaller, id: string): InstanceMeta {
  checkInstanceId(id);
  const m = s.catalog.getInstance(id);
  if (!m || (caller.accountId !== undefined && m.accountId !== caller.accountId) || !stillVisible(m, s.clock.now())) throw instanceNotFound([id]);
  return m;
}

function runningInstance(s: ServiceState, caller: DataCaller, id: string): InstanceMeta {
  const m = instanceFor(s, caller, id);
  const state = instanceStateAt(m, s.clock.now());
  if (!takesGuestIo(state)) {
    throw new CatalogError('INCORRECT_INSTANCE_STATE', `The instance '${id}' is ${state}: its guest does I/O only while pending or running.`);
  }
  return m;
}

function liveDevice(s: ServiceState, m: InstanceMeta, name: string): InstanceDevice {
  const d = liveDevices(s, m.id, s.clock.now()).find((x) => deviceKey(x.device) === name);
  if (!d) throw new CatalogError('ATTACHMENT_NOT_FOUND', `The instance '${m.id}' has no device /dev/${name} (attached devices: ${liveDevices(s, m.id, s.clock.now()).map((x) => deviceKey(x.device)).join(', ') || 'none'}).`);
  return d;
}

/** The page cache behind `/dev/<name>` of a running instance, opened on first use. */
export function guestDisk(s: ServiceState, caller: DataCaller, instanceId: string, name: string): GuestDisk {
  const m = runningInstance(s, caller, instanceId);
  const d = liveDevice(s, m, name);
  return s.guests.open(m.id, d.device, d.volume.id);
}

/** For connections that hold a disk open (NBD): still the same attachment, and the instance still up. */
/** Checks the device takes guest I/O now; returns its size in bytes (as the guest sees it). */
export function guestDeviceForIo(s: ServiceState, caller: DataCaller, instanceId: string, device: string): { sizeBytes: number } {
  return { sizeBytes: guestDisk(s, caller, instanceId, device).cache.size };
}

export function checkStillCurrent(s: ServiceState, disk: GuestDisk): void {
  const m = runningInstance(s, {}, disk.instanceId);
  const d = liveDevice(s, m, deviceKey(disk.device));
  if (d.volume.id !== disk.volumeId || !s.guests.isCurrent(disk)) {
    throw new CatalogError('ATTACHMENT_NOT_FOUND', `${disk.device} of ${disk.instanceId} was detached or the instance restarted since it was opened.`);
  }
}

export async function guestWrite(s: ServiceState, caller: DataCaller, instanceId: string, name: string, offset: number, data: Buffer): Promise<void> {
  const disk = guestDisk(s, caller, instanceId, name);
  checkRange(disk.device, disk.cache.size, offset, data.length);
  await s.guests.use(disk, (c) => c.write(offset, data, { fua: false }));
}

export async function guestRead(s: ServiceState, caller: DataCaller, instanceId: string, name: string, offset: number, length: number): Promise<Buffer> {
  const disk = guestDisk(s, caller, instanceId, name);
  checkRange(disk.device, disk.cache.size, offset, length);
  return s.guests.use(disk, (c) => c.read(offset, length));
}

export async function guestFsync(s: ServiceState, caller: DataCaller, instanceId: string, name: string): Promise<GuestFlushReport> {
  const disk = guestDisk(s, caller, instanceId, name);
  const bytes = await s.guests.flush(disk);
  return { instanceId, bytes, devices: [{ device: disk.device, volumeId: disk.volumeId, bytes }] };
}

/** `sync`: every device of the instance. */
export async function guestSync(s: ServiceState, caller: DataCaller, instanceId: string): Promise<GuestFlushReport> {
  const m = runningInstance(s, caller, instanceId);
  const devices = await Promise.all(s.guests.ofInstance(m.id).map(async (disk) => ({
    device: disk.device, volumeId: disk.volumeId, bytes: await s.guests.flush(disk),
  })));
  return report(m.id, devices);
}

/** Power loss and reboot: every dirty page of the instance is gone; it keeps running. */
export async function guestCrash(s: ServiceState, caller: DataCaller, instanceId: string): Promise<GuestFlushReport> {
  const m = runningInstance(s, caller, instanceId);
  const devices = s.guests.ofInstance(m.id).map((disk) => {
    disk.cache.thaw();
    return { device: disk.device, volumeId: disk.volumeId, bytes: disk.cache.drop() };
  });
  return report(m.id, devices);
}

/** fsfreeze: write back, then hold new writes until thaw. One device, or all of the instance's. */
export async function guestFreeze(s: ServiceState, caller: DataCaller, instanceId: string, name?: string): Promise<GuestFlushReport> {
  const m = runningInstance(s, caller, instanceId);
  const disks = name !== undefined ? [guestDisk(s, caller, instanceId, name)] : liveDevices(s, m.id, s.clock.now()).map((d) => s.guests.open(m.id, d.device, d.volume.id));
  const devices = await Promise.all(disks.map(async (disk) => {
    const dirty = disk.cache.dirtyBytes();
    await disk.cache.freeze();
    return { device: disk.device, volumeId: disk.volumeId, bytes: dirty };
  }));
  return report(m.id, devices);
}

export function guestThaw(s: ServiceState, caller: DataCaller, instanceId: string, name?: string): GuestFlushReport {
  const m = runningInstance(s, caller, instanceId);
  const disks = name !== undefined ? [guestDisk(s, caller, instanceId, name)] : s.guests.ofInstance(m.id);
  for (const disk of disks) disk.cache.thaw();
  return report(m.id, disks.map((d) => ({ device: d.device, volumeId: d.volumeId, bytes: 0 })));
}

/** What a teacher shows: each device, its volume, how many bytes sit dirty in its cache. */
export function describeGuest(s: ServiceState, caller: DataCaller, instanceId: string): GuestView {
  const m = instanceFor(s, caller, instanceId);
  const devices = deviceMappings(s, m.id, s.clock.now()).map((d): GuestDeviceView => {
    const live = s.guests.peek(m.id, d.device, d.volume.id);
    return {
      device: d.device,
      name: deviceKey(d.device),
      volumeId: d.volume.id,
      attachmentState: d.attachment.state,
      root: d.device === m.rootDeviceName,
      sizeBytes: live?.cache.size ?? s.store.getVolume(d.volume.id).size,
      dirtyBytes: live?.cache.dirtyBytes() ?? 0,
      frozen: live?.cache.isFrozen ?? false,
    };
  });
  return {
    instanceId: m.id,
    state: instanceStateAt(m, s.clock.now()),
    dirtyExpireSeconds: s.guests.options.dirtyExpireMs / 1000,
    dirtyBytes: devices.reduce((n, d) => n + d.dirtyBytes, 0),
    devices,
  };
}

function report(instanceId: string, devices: GuestFlushReport['devices']): GuestFlushReport {
  return { instanceId, bytes: devices.reduce((n, d) => n + d.bytes, 0), devices };
}
