/**
 * The one table from the simulator's error codes (storage core and service) to EC2 error codes
 * and HTTP statuses. It is a Record over every code, so adding a code anywhere below without
 * mapping it here does not compile. Statuses follow contract §2.5: client errors 400, DryRun 412,
 * UnauthorizedOperation 403, temporary conditions 503 (both SDKs retry them), bugs 500.
 */
import { CATALOG_ERROR_CODES, type CatalogErrorCode } from '../../service/service-errors.js';
import { CORE_ERROR_CODES, type CoreErrorCode } from '../../core/errors.js';
import { ObjectStoreBaseError, type ObjectStoreErrorCode } from '../../object-store/errors.js';
import { isAuthError } from '../sigv4/auth-errors.js';
import { Ec2ProtocolError } from './protocol-errors.js';

export interface Ec2ErrorTarget {
  ec2Code: string;
  httpStatus: number;
}

export type MappedErrorCode = CoreErrorCode | CatalogErrorCode;

const client = (ec2Code: string): Ec2ErrorTarget => ({ ec2Code, httpStatus: 400 });

export const EC2_ERROR_MAP: Record<MappedErrorCode, Ec2ErrorTarget> = {
  // storage core
  VOLUME_NOT_FOUND: client('InvalidVolume.NotFound'),
  VOLUME_EXISTS: { ec2Code: 'InternalError', httpStatus: 500 },
  VOLUME_WRONG_STATE: client('IncorrectState'),
  SNAPSHOT_NOT_FOUND: client('InvalidSnapshot.NotFound'),
  SNAPSHOT_EXISTS: { ec2Code: 'InternalError', httpStatus: 500 },
  SNAPSHOT_WRONG_STATE: client('IncorrectState'),
  OFFSET_OUT_OF_RANGE: client('InvalidParameterValue'),
  INVALID_ARGUMENT: client('InvalidParameterValue'),
  BACKING_UNAVAILABLE: { ec2Code: 'Unavailable', httpStatus: 503 },
  STORE_CLOSED: { ec2Code: 'Unavailable', httpStatus: 503 },
  // A failed write poisons the store until a restart: retrying cannot help.
  STORE_FAILED: { ec2Code: 'InternalError', httpStatus: 500 },
  STORE_LOCKED: { ec2Code: 'Unavailable', httpStatus: 503 },
  CORRUPTION: { ec2Code: 'InternalError', httpStatus: 500 },
  // catalog
  VOLUME_ID_MALFORMED: client('InvalidVolumeID.Malformed'),
  SNAPSHOT_ID_MALFORMED: client('InvalidSnapshotID.Malformed'),
  INSTANCE_ID_MALFORMED: client('InvalidInstanceID.Malformed'),
  INSTANCE_NOT_FOUND: client('InvalidInstanceID.NotFound'),
  ATTACHMENT_NOT_FOUND: client('InvalidAttachment.NotFound'),
  RESOURCE_ID_INVALID: client('InvalidID'),
  MISSING_PARAMETER: client('MissingParameter'),
  INVALID_PARAMETER_VALUE: client('InvalidParameterValue'),
  INVALID_PARAMETER_COMBINATION: client('InvalidParameterCombination'),
  INVALID_PARAMETER_DEPENDENCY: client('InvalidParameterDependency'),
  INVALID_PAGINATION_TOKEN: client('InvalidPaginationToken'),
  IDEMPOTENT_PARAMETER_MISMATCH: client('IdempotentParameterMismatch'),
  INCORRECT_STATE: client('IncorrectState'),
  INCORRECT_MODIFICATION_STATE: client('IncorrectModificationState'),
  VOLUME_IN_USE: client('VolumeInUse'),
  VOLUME_ZONE_MISMATCH: client('InvalidVolume.ZoneMismatch'),
  INCORRECT_INSTANCE_STATE: client('IncorrectInstanceState'),
  CONCURRENT_SNAPSHOT_LIMIT_EXCEEDED: client('ConcurrentSnapshotLimitExceeded'),
  SNAPSHOT_RATE_EXCEEDED: client('SnapshotCreationPerVolumeRateExceeded'),
  TAG_LIMIT_EXCEEDED: client('TagLimitExceeded'),
  UNAUTHORIZED_OPERATION: { ec2Code: 'UnauthorizedOperation', httpStatus: 403 },
  DRY_RUN_OPERATION: { ec2Code: 'DryRunOperation', httpStatus: 412 },
  UNSUPPORTED_OPERATION: client('UnsupportedOperation'),
  SERVICE_UNAVAILABLE: { ec2Code: 'Unavailable', httpStatus: 503 },
};

/** Object store failures reach EC2 calls through restores and copies: a down store is temporary. */
export const OBJECT_STORE_ERROR_MAP: Record<ObjectStoreErrorCode, Ec2ErrorTarget> = {
  OBJECT_STORE_FAILURE: { ec2Code: 'Unavailable', httpStatus: 503 },
  OBJECT_STORE_CLOSED: { ec2Code: 'Unavailable', httpStatus: 503 },
  OBJECT_NOT_FOUND: { ec2Code: 'InternalError', httpStatus: 500 },
  INVALID_KEY: { ec2Code: 'InternalError', httpStatus: 500 },
  INVALID_RANGE: { ec2Code: 'InternalError', httpStatus: 500 },
  KEY_CONFLICT: { ec2Code: 'InternalError', httpStatus: 500 },
  INVALID_OBJECT_STORE_SPEC: { ec2Code: 'InternalError', httpStatus: 500 },
};

const MAPPED = new Set<string>([...CORE_ERROR_CODES, ...CATALOG_ERROR_CODES]);

export interface Ec2ErrorReply {
  code: string;
  message: string;
  httpStatus: number;
  /** Not the caller's fault: worth logging with its stack. */
  internal: boolean;
}

export const INTERNAL_ERROR_MESSAGE = 'An internal error has occurred';

/** Any error thrown while serving an EC2 request → the code, message and status to answer with. */
export function toEc2Error(err: unknown): Ec2ErrorReply {
  if (err instanceof Ec2ProtocolError || isAuthError(err)) {
    const internal = err.httpStatus === 500;
    return { code: err.code, message: internal ? INTERNAL_ERROR_MESSAGE : err.message, httpStatus: err.httpStatus, internal };
  }
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && MAPPED.has(code) && err instanceof Error) {
    const target = EC2_ERROR_MAP[code as MappedErrorCode];
    const internal = target.httpStatus === 500;
    return { code: target.ec2Code, message: internal ? INTERNAL_ERROR_MESSAGE : err.message, httpStatus: target.httpStatus, internal };
  }
  if (err instanceof ObjectStoreBaseError) {
    const target = OBJECT_STORE_ERROR_MAP[err.code];
    const internal = target.httpStatus === 500;
    return { code: target.ec2Code, message: internal ? INTERNAL_ERROR_MESSAGE : `The object store is unavailable: ${err.message}`, httpStatus: target.httpStatus, internal };
  }
  return { code: 'InternalError', message: INTERNAL_ERROR_MESSAGE, httpStatus: 500, internal: true };
}
