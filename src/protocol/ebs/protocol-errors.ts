/**
 * Errors the EBS direct APIs' rest-json protocol raises itself (the codec's, the transport's)
 * and the exceptions every EBS answer may name. Errors of the core and the services are mapped
 * to these in error-map.ts.
 */
import { EBS_EXCEPTION_STATUS } from './model.generated.js';

/**
 * The model's exceptions, and the ones AWS's JSON services answer before any operation runs
 * (authentication, an unknown route): SDKs read the name from `x-amzn-ErrorType`.
 */
export const EBS_EXCEPTIONS = {
  ...EBS_EXCEPTION_STATUS,
  MissingAuthenticationTokenException: 403,
  IncompleteSignatureException: 400,
  UnrecognizedClientException: 403,
  InvalidSignatureException: 403,
  UnknownOperationException: 404,
  SerializationException: 400,
} as const;

export type EbsException = keyof typeof EBS_EXCEPTIONS;

export class EbsProtocolError extends Error {
  override readonly name = 'EbsProtocolError';

  constructor(
    readonly exception: EbsException,
    message: string,
    /** The exception's `Reason` member, for those that have one. */
    readonly reason?: string,
  ) {
    super(message);
  }

  get httpStatus(): number {
    return EBS_EXCEPTIONS[this.exception];
  }
}
