/**
 * Volume attachments as the clock sees them: `attaching` becomes `attached`, and a `detaching`
 * attachment disappears, at its settle time. Stored records are only rewritten by the next
 * change to the volume, so every reader goes through `attachmentsAt`.
 */
import { invalidValue } from '../service-errors.js';
import type { Attachment, VolumeMeta } from './resource-records.js';

export function attachmentsAt(v: VolumeMeta, now: number): Attachment[] {
  const out: Attachment[] = [];
  for (const a of v.attachments) {
    const settled = a.settleTime === undefined || now >= Date.parse(a.settleTime);
    if (!settled) out.push(a);
    else if (a.state === 'attaching') out.push({ ...a, state: 'attached' });
    else if (a.state !== 'detaching' && a.state !== 'detached') out.push(a);
  }
  return out;
}

/** The attachment of `v` to `instanceId` that is not on its way out, if any. */
export function liveAttachment(v: VolumeMeta, instanceId: string, now: number): Attachment | undefined {
  return attachmentsAt(v, now).find((a) => a.instanceId === instanceId && (a.state === 'attaching' || a.state === 'attached'));
}

// EBS device names on Linux instances: /dev/sd[b-z], /dev/xvd[b-z] (optionally a second letter or
// a partition number), and the root's /dev/sda1 or /dev/xvda.
const DEVICE_NAME = /^\/dev\/(?:sd|xvd|hd)[a-z]{1,2}\d{0,2}$/;

export function checkDeviceName(name: string): string {
  if (!DEVICE_NAME.test(name)) {
    throw invalidValue(`Value (${name}) for parameter device is invalid. ${name} is not a valid EBS device name (expected e.g. /dev/sdf or /dev/xvdf).`);
  }
  return name;
}

/** `/dev/sdf` → `sdf`: how the data plane and NBD export names spell a device. */
export const deviceKey = (device: string): string => device.replace(/^\/dev\//, '');
