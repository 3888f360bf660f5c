/**
 * Who is calling. `--auth none`: any request (signed or not) acts as the default account; the
 * region still comes from the credential scope when there is one, since that is the only place a
 * client says which region it is configured for. `--auth sigv4`: the signature is verified
 * against a credentials file that maps access keys to secrets and accounts.
 *
 * Credentials file (JSON):
 *   { "credentials": [ { "accessKeyId": "AKIA…", "secretAccessKey": "…", "accountId": "111122223333" } ] }
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_REGION, isRegionName } from '../service/state/zones.js';
import { AuthError, readCredentialScope, verifySigV4, type AccessKey, type SignedRequest } from '../protocol/sigv4/index.js';

export type AuthMode = 'none' | 'sigv4';

export interface Caller {
  accountId: string;
  region: string;
  /** The service the credential scope names (`ec2`, `ebs`), when the request is signed. */
  service?: string;
}

export interface AuthOptions {
  mode: AuthMode;
  defaultAccountId: string;
  /** Access key id → secret and account; required for sigv4. */
  credentials?: ReadonlyMap<string, AccessKey>;
}

const ACCOUNT_ID = /^\d{12}$/;

/** Reads and checks a credentials file; throws an Error whose message says what is wrong. */
export function loadCredentialsFile(path: string): Map<string, AccessKey> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read credentials file ${path}: ${(err as Error).message}`);
  }
  const list = (parsed as { credentials?: unknown } | null)?.credentials;
  if (!Array.isArray(list) || list.length === 0) {
    throw new Error(`credentials file ${path} must be {"credentials": [{"accessKeyId", "secretAccessKey", "accountId"}, ...]} with at least one entry`);
  }
  const out = new Map<string, AccessKey>();
  for (const [i, entry] of list.entries()) {
    const e = entry as Record<string, unknown>;
    const where = `${path}: credentials[${i}]`;
    if (typeof e.accessKeyId !== 'string' || e.accessKeyId === '') throw new Error(`${where}.accessKeyId must be a non-empty string`);
    if (typeof e.secretAccessKey !== 'string' || e.secretAccessKey === '') throw new Error(`${where}.secretAccessKey must be a non-empty string`);
    if (typeof e.accountId !== 'string' || !ACCOUNT_ID.test(e.accountId)) throw new Error(`${where}.accountId must be 12 digits, as a string`);
    if (out.has(e.accessKeyId)) throw new Error(`${where}: access key ${e.accessKeyId} appears twice`);
    out.set(e.accessKeyId, { secretAccessKey: e.secretAccessKey, accountId: e.accountId });
  }
  return out;
}

export class Authenticator {
  constructor(private readonly opts: AuthOptions) {
    if (opts.mode === 'sigv4' && !opts.credentials?.size) throw new Error('--auth sigv4 needs --credentials <file> with at least one access key');
  }

  get mode(): AuthMode {
    return this.opts.mode;
  }

  /** Throws AuthError (AuthFailure, SignatureDoesNotMatch, …). */
  authenticate(request: SignedRequest, options: { allowUnsignedPayload?: boolean } = {}): Caller {
    if (this.opts.mode === 'none') {
      const scope = readCredentialScope(request.headers, request.query);
      return { accountId: this.opts.defaultAccountId, region: checkScopeRegion(scope?.region ?? DEFAULT_REGION), ...(scope ? { service: scope.service } : {}) };
    }
    const lookup = (id: string) => this.opts.credentials!.get(id);
    const caller = verifySigV4(request, lookup, new Date(), { allowUnsignedPayload: options.allowUnsignedPayload === true });
    return { accountId: caller.accountId, region: checkScopeRegion(caller.region), service: caller.service };
  }
}

function checkScopeRegion(region: string): string {
  if (!isRegionName(region)) {
    throw new AuthError('AuthFailure', `Credential should be scoped to a valid region, not '${region}' (e.g. us-east-1).`);
  }
  return region;
}
