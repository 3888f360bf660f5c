import type { BlockDevice } from './block-device.js';
import { Info, TransmissionFlag as F } from './protocol.js';

/**
 * Largest READ/WRITE we accept (the spec's default maximum, 2^25): bigger ones fail with
 * EINVAL. Requests without a payload (TRIM, WRITE_ZEROES, BLOCK_STATUS) are not capped:
 * they cost the server no buffer.
 */
export const MAX_PAYLOAD = 32 * 1024 * 1024;
const DEFAULT_PREFERRED_BLOCK = 4096;

/**
 * Transmission flags for one export on one connection.
 * - FLUSH, FUA, TRIM, WRITE_ZEROES (with NO_HOLE): every BlockDevice implements them.
 * - DF: our reads always answer with one data chunk, so "don't fragment" is free; the spec
 *   forbids the flag unless structured replies were negotiated.
 * - CAN_MULTI_CONN: only when the device promises FLUSH/FUA are visible to every connection
 *   (no per-connection cache); see BlockDevice.canMultiConn. The server itself caches nothing.
 * - READ_ONLY drops the write-side flags; FLUSH stays (harmless, and clients like to send it).
 * Not advertised: FAST_ZERO (a zeroing request would have to know it is fast), CACHE, RESIZE.
 */
export function transmissionFlags(device: BlockDevice, structured: boolean): number {
  let flags = F.HAS_FLAGS | F.SEND_FLUSH;
  if (device.readOnly) flags |= F.READ_ONLY;
  else flags |= F.SEND_FUA | F.SEND_TRIM | F.SEND_WRITE_ZEROES;
  if (structured) flags |= F.SEND_DF;
  if (device.canMultiConn) flags |= F.CAN_MULTI_CONN;
  return flags;
}

/**
 * NBD_INFO_BLOCK_SIZE: minimum 1 (any alignment works, so clients that never ask for
 * block sizes are not refused), preferred = the device's block size when it is a sane
 * power of two, maximum = MAX_PAYLOAD.
 */
export function blockSizeInfo(device: BlockDevice): Buffer {
  const b = Buffer.alloc(14);
  b.writeUInt16BE(Info.BLOCK_SIZE, 0);
  b.writeUInt32BE(1, 2);
  b.writeUInt32BE(preferredBlockSize(device), 6);
  b.writeUInt32BE(MAX_PAYLOAD, 10);
  return b;
}

export function preferredBlockSize(device: BlockDevice): number {
  const bs = device.blockSize;
  const ok = bs !== undefined && Number.isInteger(bs) && bs >= 512 && bs <= MAX_PAYLOAD && (bs & (bs - 1)) === 0;
  return ok ? bs : DEFAULT_PREFERRED_BLOCK;
}

/** NBD_INFO_EXPORT payload: also the body of NBD_OPT_EXPORT_NAME's reply, minus padding. */
export function exportInfo(device: BlockDevice, flags: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(Info.EXPORT, 0);
  b.writeBigUInt64BE(BigInt(device.size), 2);
  b.writeUInt16BE(flags, 10);
  return b;
}
