import {
  ChunkType,
  OPTION_REPLY_MAGIC,
  ReplyFlag,
  SIMPLE_REPLY_MAGIC,
  STRUCTURED_REPLY_MAGIC,
} from './protocol.js';

/** Encoders for what the server sends. Pure functions: Buffers in, Buffers out. */

/** Error messages are strings, which the spec caps at 4096 bytes. */
const MAX_STRING_BYTES = 4096;

export function encodeString(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  return b.length <= MAX_STRING_BYTES ? b : b.subarray(0, MAX_STRING_BYTES);
}

/** Fixed-newstyle option reply: magic, option, reply type, length, data. */
export function optionReply(option: number, type: number, data: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.allocUnsafe(20);
  head.writeBigUInt64BE(OPTION_REPLY_MAGIC, 0);
  head.writeUInt32BE(option >>> 0, 8);
  head.writeUInt32BE(type >>> 0, 12);
  head.writeUInt32BE(data.length, 16);
  return Buffer.concat([head, data]);
}

export function simpleReply(handle: Buffer, error: number): Buffer {
  const b = Buffer.allocUnsafe(16);
  b.writeUInt32BE(SIMPLE_REPLY_MAGIC, 0);
  b.writeUInt32BE(error, 4);
  handle.copy(b, 8, 0, 8);
  return b;
}

/** Structured chunk header; `extra` bytes of the chunk's payload may follow in the same buffer. */
export function chunkHeader(handle: Buffer, flags: number, type: number, payloadLength: number, extra = 0): Buffer {
  const b = Buffer.alloc(20 + extra);
  b.writeUInt32BE(STRUCTURED_REPLY_MAGIC, 0);
  b.writeUInt16BE(flags, 4);
  b.writeUInt16BE(type, 6);
  handle.copy(b, 8, 0, 8);
  b.writeUInt32BE(payloadLength, 16);
  return b;
}

/** Header plus offset of an OFFSET_DATA chunk; the data itself is written after it. */
export function offsetDataHeader(handle: Buffer, offset: number, dataLength: number, done: boolean): Buffer {
  const b = chunkHeader(handle, done ? ReplyFlag.DONE : 0, ChunkType.OFFSET_DATA, 8 + dataLength, 8);
  b.writeBigUInt64BE(BigInt(offset), 20);
  return b;
}

export function errorChunk(handle: Buffer, error: number, message: string): Buffer {
  const msg = encodeString(message);
  const b = chunkHeader(handle, ReplyFlag.DONE, ChunkType.ERROR, 6 + msg.length, 6 + msg.length);
  b.writeUInt32BE(error, 20);
  b.writeUInt16BE(msg.length, 24);
  msg.copy(b, 26);
  return b;
}

export function blockStatusChunk(
  handle: Buffer,
  contextId: number,
  extents: ReadonlyArray<{ length: number; flags: number }>,
  done: boolean,
): Buffer {
  const payload = 4 + 8 * extents.length;
  const b = chunkHeader(handle, done ? ReplyFlag.DONE : 0, ChunkType.BLOCK_STATUS, payload, payload);
  b.writeUInt32BE(contextId, 20);
  extents.forEach((e, i) => {
    b.writeUInt32BE(e.length, 24 + 8 * i);
    b.writeUInt32BE(e.flags, 28 + 8 * i);
  });
  return b;
}
