/**
 * Errors of the direct-API service (snapshots written and read block by block). Each has a
 * stable `code`; only protocol/ebs/error-map.ts turns them into EBS exceptions and reasons.
 */
export const DIRECT_ERROR_CODES = [
  'BLOCK_TOKEN_INVALID',
  'PAGE_TOKEN_INVALID',
  'SNAPSHOTS_UNRELATED',
  'BLOCK_INDEX_INVALID',
  'CHECKSUM_MISMATCH',
  'DATA_LENGTH_INVALID',
  'BLOCK_UPDATE_CONFLICT',
  /** A put after CompleteSnapshot, or to a snapshot not started with StartSnapshot. */
  'SNAPSHOT_NOT_WRITABLE',
  /** A put to a snapshot whose Timeout passed. */
  'WRITE_TIMED_OUT',
  /** A read of a snapshot that is not completed. */
  'SNAPSHOT_NOT_READABLE',
  'VOLUME_SIZE_INVALID',
  'TAG_INVALID',
  'PARAMETER_INVALID',
  'ACCESS_DENIED',
  'CLIENT_TOKEN_CONFLICT',
  'PENDING_LIMIT_EXCEEDED',
  'SNAPSHOT_THROTTLED',
  'ACCOUNT_THROTTLED',
] as const;

export type DirectErrorCode = (typeof DIRECT_ERROR_CODES)[number];

export class DirectApiError extends Error {
  override readonly name = 'DirectApiError';

  constructor(
    readonly code: DirectErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function isDirectApiError(err: unknown, code?: DirectErrorCode): err is DirectApiError {
  return err instanceof DirectApiError && (code === undefined || err.code === code);
}
