/**
 * Wire constants of the NBD protocol (fixed newstyle handshake, compact headers).
 * Source: https://github.com/NetworkBlockDevice/nbd/blob/master/doc/proto.md
 * Every number on the wire is big-endian. Only this file spells protocol numbers.
 */

/** 'NBDMAGIC': first 8 bytes the server sends. */
export const NBD_MAGIC = 0x4e42444d41474943n;
/** 'IHAVEOPT': second 8 bytes the server sends, and the prefix of every client option. */
export const IHAVEOPT = 0x49484156454f5054n;
/** Prefix of every option reply in fixed newstyle. */
export const OPTION_REPLY_MAGIC = 0x0003e889045565a9n;
export const REQUEST_MAGIC = 0x25609513;
export const SIMPLE_REPLY_MAGIC = 0x67446698;
export const STRUCTURED_REPLY_MAGIC = 0x668e33ef;

/** Handshake flags (server, 16 bits). */
export const HandshakeFlag = {
  FIXED_NEWSTYLE: 1 << 0,
  NO_ZEROES: 1 << 1,
} as const;

/** Client flags (32 bits): anything else means we must drop the connection. */
export const ClientFlag = {
  FIXED_NEWSTYLE: 1 << 0,
  NO_ZEROES: 1 << 1,
} as const;

/** Transmission flags (16 bits), sent with the export size. */
export const TransmissionFlag = {
  HAS_FLAGS: 1 << 0,
  READ_ONLY: 1 << 1,
  SEND_FLUSH: 1 << 2,
  SEND_FUA: 1 << 3,
  ROTATIONAL: 1 << 4,
  SEND_TRIM: 1 << 5,
  SEND_WRITE_ZEROES: 1 << 6,
  SEND_DF: 1 << 7,
  CAN_MULTI_CONN: 1 << 8,
  SEND_RESIZE: 1 << 9,
  SEND_CACHE: 1 << 10,
  SEND_FAST_ZERO: 1 << 11,
} as const;

export const Option = {
  EXPORT_NAME: 1,
  ABORT: 2,
  LIST: 3,
  STARTTLS: 5,
  INFO: 6,
  GO: 7,
  STRUCTURED_REPLY: 8,
  LIST_META_CONTEXT: 9,
  SET_META_CONTEXT: 10,
  EXTENDED_HEADERS: 11,
} as const;

const repErr = (n: number): number => (0x80000000 | n) >>> 0;

export const Reply = {
  ACK: 1,
  SERVER: 2,
  INFO: 3,
  META_CONTEXT: 4,
  ERR_UNSUP: repErr(1),
  ERR_POLICY: repErr(2),
  ERR_INVALID: repErr(3),
  ERR_PLATFORM: repErr(4),
  ERR_TLS_REQD: repErr(5),
  ERR_UNKNOWN: repErr(6),
  ERR_SHUTDOWN: repErr(7),
  ERR_BLOCK_SIZE_REQD: repErr(8),
  ERR_TOO_BIG: repErr(9),
} as const;

export const Info = {
  EXPORT: 0,
  NAME: 1,
  DESCRIPTION: 2,
  BLOCK_SIZE: 3,
} as const;

export const Command = {
  READ: 0,
  WRITE: 1,
  DISC: 2,
  FLUSH: 3,
  TRIM: 4,
  CACHE: 5,
  WRITE_ZEROES: 6,
  BLOCK_STATUS: 7,
} as const;

export const CommandFlag = {
  FUA: 1 << 0,
  NO_HOLE: 1 << 1,
  DF: 1 << 2,
  REQ_ONE: 1 << 3,
  FAST_ZERO: 1 << 4,
} as const;

export const ReplyFlag = {
  DONE: 1 << 0,
} as const;

export const ChunkType = {
  NONE: 0,
  OFFSET_DATA: 1,
  OFFSET_HOLE: 2,
  BLOCK_STATUS: 5,
  ERROR: (1 << 15) | 1,
  ERROR_OFFSET: (1 << 15) | 2,
} as const;

/** base:allocation status flags. */
export const State = {
  HOLE: 1 << 0,
  ZERO: 1 << 1,
} as const;

/** The only metadata context we serve, and the id we give it in SET_META_CONTEXT replies. */
export const BASE_ALLOCATION = 'base:allocation';
export const BASE_ALLOCATION_ID = 1;

/** Error values allowed on the wire (the protocol fixes these, whatever the host's errno). */
export const Errno = {
  EPERM: 1,
  EIO: 5,
  ENOMEM: 12,
  EINVAL: 22,
  ENOSPC: 28,
  EOVERFLOW: 75,
  ENOTSUP: 95,
  ESHUTDOWN: 108,
} as const;

export const REQUEST_HEADER_BYTES = 28;
export const OPTION_HEADER_BYTES = 16;
/** Reserved bytes after NBD_OPT_EXPORT_NAME's reply unless both sides agreed NO_ZEROES. */
export const EXPORT_NAME_PAD_BYTES = 124;
