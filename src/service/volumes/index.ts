/** The volume service: EC2's volume actions (attachments included) and the data plane's volume I/O. */
import { bindTo } from '../bind.js';
import type { ServiceState } from '../context.js';
import { attachVolume, detachVolume } from './attachments.js';
import { flushVolume, readVolume, volumeForIo, writeVolume } from './volume-io.js';
import { describeVolumesModifications, modifyVolume } from './volume-modifications.js';
import { createVolume, deleteVolume, describeVolumes, hydration } from './volumes.js';

export function volumeService(s: ServiceState) {
  const bind = bindTo(s);
  return {
    create: bind(createVolume),
    delete: bind(deleteVolume),
    describe: bind(describeVolumes),
    modify: bind(modifyVolume),
    describeModifications: bind(describeVolumesModifications),
    attach: bind(attachVolume),
    detach: bind(detachVolume),
    /** Restored volumes: how far the background load from the snapshot got. */
    hydration: bind(hydration),
    /** Checks a volume may take I/O from this caller now; returns its size in bytes. */
    forIo: bind(volumeForIo),
    write: bind(writeVolume),
    read: bind(readVolume),
    flush: bind(flushVolume),
  };
}

export type VolumeService = ReturnType<typeof volumeService>;
