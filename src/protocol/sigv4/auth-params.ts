/**
 * Reading the SigV4 parameters a request carries, from the `Authorization` header or from a
 * presigned query string (`X-Amz-Credential=…`), without checking the signature.
 */
import { parseFormPairs } from '../ec2/form-urlencoded.js';
import { AuthError } from './auth-errors.js';

/** Node's `IncomingHttpHeaders` fits; names may be in any case. */
export type HeaderMap = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface CredentialScope {
  accessKeyId: string;
  /** yyyymmdd */
  date: string;
  region: string;
  /** `ec2` for the EC2 API, `ebs` for EBS direct. */
  service: string;
}

export interface AuthParams {
  scope: CredentialScope;
  /** Lower-case names, in the order the client signed them. */
  signedHeaders: string[];
  signature: string;
  /** yyyymmddThhmmssZ */
  amzDate: string | undefined;
  /** Presigned requests only: seconds the signature stays valid. */
  expires: string | undefined;
  presigned: boolean;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';

/**
 * The credential scope of a request, or undefined when it has none or a malformed one. Use it even
 * with authentication off: the region a client is configured for is only visible here.
 */
export function readCredentialScope(headers: HeaderMap, query = ''): CredentialScope | undefined {
  try {
    return readAuthParams(lowerCaseHeaders(headers), query)?.scope;
  } catch {
    return undefined;
  }
}

/** Header or query SigV4 parameters; undefined when the request carries no authentication at all. */
export function readAuthParams(headers: Map<string, string>, query: string): AuthParams | undefined {
  const authorization = headers.get('authorization');
  if (authorization !== undefined) return fromHeader(authorization, headers.get('x-amz-date'));
  if (!/(^|[?&])X-Amz-(Algorithm|Credential|Signature)=/i.test(query)) return undefined;
  return fromQuery(new Map(parseFormPairs(query)));
}

function fromHeader(authorization: string, amzDate: string | undefined): AuthParams {
  const trimmed = authorization.trim();
  const space = trimmed.indexOf(' ');
  const algorithm = space < 0 ? trimmed : trimmed.slice(0, space);
  if (algorithm !== ALGORITHM) {
    throw new AuthError('IncompleteSignature', `Unsupported Authorization type '${algorithm}': only ${ALGORITHM} (SigV4) is accepted.`);
  }
  const fields = new Map<string, string>();
  for (const part of trimmed.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((k) => !fields.get(k));
  if (missing.length > 0) {
    const msg = missing.map((k) => `Authorization header requires '${k}' parameter.`).join(' ');
    throw new AuthError('IncompleteSignature', `${msg} Authorization=${authorization}`);
  }
  return build(fields.get('Credential')!, fields.get('SignedHeaders')!, fields.get('Signature')!, amzDate, undefined, false);
}

function fromQuery(q: Map<string, string>): AuthParams {
  const algorithm = q.get('X-Amz-Algorithm');
  if (algorithm !== ALGORITHM) {
    throw new AuthError('IncompleteSignature', `X-Amz-Algorithm must be ${ALGORITHM}, got '${algorithm ?? ''}'.`);
  }
  const required = ['X-Amz-Credential', 'X-Amz-SignedHeaders', 'X-Amz-Signature', 'X-Amz-Date'];
  const missing = required.filter((k) => !q.get(k));
  if (missing.length > 0) {
    throw new AuthError('IncompleteSignature', `A presigned request requires the query parameters ${missing.join(', ')}.`);
  }
  return build(q.get('X-Amz-Credential')!, q.get('X-Amz-SignedHeaders')!, q.get('X-Amz-Signature')!,
    q.get('X-Amz-Date'), q.get('X-Amz-Expires'), true);
}

function build(
  credential: string, signedHeaders: string, signature: string,
  amzDate: string | undefined, expires: string | undefined, presigned: boolean,
): AuthParams {
  const parts = credential.split('/');
  const [accessKeyId, date, region, service, terminator] = parts;
  if (parts.length !== 5 || !accessKeyId || !/^\d{8}$/.test(date ?? '') || !region || !service || terminator !== 'aws4_request') {
    throw new AuthError('IncompleteSignature',
      `Credential '${credential}' is malformed: expected <access key id>/<yyyymmdd>/<region>/<service>/aws4_request.`);
  }
  if (!/^[0-9a-f]{64}$/.test(signature)) {
    throw new AuthError('IncompleteSignature', 'Signature must be 64 lower-case hexadecimal characters.');
  }
  const names = signedHeaders.split(';');
  if (names.some((n) => n === '' || n !== n.toLowerCase())) {
    throw new AuthError('IncompleteSignature', `SignedHeaders '${signedHeaders}' must be a ';'-separated list of lower-case header names.`);
  }
  return { scope: { accessKeyId, date: date!, region, service }, signedHeaders: names, signature, amzDate, expires, presigned };
}

/** Lower-cases header names; repeated values are joined with ',' as SigV4 specifies. */
export function lowerCaseHeaders(headers: HeaderMap): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const joined = typeof value === 'string' ? value : value.join(',');
    const k = name.toLowerCase();
    const prev = out.get(k);
    out.set(k, prev === undefined ? joined : `${prev},${joined}`);
  }
  return out;
}
