/**
 * Errors the EC2 Query codec and SigV4 verifier raise themselves, before any handler runs.
 * Errors of the simulator's core are mapped to EC2 codes elsewhere (error-map.ts).
 */

/** Every code this layer can produce, with its HTTP status. */
export const PROTOCOL_ERROR_STATUS = {
  MissingAction: 400,
  InvalidAction: 400,
  UnknownParameter: 400,
  InvalidParameterValue: 400,
  MissingParameter: 400,
  MalformedQueryString: 400,
  // Auth. Only AuthFailure=401 is confirmed by real-EC2 traffic (contract §2.5); the others
  // use the statuses AWS's other Query services (STS, IAM) send for the same codes.
  MissingAuthenticationToken: 403,
  IncompleteSignature: 400,
  AuthFailure: 401,
  SignatureDoesNotMatch: 403,
  RequestExpired: 400,
} as const;

export type ProtocolErrorCode = keyof typeof PROTOCOL_ERROR_STATUS;

export class Ec2ProtocolError extends Error {
  override readonly name = 'Ec2ProtocolError';
  readonly httpStatus: number;

  constructor(readonly code: ProtocolErrorCode, message: string) {
    super(message);
    this.httpStatus = PROTOCOL_ERROR_STATUS[code];
  }
}

export function isEc2ProtocolError(e: unknown): e is Ec2ProtocolError {
  return e instanceof Ec2ProtocolError;
}
