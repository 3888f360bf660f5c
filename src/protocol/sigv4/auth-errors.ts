/**
 * Errors of SigV4 verification: AWS's authentication codes, common to its protocols (the EC2
 * Query API, the data plane and, later, the EBS direct API answer them under these names, each
 * in its own shape). Protocol error tables pass them on; this is the only place they are listed.
 */

/** Every code SigV4 verification raises, with its HTTP status. */
export const AUTH_ERROR_STATUS = {
  // Only AuthFailure=401 is confirmed by real-EC2 traffic (contract §2.5); the others use the
  // statuses AWS's other Query services (STS, IAM) send for the same codes.
  MissingAuthenticationToken: 403,
  IncompleteSignature: 400,
  AuthFailure: 401,
  SignatureDoesNotMatch: 403,
  RequestExpired: 400,
} as const;

export type AuthErrorCode = keyof typeof AUTH_ERROR_STATUS;

export class AuthError extends Error {
  override readonly name = 'AuthError';
  readonly httpStatus: number;

  constructor(readonly code: AuthErrorCode, message: string) {
    super(message);
    this.httpStatus = AUTH_ERROR_STATUS[code];
  }
}

export function isAuthError(e: unknown): e is AuthError {
  return e instanceof AuthError;
}
