/**
 * The instance service (EC2's instance actions), and the guest service: I/O as an instance's OS
 * does it, through the page caches of its attached volumes (the data plane's /data/instances and
 * NBD's instance exports).
 */
import type { ExportResolver } from '../../nbd/block-device.js';
import { bindTo } from '../bind.js';
import type { ServiceState } from '../context.js';
import {
  describeGuest, guestCrash, guestDeviceForIo, guestFreeze, guestFsync, guestRead, guestSync, guestThaw, guestWrite,
} from './guest-io.js';
import { rebootInstances, startInstances, stopInstances, terminateInstances } from './instance-lifecycle.js';
import { describeInstances, describeInstanceStatus, runInstances } from './instances.js';
import { listExports, openExport } from './nbd-exports.js';

export function instanceService(s: ServiceState) {
  const bind = bindTo(s);
  return {
    run: bind(runInstances),
    describe: bind(describeInstances),
    describeStatus: bind(describeInstanceStatus),
    start: bind(startInstances),
    stop: bind(stopInstances),
    reboot: bind(rebootInstances),
    terminate: bind(terminateInstances),
  };
}

export function guestService(s: ServiceState) {
  const bind = bindTo(s);
  return {
    describe: bind(describeGuest),
    /** Checks the device takes guest I/O now; returns its size in bytes (as the guest sees it). */
    deviceForIo: bind(guestDeviceForIo),
    write: bind(guestWrite),
    read: bind(guestRead),
    fsync: bind(guestFsync),
    sync: bind(guestSync),
    crash: bind(guestCrash),
    freeze: bind(guestFreeze),
    thaw: bind(guestThaw),
  };
}

/** NBD exports (no authentication: every account's): volumes write-through, instance devices through their page caches. */
export function nbdExports(s: () => ServiceState): ExportResolver {
  return {
    open: async (name) => openExport(s(), name),
    list: async () => listExports(s()),
  };
}

export type InstanceService = ReturnType<typeof instanceService>;
export type GuestService = ReturnType<typeof guestService>;
