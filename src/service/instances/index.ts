/**
 * The instance service (EC2's instance actions), and the guest service: I/O as an instance's OS
 * does it, through the page caches of its attached volumes (the data plane's /data/instances and
 * NBD's instance exports).
 */
import type { ExportResolver, NbdClient } from '../../nbd/block-device.js';
import type { DataCaller } from '../volumes/volume-io.js';
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

/**
 * NBD exports: volumes write-through, instance devices through their page caches. Without
 * `accountOf` every account's (NBD without authentication); with it, only the account the client
 * proved it is, and nothing for a client it names no account for.
 */
export function nbdExports(s: () => ServiceState, accountOf?: (client: NbdClient) => string | undefined): ExportResolver {
  const callerOf = (client: NbdClient): DataCaller | undefined => {
    if (!accountOf) return {};
    const accountId = accountOf(client);
    return accountId === undefined ? undefined : { accountId };
  };
  return {
    open: async (name, client) => {
      const caller = callerOf(client);
      return caller ? openExport(s(), caller, name) : undefined;
    },
    list: async (client) => {
      const caller = callerOf(client);
      return caller ? listExports(s(), caller) : [];
    },
  };
}

export type InstanceService = ReturnType<typeof instanceService>;
export type GuestService = ReturnType<typeof guestService>;
