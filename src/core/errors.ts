/**
 * Typed errors of the storage core. Each carries a stable `code`; callers (the EC2 error map,
 * the data plane, NBD) switch on the code, never on the message.
 */
export const CORE_ERROR_CODES = [
  'VOLUME_NOT_FOUND',
  'VOLUME_EXISTS',
  'VOLUME_WRONG_STATE',
  'SNAPSHOT_NOT_FOUND',
  'SNAPSHOT_EXISTS',
  'SNAPSHOT_WRONG_STATE',
  'OFFSET_OUT_OF_RANGE',
  'INVALID_ARGUMENT',
  'BACKING_UNAVAILABLE',
  'STORE_CLOSED',
  'STORE_FAILED',
  'STORE_LOCKED',
  'CORRUPTION',
] as const;

export type CoreErrorCode = (typeof CORE_ERROR_CODES)[number];

export class CoreError extends Error {
  readonly code: CoreErrorCode;

  constructor(code: CoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CoreError';
    this.code = code;
  }
}

export function isCoreError(err: unknown, code?: CoreErrorCode): err is CoreError {
  return err instanceof CoreError && (code === undefined || err.code === code);
}

export const volumeNotFound = (id: string) =>
  new CoreError('VOLUME_NOT_FOUND', `The volume '${id}' does not exist.`);

export const snapshotNotFound = (id: string) =>
  new CoreError('SNAPSHOT_NOT_FOUND', `The snapshot '${id}' does not exist.`);

export const invalidArgument = (message: string) => new CoreError('INVALID_ARGUMENT', message);
