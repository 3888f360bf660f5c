import type { BlockDevice } from './block-device.js';
import { State } from './protocol.js';

export interface Extent {
  length: number;
  flags: number;
}

/**
 * base:allocation descriptors for [offset, offset + length): the device's extents clipped
 * to the request, neighbours with equal status merged (the spec prefers distinct status
 * between consecutive descriptors), at least one descriptor, one only with REQ_ONE.
 * A device without blockStatus, or one that reports nothing usable, gets status 0
 * ("allocated, contents unknown"), which the spec says is always safe.
 */
export async function allocationExtents(
  device: BlockDevice,
  offset: number,
  length: number,
  reqOne: boolean,
): Promise<Extent[]> {
  const out: Extent[] = [];
  if (device.blockStatus) {
    let covered = 0;
    for (const e of await device.blockStatus(offset, length)) {
      if (!Number.isSafeInteger(e.length) || e.length <= 0) break;
      const len = Math.min(e.length, length - covered);
      const flags = (e.hole ? State.HOLE : 0) | (e.zero ? State.ZERO : 0);
      const last = out[out.length - 1];
      if (last && last.flags === flags) last.length += len;
      else out.push({ length: len, flags });
      covered += len;
      if (covered >= length) break;
    }
  }
  if (out.length === 0) return [{ length, flags: 0 }];
  return reqOne ? out.slice(0, 1) : out;
}
