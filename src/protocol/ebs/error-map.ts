/**
 * The one table from the simulator's error codes (direct-API service, catalog, core, object
 * store, SigV4) to EBS exceptions, their `Reason` and HTTP status. Records over every code of the
 * direct-API service and of SigV4, so a new code there does not compile without a line here.
 */
import { CATALOG_ERROR_CODES, type CatalogErrorCode } from '../../service/service-errors.js';
import { DIRECT_ERROR_CODES, type DirectErrorCode } from '../../service/direct/direct-errors.js';
import { CORE_ERROR_CODES, type CoreErrorCode } from '../../core/errors.js';
import { ObjectStoreBaseError } from '../../object-store/errors.js';
import { isAuthError, type AuthErrorCode } from '../sigv4/auth-errors.js';
import { EBS_EXCEPTIONS, EbsProtocolError, type EbsException } from './protocol-errors.js';

export interface EbsErrorTarget {
  exception: EbsException;
  reason?: string;
}

const validation = (reason: string): EbsErrorTarget => ({ exception: 'ValidationException', reason });

export const EBS_DIRECT_ERROR_MAP: Record<DirectErrorCode, EbsErrorTarget> = {
  BLOCK_TOKEN_INVALID: validation('INVALID_BLOCK_TOKEN'),
  PAGE_TOKEN_INVALID: validation('INVALID_PAGE_TOKEN'),
  SNAPSHOTS_UNRELATED: validation('UNRELATED_SNAPSHOTS'),
  BLOCK_INDEX_INVALID: validation('INVALID_BLOCK'),
  CHECKSUM_MISMATCH: validation('INVALID_PARAMETER_VALUE'),
  DATA_LENGTH_INVALID: validation('INVALID_PARAMETER_VALUE'),
  BLOCK_UPDATE_CONFLICT: validation('CONFLICTING_BLOCK_UPDATE'),
  SNAPSHOT_NOT_WRITABLE: validation('INVALID_PARAMETER_VALUE'),
  WRITE_TIMED_OUT: validation('WRITE_REQUEST_TIMEOUT'),
  SNAPSHOT_NOT_READABLE: validation('INVALID_PARAMETER_VALUE'),
  VOLUME_SIZE_INVALID: validation('INVALID_VOLUME_SIZE'),
  TAG_INVALID: validation('INVALID_TAG'),
  PARAMETER_INVALID: validation('INVALID_PARAMETER_VALUE'),
  ACCESS_DENIED: { exception: 'AccessDeniedException', reason: 'UNAUTHORIZED_ACCOUNT' },
  CLIENT_TOKEN_CONFLICT: { exception: 'ConflictException' },
  PENDING_LIMIT_EXCEEDED: { exception: 'ConcurrentLimitExceededException' },
  SNAPSHOT_THROTTLED: { exception: 'RequestThrottledException', reason: 'RESOURCE_LEVEL_THROTTLE' },
  ACCOUNT_THROTTLED: { exception: 'RequestThrottledException', reason: 'ACCOUNT_THROTTLED' },
};

/** Catalog and core codes a direct-API call can meet; any other is an internal error. */
export const EBS_SHARED_ERROR_MAP: Partial<Record<CatalogErrorCode | CoreErrorCode, EbsErrorTarget>> = {
  SNAPSHOT_NOT_FOUND: { exception: 'ResourceNotFoundException', reason: 'SNAPSHOT_NOT_FOUND' },
  SNAPSHOT_ID_MALFORMED: validation('INVALID_SNAPSHOT_ID'),
  INVALID_PARAMETER_VALUE: validation('INVALID_PARAMETER_VALUE'),
  MISSING_PARAMETER: validation('INVALID_PARAMETER_VALUE'),
  INVALID_ARGUMENT: validation('INVALID_PARAMETER_VALUE'),
  UNAUTHORIZED_OPERATION: { exception: 'AccessDeniedException', reason: 'UNAUTHORIZED_ACCOUNT' },
  TAG_LIMIT_EXCEEDED: validation('INVALID_TAG'),
  SNAPSHOT_WRONG_STATE: validation('INVALID_PARAMETER_VALUE'),
  INVALID_PARAMETER_DEPENDENCY: validation('INVALID_PARAMETER_VALUE'),
  INVALID_PARAMETER_COMBINATION: validation('INVALID_PARAMETER_VALUE'),
  // Temporary: resetting, or the store closing. The SDKs retry a 500.
  SERVICE_UNAVAILABLE: { exception: 'InternalServerException' },
  STORE_CLOSED: { exception: 'InternalServerException' },
  BACKING_UNAVAILABLE: { exception: 'InternalServerException' },
};

/** SigV4 failures, under the names AWS's JSON services give them. */
export const EBS_AUTH_ERROR_MAP: Record<AuthErrorCode, EbsException> = {
  MissingAuthenticationToken: 'MissingAuthenticationTokenException',
  IncompleteSignature: 'IncompleteSignatureException',
  AuthFailure: 'UnrecognizedClientException',
  SignatureDoesNotMatch: 'InvalidSignatureException',
  RequestExpired: 'InvalidSignatureException',
};

export interface EbsErrorReply {
  exception: EbsException;
  reason?: string;
  message: string;
  httpStatus: number;
  /** Not the caller's fault: worth logging with its stack. */
  internal: boolean;
}

const DIRECT = new Set<string>(DIRECT_ERROR_CODES);
const SHARED = new Set<string>([...CATALOG_ERROR_CODES, ...CORE_ERROR_CODES]);
export const EBS_INTERNAL_MESSAGE = 'An internal error has occurred';

const reply = (t: EbsErrorTarget, message: string): EbsErrorReply => ({
  exception: t.exception,
  ...(t.reason !== undefined ? { reason: t.reason } : {}),
  message,
  httpStatus: EBS_EXCEPTIONS[t.exception],
  internal: false,
});

/** Any error thrown while serving a direct-API request → what to answer. */
export function toEbsError(err: unknown): EbsErrorReply {
  if (err instanceof EbsProtocolError) return reply({ exception: err.exception, ...(err.reason ? { reason: err.reason } : {}) }, err.message);
  if (isAuthError(err)) return reply({ exception: EBS_AUTH_ERROR_MAP[err.code] }, err.message);
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && err instanceof Error) {
    if (DIRECT.has(code)) return reply(EBS_DIRECT_ERROR_MAP[code as DirectErrorCode], err.message);
    const shared = SHARED.has(code) ? EBS_SHARED_ERROR_MAP[code as CatalogErrorCode | CoreErrorCode] : undefined;
    if (shared) return reply(shared, err.message);
  }
  if (err instanceof ObjectStoreBaseError) {
    return { exception: 'InternalServerException', message: `The object store is unavailable: ${err.message}`, httpStatus: 500, internal: false };
  }
  return { exception: 'InternalServerException', message: EBS_INTERNAL_MESSAGE, httpStatus: 500, internal: true };
}
