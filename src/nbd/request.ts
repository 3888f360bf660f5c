import type { Direction } from './errno-map.js';
import { MAX_PAYLOAD } from './export-info.js';
import { Command, CommandFlag as CF, Errno } from './protocol.js';

/** One transmission-phase request, decoded from its 28-byte header. */
export interface Request {
  flags: number;
  type: number;
  /** The client's 8-byte handle (cookie), echoed verbatim in every reply. */
  handle: Buffer;
  /** Infinity when the 64-bit offset does not fit a JS number: then it is out of range anyway. */
  offset: number;
  length: number;
}

export function parseRequest(header: Buffer): Request {
  const big = header.readBigUInt64BE(16);
  return {
    flags: header.readUInt16BE(4),
    type: header.readUInt16BE(6),
    handle: Buffer.from(header.subarray(8, 16)),
    offset: big > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(big),
    length: header.readUInt32BE(24),
  };
}

/** Requests whose out-of-range or device errors count as writes (ENOSPC past the end). */
export function direction(type: number): Direction {
  return type === Command.WRITE || type === Command.WRITE_ZEROES ? 'write' : 'read';
}

/** Payload bytes a request makes us hold (its WRITE data or READ reply); 0 when refused for size. */
export function payloadBytes(req: Request): number {
  const carries = req.type === Command.READ || req.type === Command.WRITE;
  return carries && req.length <= MAX_PAYLOAD ? req.length : 0;
}

export interface ExportView {
  size: number;
  readOnly: boolean;
  structured: boolean;
  baseAllocation: boolean;
}

export interface Refusal {
  errno: number;
  message: string;
}

/**
 * Checks a request before it reaches the device, so devices only see sane ranges.
 * Order and values follow the spec's "Error values" section (and nbdkit where it is silent).
 */
export function validate(req: Request, exp: ExportView): Refusal | undefined {
  const allowed = allowedFlags(req.type, exp.structured);
  if (allowed === undefined) return { errno: Errno.EINVAL, message: `unknown command ${req.type}` };
  if ((req.flags & ~allowed) !== 0) {
    return { errno: Errno.EINVAL, message: `flags 0x${req.flags.toString(16)} not valid for command ${req.type}` };
  }
  if (req.type === Command.FLUSH) {
    return req.offset === 0 && req.length === 0
      ? undefined
      : { errno: Errno.EINVAL, message: 'flush offset and length must be zero' };
  }
  const writes = req.type === Command.WRITE || req.type === Command.TRIM || req.type === Command.WRITE_ZEROES;
  if (writes && exp.readOnly) return { errno: Errno.EPERM, message: 'export is read-only' };
  if (req.length === 0) return { errno: Errno.EINVAL, message: 'zero-length request' };
  if ((req.type === Command.READ || req.type === Command.WRITE) && req.length > MAX_PAYLOAD) {
    return { errno: Errno.EINVAL, message: `request of ${req.length} bytes exceeds maximum ${MAX_PAYLOAD}` };
  }
  if (req.offset + req.length > exp.size) {
    return {
      errno: direction(req.type) === 'write' ? Errno.ENOSPC : Errno.EINVAL,
      message: `range ${req.offset}+${req.length} is beyond the export size ${exp.size}`,
    };
  }
  if (req.type === Command.BLOCK_STATUS && !exp.baseAllocation) {
    return { errno: Errno.EINVAL, message: 'no metadata context was negotiated' };
  }
  return undefined;
}

/** Flags each command may carry; FUA is accepted everywhere, as the spec requires. */
function allowedFlags(type: number, structured: boolean): number | undefined {
  switch (type) {
    case Command.READ:
      return CF.FUA | (structured ? CF.DF : 0);
    case Command.WRITE:
    case Command.FLUSH:
    case Command.TRIM:
      return CF.FUA;
    case Command.WRITE_ZEROES:
      return CF.FUA | CF.NO_HOLE;
    case Command.BLOCK_STATUS:
      return CF.FUA | CF.REQ_ONE;
    default:
      return undefined;
  }
}
