/**
 * SigV4 verification against signatures made by the real signers: requests captured from the AWS
 * CLI and JS v3 (fixtures/ec2/captured, from the contract), `@smithy/signature-v4` (the JS SDK's
 * signer) and botocore's SigV4Auth. Then each kind of tampering and its error code.
 */
import { createHash, createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { SignatureV4 } from '@smithy/signature-v4';
import { beforeAll, describe, expect, it } from 'vitest';
import { readCredentialScope, verifySigV4, type SignedRequest } from '../../src/protocol/sigv4/index.js';
import { BOTO_ACCESS_KEY, BOTO_SECRET_KEY, botocoreUnavailable, runBotocore, type BotoResult } from './helpers/botocore.js';

interface Fixture {
  source: string;
  client: string;
  request: { method: string; path: string; query: string; headers: Record<string, string>; body: string };
  credentials: { accessKeyId: string; secretAccessKey: string };
}

const FIXTURES = new URL('../../fixtures/ec2/captured/', import.meta.url);
const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).sort()
  .map((f) => [f, JSON.parse(readFileSync(new URL(f, FIXTURES), 'utf8')) as Fixture] as const);

const keys: Record<string, string> = { test: 'test', AKIDJS: 'js/secret', [BOTO_ACCESS_KEY]: BOTO_SECRET_KEY };
const lookup = (id: string) => (keys[id] !== undefined ? { secretAccessKey: keys[id]!, accountId: '123456789012' } : undefined);

function amzDateOf(headers: Record<string, string>): Date {
  const d = Object.entries(headers).find(([k]) => k.toLowerCase() === 'x-amz-date')![1];
  return new Date(`${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${d.slice(9, 11)}:${d.slice(11, 13)}:${d.slice(13, 15)}Z`);
}

function toSigned(fx: Fixture): SignedRequest {
  return { ...fx.request, body: Buffer.from(fx.request.body, 'utf8') };
}

/** The code an Ec2ProtocolError carries, or 'no error'. */
function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'no error';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

/** Replaces one header (matched case-insensitively); `undefined` removes it. */
function withHeader(req: SignedRequest, name: string, value: string | undefined): SignedRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (k.toLowerCase() !== name && typeof v === 'string') headers[k] = v;
  if (value !== undefined) headers[name] = value;
  return { ...req, headers };
}

function header(req: SignedRequest, name: string): string {
  return Object.entries(req.headers).find(([k]) => k.toLowerCase() === name)![1] as string;
}

describe('captured requests verify with the secret they were signed with', () => {
  it('there are captures from both the CLI and JS v3', () => {
    expect(new Set(fixtures.map(([, fx]) => fx.client))).toEqual(new Set(['aws-cli', 'js-v3']));
  });
  for (const [name, fx] of fixtures) {
    it(name, () => {
      const caller = verifySigV4(toSigned(fx), lookup, amzDateOf(fx.request.headers));
      expect(caller).toMatchObject({ accessKeyId: 'test', region: 'us-east-1', service: 'ec2' });
      const token = fx.request.headers['X-Amz-Security-Token'];
      expect(caller.sessionToken).toBe(token);
      expect(readCredentialScope(fx.request.headers)).toEqual({ accessKeyId: 'test', date: '20261126', region: 'us-east-1', service: 'ec2' });
    });
  }
});

describe('tampering', () => {
  const cli = toSigned(fixtures.find(([n]) => n === 'cli-describe-volumes-session-token.json')![1]);
  const js = toSigned(fixtures.find(([n]) => n === 'js-create-volume.json')![1]);
  const at = (req: SignedRequest) => amzDateOf(req.headers as Record<string, string>);
  const verify = (req: SignedRequest, now = at(req)) => codeOf(() => verifySigV4(req, lookup, now));

  it('the untouched requests verify', () => {
    expect(verify(cli)).toBe('no error');
    expect(verify(js)).toBe('no error');
  });
  it('one body byte changed', () => {
    expect(verify({ ...cli, body: Buffer.from(String(cli.body).replace('data1', 'data2')) })).toBe('SignatureDoesNotMatch');
    // JS v3 also sends x-amz-content-sha256, which must match the body we received.
    expect(verify({ ...js, body: Buffer.from(String(js.body).replace('Size=4', 'Size=5')) })).toBe('SignatureDoesNotMatch');
  });
  it('a signed header changed, an unsigned one ignored', () => {
    expect(verify(withHeader(cli, 'content-type', 'application/x-www-form-urlencoded'))).toBe('SignatureDoesNotMatch');
    expect(verify(withHeader(cli, 'host', '127.0.0.1:5079'))).toBe('SignatureDoesNotMatch');
    expect(verify(withHeader(cli, 'x-amz-security-token', 'OTHERTOKEN'))).toBe('SignatureDoesNotMatch');
    expect(verify(withHeader(js, 'amz-sdk-invocation-id', 'bba4516e-0000-4ddd-997c-9824a08d3ef8'))).toBe('SignatureDoesNotMatch');
    expect(verify(withHeader(js, 'content-length', '251'))).toBe('SignatureDoesNotMatch');
    expect(verify(withHeader(cli, 'user-agent', 'curl/8'))).toBe('no error');
    expect(verify(withHeader(cli, 'host', undefined))).toBe('SignatureDoesNotMatch');
  });
  it('header names and repeated whitespace in values are normalised as SigV4 says', () => {
    const upper = { ...cli, headers: Object.fromEntries(Object.entries(cli.headers).map(([k, v]) => [k.toUpperCase(), v])) };
    expect(verify(upper)).toBe('no error');
    expect(verify(withHeader(cli, 'content-type', '  application/x-www-form-urlencoded;   charset=utf-8 '))).toBe('no error');
  });
  it('the date', () => {
    const later = new Date(at(cli).getTime() + 16 * 60_000);
    const earlier = new Date(at(cli).getTime() - 16 * 60_000);
    expect(verify(cli, later)).toBe('RequestExpired');
    expect(verify(cli, earlier)).toBe('RequestExpired');
    expect(verify(cli, new Date(at(cli).getTime() + 14 * 60_000))).toBe('no error');
    expect(verify(withHeader(cli, 'x-amz-date', '20261126T223150Z'))).toBe('SignatureDoesNotMatch');
    expect(verify(withHeader(cli, 'x-amz-date', '20261127T000000Z'), new Date('2026-11-27T00:00:00Z'))).toBe('SignatureDoesNotMatch'); // scope says 20261126
    expect(verify(withHeader(cli, 'x-amz-date', undefined), at(cli))).toBe('IncompleteSignature');
    expect(verify(withHeader(cli, 'x-amz-date', '2026-11-26T22:31:49Z'), at(cli))).toBe('IncompleteSignature');
  });
  it('the key', () => {
    const auth = header(cli, 'authorization');
    const statusOf = (req: SignedRequest) => {
      try { verifySigV4(req, lookup, at(req)); } catch (e) { return (e as { httpStatus: number }).httpStatus; }
      return 200;
    };
    const unknown = withHeader(cli, 'authorization', auth.replace('Credential=test/', 'Credential=nobody/'));
    expect(verify(unknown)).toBe('AuthFailure');
    expect(statusOf(unknown)).toBe(401);
    const wrongSecret = (id: string) => (id === 'test' ? { secretAccessKey: 'not-test', accountId: '1' } : undefined);
    expect(codeOf(() => verifySigV4(cli, wrongSecret, at(cli)))).toBe('SignatureDoesNotMatch');
    expect(statusOf(withHeader(cli, 'authorization', auth.replace(/Signature=[0-9a-f]{4}/, 'Signature=0000')))).toBe(403);
    expect(verify(withHeader(cli, 'authorization', auth.replace('/us-east-1/', '/eu-west-1/')))).toBe('SignatureDoesNotMatch');
  });
  it('no authentication at all, or a malformed Authorization header', () => {
    expect(verify(withHeader(cli, 'authorization', undefined))).toBe('MissingAuthenticationToken');
    const auth = header(cli, 'authorization');
    expect(verify(withHeader(cli, 'authorization', auth.replace(/, Signature=.*/, '')))).toBe('IncompleteSignature');
    expect(verify(withHeader(cli, 'authorization', auth.replace('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA1')))).toBe('IncompleteSignature');
    expect(verify(withHeader(cli, 'authorization', auth.replace('/aws4_request', '')))).toBe('IncompleteSignature');
    expect(verify(withHeader(cli, 'authorization', auth.replace(/Signature=([0-9a-f]+)/, 'Signature=$1ff')))).toBe('IncompleteSignature');
    expect(verify(withHeader(cli, 'authorization', 'AWS test:c2lnbmF0dXJl'))).toBe('IncompleteSignature'); // SigV2-style
    expect(verify(withHeader(cli, 'authorization', auth.replace('SignedHeaders=content-type;host', 'SignedHeaders=content-type;nothere;host')))).toBe('SignatureDoesNotMatch');
  });
  it('accepts "," without the space between the Authorization fields', () => {
    expect(verify(withHeader(cli, 'authorization', header(cli, 'authorization').replace(/, /g, ',')))).toBe('no error');
  });
});

type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: SourceData): string | Buffer =>
  typeof d === 'string' ? d : ArrayBuffer.isView(d) ? Buffer.from(d.buffer, d.byteOffset, d.byteLength) : Buffer.from(d);

/** What the SDK's signer needs: a SHA-256 (or HMAC) with the @smithy Checksum interface. */
class Sha256 {
  private readonly h;
  constructor(secret?: SourceData) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void { this.h.update(bytes(data)); }
  async digest(): Promise<Uint8Array> { return this.h.digest(); }
  reset(): void { throw new Error('not needed'); }
}

describe('@smithy/signature-v4 (the JS SDK signer)', () => {
  const signer = (region: string, service = 'ec2', sessionToken?: string) => new SignatureV4({
    service, region, sha256: Sha256, credentials: { accessKeyId: 'AKIDJS', secretAccessKey: 'js/secret', ...(sessionToken ? { sessionToken } : {}) },
  });
  const body = 'Action=DescribeVolumes&Version=2016-11-15&Filter.1.Name=tag%3AName&Filter.1.Value.1=a%20b';
  // The header set JS v3 puts on an EC2 request before signing.
  const sdkHeaders = (): Record<string, string> => ({
    'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)),
    host: '127.0.0.1:4598', 'x-amz-user-agent': 'aws-sdk-js/3.1168.0', 'user-agent': 'aws-sdk-js/3.1168.0 ua/2.1',
    'amz-sdk-invocation-id': '3f2a1c4e-1d2b-4c5d-8e9f-0a1b2c3d4e5f', 'amz-sdk-request': 'attempt=1; max=3',
    'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'),
  });
  const now = new Date();

  it('a POST with the SDK header set, in another region, with a session token', async () => {
    const signed = await signer('eu-west-1', 'ec2', 'SESSION/TOKEN=').sign({
      method: 'POST', protocol: 'http:', hostname: '127.0.0.1', port: 4598, path: '/', query: {}, headers: sdkHeaders(), body,
    }, { signingDate: now });
    const req: SignedRequest = { method: 'POST', path: '/', query: '', headers: signed.headers, body };
    expect(header(req, 'authorization')).toContain('SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token;x-amz-user-agent,');
    expect(verifySigV4(req, lookup, now)).toEqual({ accessKeyId: 'AKIDJS', accountId: '123456789012', region: 'eu-west-1', service: 'ec2', sessionToken: 'SESSION/TOKEN=' });
    expect(readCredentialScope(signed.headers)?.region).toBe('eu-west-1');
  });

  it('a GET with a query string and an EBS direct path (canonical query and path)', async () => {
    const query = { pageToken: 'a/b c+d', maxResults: '10', startingBlockIndex: '0', 'x y': ['2', '1'] };
    const path = '/snapshots/snap-1/blocks/7';
    const signed = await signer('us-east-1', 'ebs').sign({
      method: 'GET', protocol: 'http:', hostname: '127.0.0.1', port: 4598, path, query, headers: { host: '127.0.0.1:4598' },
    }, { signingDate: now });
    const raw = 'pageToken=a%2Fb%20c%2Bd&maxResults=10&startingBlockIndex=0&x%20y=2&x%20y=1';
    const req: SignedRequest = { method: 'GET', path, query: raw, headers: signed.headers, body: '' };
    expect(verifySigV4(req, lookup, now)).toMatchObject({ service: 'ebs' });
    expect(codeOf(() => verifySigV4({ ...req, query: raw.replace('maxResults=10', 'maxResults=11') }, lookup, now))).toBe('SignatureDoesNotMatch');
    expect(codeOf(() => verifySigV4({ ...req, path: '/snapshots/snap-2/blocks/7' }, lookup, now))).toBe('SignatureDoesNotMatch');
  });

  it('a presigned URL (query auth), until it expires', async () => {
    const presigned = await signer('us-east-1').presign({
      method: 'GET', protocol: 'http:', hostname: '127.0.0.1', port: 4598, path: '/',
      query: { Action: 'DescribeVolumes', Version: '2016-11-15', 'VolumeId.1': 'vol-1' }, headers: { host: '127.0.0.1:4598' },
    }, { signingDate: now, expiresIn: 300 });
    const query = Object.entries(presigned.query ?? {}).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&');
    const req: SignedRequest = { method: 'GET', path: '/', query, headers: { host: '127.0.0.1:4598' }, body: '' };
    expect(readCredentialScope({}, query)).toEqual({ accessKeyId: 'AKIDJS', date: expect.stringMatching(/^\d{8}$/), region: 'us-east-1', service: 'ec2' });
    expect(verifySigV4(req, lookup, now)).toMatchObject({ accessKeyId: 'AKIDJS' });
    expect(codeOf(() => verifySigV4(req, lookup, new Date(now.getTime() + 299_000)))).toBe('no error');
    expect(codeOf(() => verifySigV4(req, lookup, new Date(now.getTime() + 301_000)))).toBe('RequestExpired');
    expect(codeOf(() => verifySigV4({ ...req, query: query.replace('vol-1', 'vol-2') }, lookup, now))).toBe('SignatureDoesNotMatch');
  });
});

const unavailable = botocoreUnavailable();
describe.skipIf(unavailable !== undefined)(`botocore SigV4Auth${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let results: BotoResult[] = [];
  const ebsUrl = 'http://127.0.0.1:4599/snapshots/snap-1/blocks?pageToken=a%2Fb%20c&maxResults=10';
  beforeAll(async () => {
    results = await runBotocore([
      { kind: 'sign', method: 'GET', url: ebsUrl, service: 'ebs', region: 'us-west-2' } as never,
      { kind: 'sign', method: 'POST', url: 'http://127.0.0.1:4599/', service: 'ec2', region: 'us-east-1', sessionToken: 'TOKEN',
        body: 'Action=DeleteVolume&Version=2016-11-15&VolumeId=vol-1', headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' } } as never,
      { kind: 'presign', action: 'DescribeVolumes', params: { VolumeIds: ['vol-1'] }, region: 'ap-south-1', expiresIn: 60 },
    ]);
  }, 60_000);

  it('a GET with a query string (EBS direct)', () => {
    const { request } = results[0]!;
    const url = new URL(request.url);
    const req: SignedRequest = { method: 'GET', path: url.pathname, query: url.search.slice(1), headers: { ...request.headers, host: url.host }, body: '' };
    expect(verifySigV4(req, lookup, new Date())).toMatchObject({ region: 'us-west-2', service: 'ebs' });
  });

  it('a POST with a session token', () => {
    const { request } = results[1]!;
    const req: SignedRequest = { method: 'POST', path: '/', query: '', headers: { ...request.headers, host: '127.0.0.1:4599' }, body: request.body };
    expect(header(req, 'authorization')).toContain('SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,');
    expect(verifySigV4(req, lookup, new Date()).sessionToken).toBe('TOKEN');
  });

  it('a presigned URL from generate_presigned_url', () => {
    const url = new URL(results[2]!.url!);
    const req: SignedRequest = { method: 'GET', path: url.pathname, query: url.search.slice(1), headers: { host: url.host }, body: '' };
    expect(verifySigV4(req, lookup, new Date())).toMatchObject({ accessKeyId: BOTO_ACCESS_KEY, region: 'ap-south-1' });
    expect(codeOf(() => verifySigV4(req, lookup, new Date(Date.now() + 120_000)))).toBe('RequestExpired');
  });
});

describe('readCredentialScope', () => {
  it('is undefined without authentication or with a malformed credential', () => {
    expect(readCredentialScope({})).toBeUndefined();
    expect(readCredentialScope({ authorization: 'AWS4-HMAC-SHA256 Credential=x/2026/us-east-1/ec2, SignedHeaders=host, Signature=00' })).toBeUndefined();
    expect(readCredentialScope({}, 'Action=DescribeVolumes&Version=2016-11-15')).toBeUndefined();
  });
  it('reads the region even when the signature is wrong (used with auth off)', () => {
    const auth = `AWS4-HMAC-SHA256 Credential=anything/20261126/eu-central-1/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`;
    expect(readCredentialScope({ Authorization: auth })).toEqual({ accessKeyId: 'anything', date: '20261126', region: 'eu-central-1', service: 'ec2' });
  });
});
