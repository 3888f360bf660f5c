/**
 * Errors the EC2 Query protocol raises itself: the codec's, and the transport's before any
 * handler runs. Errors of the core and the service are mapped to EC2 codes in error-map.ts, and
 * SigV4's codes are its own (protocol/sigv4/auth-errors.ts), passed on as they are.
 */

/** Every code this layer can produce, with its HTTP status. */
export const PROTOCOL_ERROR_STATUS = {
  MissingAction: 400,
  InvalidAction: 400,
  UnknownParameter: 400,
  InvalidParameterValue: 400,
  MissingParameter: 400,
  MalformedQueryString: 400,
  NoSuchVersion: 400,
  // The transport: a body over the limit, or a request fastify refused before the handler
  // (a bad Content-Length, a broken chunk: its own 4xx status is kept).
  RequestEntityTooLarge: 413,
  InvalidRequest: 400,
  InternalError: 500,
} as const;

export type ProtocolErrorCode = keyof typeof PROTOCOL_ERROR_STATUS;

export class Ec2ProtocolError extends Error {
  override readonly name = 'Ec2ProtocolError';
  readonly httpStatus: number;

  constructor(readonly code: ProtocolErrorCode, message: string, httpStatus?: number) {
    super(message);
    this.httpStatus = httpStatus ?? PROTOCOL_ERROR_STATUS[code];
  }
}

export function isEc2ProtocolError(e: unknown): e is Ec2ProtocolError {
  return e instanceof Ec2ProtocolError;
}
