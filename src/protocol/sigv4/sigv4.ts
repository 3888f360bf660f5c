/**
 * AWS Signature Version 4 verification for requests from the AWS CLI, boto3 and JS v3 (contract §5).
 *
 * The canonical request is rebuilt from the request as received: the headers named in
 * SignedHeaders and nothing else (botocore signs three, JS v3 eight), the SHA-256 of the raw body
 * computed here (botocore sends no `x-amz-content-sha256`; when JS v3 sends one it must match),
 * the path double-encoded as both SDKs do for non-S3 services, and the query canonicalised.
 * Both header auth and presigned query auth (`X-Amz-Signature=…`) are accepted.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { parseFormPairs } from '../ec2/form-urlencoded.js';
import { AuthError } from './auth-errors.js';
import { lowerCaseHeaders, readAuthParams, type AuthParams, type HeaderMap } from './auth-params.js';

export { readCredentialScope, type CredentialScope, type HeaderMap } from './auth-params.js';

export interface SignedRequest {
  method: string;
  /** The path as received, still percent-encoded, without the query (`/` for EC2). */
  path: string;
  /** The raw query string, without `?` ('' when there is none). */
  query: string;
  headers: HeaderMap;
  /** The exact body bytes (a string is taken as UTF-8). */
  body: Buffer | Uint8Array | string;
}

export interface AccessKey {
  secretAccessKey: string;
  accountId: string;
}

export type AccessKeyLookup = (accessKeyId: string) => AccessKey | undefined;

export interface VerifiedCaller {
  accessKeyId: string;
  accountId: string;
  region: string;
  service: string;
  /** `X-Amz-Security-Token`, when the client used temporary credentials. Not validated. */
  sessionToken?: string;
}

export interface VerifyOptions {
  /** Allowed clock difference; AWS uses 15 minutes. */
  maxSkewMs?: number;
  /** Accept `x-amz-content-sha256: UNSIGNED-PAYLOAD` (EBS direct PutSnapshotBlock); off for EC2. */
  allowUnsignedPayload?: boolean;
}

const FIFTEEN_MINUTES = 15 * 60 * 1000;
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

/** Verifies a request's SigV4 signature; throws AuthError, else says who signed it. */
export function verifySigV4(request: SignedRequest, lookup: AccessKeyLookup, now: Date, options: VerifyOptions = {}): VerifiedCaller {
  const headers = lowerCaseHeaders(request.headers);
  const auth = readAuthParams(headers, request.query);
  if (auth === undefined) {
    throw new AuthError('MissingAuthenticationToken', 'Request is missing Authentication Token');
  }
  const signedAt = parseAmzDate(auth.amzDate);
  if (auth.scope.date !== auth.amzDate!.slice(0, 8)) {
    throw new AuthError('SignatureDoesNotMatch',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.scope.date}' != '${auth.amzDate!.slice(0, 8)}'.`);
  }
  const key = lookup(auth.scope.accessKeyId);
  if (key === undefined) {
    throw new AuthError('AuthFailure', 'AWS was not able to validate the provided access credentials');
  }
  checkTime(auth, signedAt, now, options.maxSkewMs ?? FIFTEEN_MINUTES);

  const canonical = canonicalRequest(request, headers, auth, options.allowUnsignedPayload === true);
  const stringToSign = ['AWS4-HMAC-SHA256', auth.amzDate, scopeString(auth),
    createHash('sha256').update(canonical, 'utf8').digest('hex')].join('\n');
  const expected = createHmac('sha256', signingKey(key.secretAccessKey, auth)).update(stringToSign, 'utf8').digest();
  // Both are 32 bytes (the parser insists on 64 hex characters), as timingSafeEqual requires.
  if (!timingSafeEqual(expected, Buffer.from(auth.signature, 'hex'))) {
    throw new AuthError('SignatureDoesNotMatch',
      'The request signature that Amazon has does not match the signature that you provided. Check your AWS Secret Access Key and signing method.');
  }
  const token = auth.presigned ? queryValue(request.query, 'X-Amz-Security-Token') : headers.get('x-amz-security-token');
  return {
    accessKeyId: auth.scope.accessKeyId, accountId: key.accountId, region: auth.scope.region, service: auth.scope.service,
    ...(token !== undefined ? { sessionToken: token } : {}),
  };
}

function parseAmzDate(amzDate: string | undefined): Date {
  const m = amzDate === undefined ? null : /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (m === null) {
    throw new AuthError('IncompleteSignature',
      amzDate === undefined ? 'Authorization requires an X-Amz-Date header.' : `X-Amz-Date '${amzDate}' is not of the form yyyymmddThhmmssZ.`);
  }
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  return new Date(Date.UTC(y!, mo! - 1, d, h, mi, s));
}

function checkTime(auth: AuthParams, signedAt: Date, now: Date, maxSkewMs: number): void {
  const stamp = (d: Date): string => d.toISOString().replace(/[-:]|\.\d{3}/g, '');
  if (auth.presigned) {
    const expires = Number(auth.expires ?? '900');
    if (!Number.isInteger(expires) || expires < 1 || expires > 604800) {
      throw new AuthError('IncompleteSignature', `X-Amz-Expires must be between 1 and 604800 seconds, got '${auth.expires}'.`);
    }
    if (now.getTime() > signedAt.getTime() + expires * 1000) {
      throw new AuthError('RequestExpired', `Request has expired: signed at ${auth.amzDate} for ${expires} seconds, now is ${stamp(now)}.`);
    }
  }
  // A presigned URL may be used until it expires, but never signed in the future.
  const early = signedAt.getTime() - now.getTime() > maxSkewMs;
  if (early || (!auth.presigned && now.getTime() - signedAt.getTime() > maxSkewMs)) {
    throw new AuthError('RequestExpired',
      `Request has expired: X-Amz-Date ${auth.amzDate} is more than ${maxSkewMs / 60000} minutes from the server time ${stamp(now)}.`);
  }
}

function canonicalRequest(request: SignedRequest, headers: Map<string, string>, auth: AuthParams, allowUnsigned: boolean): string {
  const lines: string[] = [request.method.toUpperCase(), canonicalPath(request.path), canonicalQuery(request.query)];
  for (const name of auth.signedHeaders) {
    const value = headers.get(name);
    if (value === undefined) {
      throw new AuthError('SignatureDoesNotMatch', `The header '${name}' is listed in SignedHeaders but is not present.`);
    }
    lines.push(`${name}:${value.replace(/\s+/g, ' ').trim()}`);
  }
  lines.push('', auth.signedHeaders.join(';'), payloadHash(request.body, headers.get('x-amz-content-sha256'), allowUnsigned));
  return lines.join('\n');
}

function payloadHash(body: SignedRequest['body'], declared: string | undefined, allowUnsigned: boolean): string {
  if (declared === UNSIGNED_PAYLOAD && allowUnsigned) return UNSIGNED_PAYLOAD;
  const actual = createHash('sha256').update(body).digest('hex');
  if (declared !== undefined && declared !== actual) {
    throw new AuthError('SignatureDoesNotMatch', "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  return actual;
}

/** RFC 3986 encoding, as SigV4 wants it: everything but A-Z a-z 0-9 - _ . ~ as %XX. */
function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Dot segments and empty segments removed, then each segment encoded again (not S3: double encoding). */
function canonicalPath(path: string): string {
  const out: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') out.pop();
    else out.push(segment);
  }
  const lead = path.startsWith('/') ? '/' : '';
  const trail = out.length > 0 && path.endsWith('/') ? '/' : '';
  return `${lead}${out.map(uriEncode).join('/')}${trail}` || '/';
}

function canonicalQuery(query: string): string {
  if (query === '') return '';
  return parseFormPairs(query)
    .filter(([k]) => k !== 'X-Amz-Signature')
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

function queryValue(query: string, name: string): string | undefined {
  return parseFormPairs(query).find(([k]) => k === name)?.[1];
}

function scopeString(auth: AuthParams): string {
  return `${auth.scope.date}/${auth.scope.region}/${auth.scope.service}/aws4_request`;
}

function signingKey(secret: string, auth: AuthParams): Buffer {
  const hmac = (k: string | Buffer, data: string): Buffer => createHmac('sha256', k).update(data, 'utf8').digest();
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, auth.scope.date), auth.scope.region), auth.scope.service), 'aws4_request');
}
