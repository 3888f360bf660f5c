/**
 * What `ebs-sim serve --nbd-port` exports. An export named by a volume id is the volume itself,
 * write-through (as the data plane's /data/volumes). An export named `<instance-id>/<device>`
 * (`i-0abc…/sdf`) is that attachment as its guest sees it: through the instance's page cache,
 * shared with the data plane and every other connection, so only NBD FLUSH and FUA (or an fsync,
 * a stop…) make written bytes reach the volume and its snapshots.
 */
import { deviceKey } from '../state/attachment-records.js';
import { isCoreError } from '../../core/errors.js';
import { isCatalogError } from '../service-errors.js';
import { takesGuestIo, instanceStateAt } from '../state/instance-states.js';
import { SharedDevice } from '../../guest/shared-device.js';
import { VolumeDevice } from '../../guest/volume-device.js';
import type { BlockDevice } from '../../nbd/block-device.js';
import { liveDevices } from '../volumes/attachments.js';
import type { ServiceState } from '../context.js';
import { ioVolume, type DataCaller } from '../volumes/volume-io.js';
import { checkStillCurrent, guestDisk } from './guest-io.js';

const GUEST_EXPORT = /^(i-[0-9a-f]+)\/([a-z0-9]+)$/;

/** The device for an export name; undefined when nothing has that name. Other refusals throw, with a reason the client shows. */
export function openExport(s: ServiceState, caller: DataCaller, name: string): BlockDevice | undefined {
  try {
    if (name.startsWith('vol-')) {
      ioVolume(s, caller, name);
      return new VolumeDevice(s.store, name);
    }
    const m = GUEST_EXPORT.exec(name);
    if (!m) return undefined;
    const disk = guestDisk(s, caller, m[1]!, m[2]!);
    return new SharedDevice(
      disk.cache,
      (op) => {
        checkStillCurrent(s, disk);
        return s.guests.use(disk, op);
      },
      `${disk.device} of ${disk.instanceId} (${disk.volumeId}) behind its page cache`,
    );
  } catch (err) {
    if (isCoreError(err, 'VOLUME_NOT_FOUND') || isCatalogError(err, 'VOLUME_ID_MALFORMED') || isCatalogError(err, 'INSTANCE_NOT_FOUND')
      || isCatalogError(err, 'INSTANCE_ID_MALFORMED') || isCatalogError(err, 'ATTACHMENT_NOT_FOUND')) return undefined;
    throw err;
  }
}

/** Every volume that takes I/O, and every device of every instance that is up (only the caller's, when it has an account). */
export function listExports(s: ServiceState, caller: DataCaller): Array<{ name: string; description: string }> {
  const out: Array<{ name: string; description: string }> = [];
  const mine = (accountId: string) => caller.accountId === undefined || accountId === caller.accountId;
  for (const v of s.catalog.allVolumes()) {
    if (!mine(v.accountId)) continue;
    if (v.state === 'available' || v.state === 'in-use') out.push({ name: v.id, description: `volume ${v.id} (${v.sizeGiB} GiB, write-through)` });
  }
  for (const i of s.catalog.allInstances()) {
    if (!mine(i.accountId) || !takesGuestIo(instanceStateAt(i, s.clock.now()))) continue;
    for (const d of liveDevices(s, i.id, s.clock.now())) {
      out.push({ name: `${i.id}/${deviceKey(d.device)}`, description: `${d.device} of ${i.id} (${d.volume.id}) behind its page cache` });
    }
  }
  return out;
}
