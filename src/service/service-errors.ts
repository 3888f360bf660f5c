/**
 * Errors of the service layer (its state and its resource services). Like the core's, each has a
 * stable `code`; only protocol/ec2/error-map.ts turns them into EC2 codes and HTTP statuses, and
 * the data plane into its JSON codes.
 */
export const CATALOG_ERROR_CODES = [
  'VOLUME_ID_MALFORMED',
  'SNAPSHOT_ID_MALFORMED',
  'INSTANCE_ID_MALFORMED',
  'RESOURCE_ID_INVALID',
  'INSTANCE_NOT_FOUND',
  'ATTACHMENT_NOT_FOUND',
  'MISSING_PARAMETER',
  'INVALID_PARAMETER_VALUE',
  'INVALID_PARAMETER_COMBINATION',
  'INVALID_PARAMETER_DEPENDENCY',
  'INVALID_PAGINATION_TOKEN',
  'IDEMPOTENT_PARAMETER_MISMATCH',
  'INCORRECT_STATE',
  'INCORRECT_MODIFICATION_STATE',
  'VOLUME_IN_USE',
  'VOLUME_ZONE_MISMATCH',
  'INCORRECT_INSTANCE_STATE',
  'CONCURRENT_SNAPSHOT_LIMIT_EXCEEDED',
  'SNAPSHOT_RATE_EXCEEDED',
  'TAG_LIMIT_EXCEEDED',
  'UNAUTHORIZED_OPERATION',
  'DRY_RUN_OPERATION',
  'UNSUPPORTED_OPERATION',
  'SERVICE_UNAVAILABLE',
] as const;

export type CatalogErrorCode = (typeof CATALOG_ERROR_CODES)[number];

export class CatalogError extends Error {
  override readonly name = 'CatalogError';

  constructor(
    readonly code: CatalogErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function isCatalogError(err: unknown, code?: CatalogErrorCode): err is CatalogError {
  return err instanceof CatalogError && (code === undefined || err.code === code);
}

export const invalidValue = (message: string) => new CatalogError('INVALID_PARAMETER_VALUE', message);
export const missingParameter = (name: string) =>
  new CatalogError('MISSING_PARAMETER', `The request must contain the parameter ${name}`);
/** A resource the caller cannot see is missing, in the words the core uses for one it does not hold. */
export { snapshotNotFound, volumeNotFound } from '../core/errors.js';
export function instanceNotFound(ids: readonly string[]): CatalogError {
  const list = ids.map((id) => `'${id}'`).join(', ');
  return new CatalogError('INSTANCE_NOT_FOUND', ids.length === 1 ? `The instance ID ${list} does not exist` : `The instance IDs ${list} do not exist`);
}
export const dryRunOperation = () =>
  new CatalogError('DRY_RUN_OPERATION', 'Request would have succeeded, but DryRun flag is set.');
export const unauthorized = () =>
  new CatalogError('UNAUTHORIZED_OPERATION', 'You are not authorized to perform this operation.');
