import { Errno } from './protocol.js';

/**
 * The one table from a device error's `code` to the NBD error value the client sees.
 * Extend it here; nothing else in src/nbd interprets error codes.
 *
 * A code maps either to one value, or to a value per direction: the spec asks for ENOSPC
 * when a write reaches past the end of the export and EINVAL for other out-of-range
 * requests. Anything unknown is EIO.
 */
type ErrnoValue = (typeof Errno)[keyof typeof Errno];
type Mapping = ErrnoValue | { readonly read: ErrnoValue; readonly write: ErrnoValue };

export const ERRNO_BY_CODE: Readonly<Record<string, Mapping>> = {
  // Core error codes (src/core/errors.ts). Unlisted ones (CORRUPTION, BACKING_UNAVAILABLE,
  // VOLUME_NOT_FOUND for a volume deleted under the client, ...) are EIO.
  OFFSET_OUT_OF_RANGE: { read: Errno.EINVAL, write: Errno.ENOSPC },
  VOLUME_WRONG_STATE: Errno.EPERM,
  READ_ONLY: Errno.EPERM,
  INVALID_ARGUMENT: Errno.EINVAL,
  // The store is closing with the process: ESHUTDOWN tells the client to disconnect cleanly.
  STORE_CLOSED: Errno.ESHUTDOWN,
  // Host errno codes, for devices backed by files (the spec asks EDQUOT/EFBIG -> ENOSPC).
  EROFS: Errno.EPERM,
  EPERM: Errno.EPERM,
  EACCES: Errno.EPERM,
  ENOSPC: Errno.ENOSPC,
  EDQUOT: Errno.ENOSPC,
  EFBIG: Errno.ENOSPC,
  EINVAL: Errno.EINVAL,
  ENOMEM: Errno.ENOMEM,
};

/** Whether a request writes (for the per-direction entries above): WRITE and WRITE_ZEROES. */
export type Direction = 'read' | 'write';

export function errnoFor(err: unknown, direction: Direction): ErrnoValue {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  const mapping = typeof code === 'string' && Object.hasOwn(ERRNO_BY_CODE, code) ? ERRNO_BY_CODE[code] : undefined;
  if (mapping === undefined) return Errno.EIO;
  return typeof mapping === 'number' ? mapping : mapping[direction];
}
