/**
 * The data plane's error table. Its errors are JSON `{ "code", "message" }`: the code is the
 * simulator's own (stable, documented), or SigV4's under `--auth sigv4`; this table gives each
 * core and service code its HTTP status, and like the EC2 error map it covers every code or does
 * not compile. It knows nothing of EC2's codes.
 */
import type { CoreErrorCode } from '../core/errors.js';
import { isAuthError } from '../protocol/sigv4/index.js';
import type { CatalogErrorCode } from '../service/service-errors.js';

type MappedErrorCode = CoreErrorCode | CatalogErrorCode;

/** Codes the data plane raises itself, beside the core's and the service's. */
export const DATA_PLANE_OWN_CODES = ['PAYLOAD_TOO_LARGE', 'INVALID_SIGNATURE', 'NOT_FOUND', 'BAD_REQUEST', 'INTERNAL_ERROR'] as const;

export type DataPlaneCode = MappedErrorCode | (typeof DATA_PLANE_OWN_CODES)[number];

export const DATA_PLANE_STATUS: Record<MappedErrorCode, number> = {
  VOLUME_NOT_FOUND: 404,
  SNAPSHOT_NOT_FOUND: 404,
  VOLUME_ID_MALFORMED: 400,
  SNAPSHOT_ID_MALFORMED: 400,
  INSTANCE_ID_MALFORMED: 400,
  INSTANCE_NOT_FOUND: 404,
  // An instance with no such device (or not any more: detached).
  ATTACHMENT_NOT_FOUND: 404,
  RESOURCE_ID_INVALID: 400,
  OFFSET_OUT_OF_RANGE: 416,
  INVALID_ARGUMENT: 400,
  INVALID_PARAMETER_VALUE: 400,
  INVALID_PARAMETER_COMBINATION: 400,
  INVALID_PARAMETER_DEPENDENCY: 400,
  MISSING_PARAMETER: 400,
  INVALID_PAGINATION_TOKEN: 400,
  IDEMPOTENT_PARAMETER_MISMATCH: 400,
  VOLUME_WRONG_STATE: 409,
  SNAPSHOT_WRONG_STATE: 409,
  INCORRECT_STATE: 409,
  INCORRECT_MODIFICATION_STATE: 409,
  VOLUME_IN_USE: 409,
  VOLUME_ZONE_MISMATCH: 400,
  // Guest I/O needs a running (or booting) instance.
  INCORRECT_INSTANCE_STATE: 409,
  CONCURRENT_SNAPSHOT_LIMIT_EXCEEDED: 409,
  SNAPSHOT_RATE_EXCEEDED: 429,
  TAG_LIMIT_EXCEEDED: 400,
  UNAUTHORIZED_OPERATION: 403,
  DRY_RUN_OPERATION: 412,
  UNSUPPORTED_OPERATION: 400,
  VOLUME_EXISTS: 500,
  SNAPSHOT_EXISTS: 500,
  CORRUPTION: 500,
  BACKING_UNAVAILABLE: 503,
  STORE_CLOSED: 503,
  STORE_FAILED: 500,
  STORE_LOCKED: 503,
  SERVICE_UNAVAILABLE: 503,
};

export interface DataPlaneError {
  status: number;
  body: { code: string; message: string };
  internal: boolean;
}

/** A data-plane error the handler raises itself (bad query, body too large). */
export class DataPlaneRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: DataPlaneCode,
    message: string,
  ) {
    super(message);
  }
}

export function toDataPlaneError(err: unknown): DataPlaneError {
  if (err instanceof DataPlaneRequestError) return { status: err.status, body: { code: err.code, message: err.message }, internal: false };
  if (isAuthError(err)) return { status: err.httpStatus, body: { code: err.code, message: err.message }, internal: false };
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && Object.hasOwn(DATA_PLANE_STATUS, code) && err instanceof Error) {
    const status = DATA_PLANE_STATUS[code as MappedErrorCode];
    return { status, body: { code, message: status === 500 ? 'An internal error has occurred' : err.message }, internal: status === 500 };
  }
  return { status: 500, body: { code: 'INTERNAL_ERROR', message: 'An internal error has occurred' }, internal: true };
}
