/**
 * The same round trips as js-sdk-roundtrip.test.ts, through a real boto3 client (botocore's
 * serializer, signer and EC2 parser; see helpers/botocore-client.py). One python process runs
 * the whole batch. Skipped, with the reason, where boto3 is not importable.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  decodeEc2Request, EC2_ACTIONS, encodeError, encodeResponse, type Ec2Action, type Ec2Output,
} from '../../src/protocol/ec2/index.js';
import { verifySigV4 } from '../../src/protocol/sigv4/index.js';
import { BOTO_ACCESS_KEY, BOTO_SECRET_KEY, botocoreUnavailable, runBotocore, type BotoCall, type BotoResult } from './helpers/botocore.js';
import { INPUTS, OUTPUTS, withoutEmpty } from './helpers/cases.js';

const unavailable = botocoreUnavailable();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const lookup = (id: string) => (id === BOTO_ACCESS_KEY ? { secretAccessKey: BOTO_SECRET_KEY, accountId: '210987654321' } : undefined);
const ok = (action: Ec2Action, output: unknown, requestId = 'req-b') =>
  ({ status: 200, body: encodeResponse(action, output as Ec2Output[typeof action], requestId) });

interface Job { name: string; call: BotoCall }
const jobs: Job[] = [];
for (const action of EC2_ACTIONS) {
  INPUTS[action].forEach((input, i) => jobs.push({ name: `in ${action} #${i + 1}`, call: { action, params: input, response: ok(action, {}) } }));
  OUTPUTS[action].forEach((output, i) =>
    jobs.push({ name: `out ${action} #${i + 1}`, call: { action, params: INPUTS[action][0], response: ok(action, output, `rid-${action}-${i}`) } }));
}
const errorCases: Array<[string, string, number]> = [
  ['InvalidSnapshot.NotFound', "The snapshot 'snap-1' does not exist.", 400],
  ['DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412],
  ['RequestLimitExceeded', 'Request limit exceeded.', 503],
];
for (const [code, message, status] of errorCases) {
  jobs.push({ name: `error ${code}`, call: { action: 'DeleteSnapshot', params: { SnapshotId: 'snap-1' }, response: { status, body: encodeError(code, message, `err-${code}`) } } });
}

describe.skipIf(unavailable !== undefined)(`boto3 round trips${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const results = new Map<string, BotoResult>();
  beforeAll(async () => {
    const out = await runBotocore(jobs.map((j) => j.call));
    jobs.forEach((j, i) => results.set(j.name, out[i]!));
  }, 60_000);

  describe('botocore request → decodeEc2Request', () => {
    for (const action of EC2_ACTIONS) {
      INPUTS[action].forEach((input, i) => {
        it(`${action} #${i + 1}`, () => {
          const { request } = results.get(`in ${action} #${i + 1}`)!;
          expect(request.body.startsWith(`Action=${action}&Version=2016-11-15`)).toBe(true);
          const decoded = decodeEc2Request(request.body);
          expect(decoded.action).toBe(action);
          const got = { ...decoded.input } as Record<string, unknown>;
          const want = withoutEmpty(input) as Record<string, unknown>;
          if ((action === 'CreateVolume' || action === 'RunInstances') && want.ClientToken === undefined) {
            expect(got.ClientToken).toMatch(UUID);
            delete got.ClientToken;
          }
          if (action === 'CopySnapshot') {
            // botocore presigns with the endpoint's own scheme (http here), unlike JS v3.
            expect(got.PresignedUrl).toMatch(/^http:\/\/127\.0\.0\.1:4599\/\?.*X-Amz-Signature=[0-9a-f]{64}/);
            expect(got.DestinationRegion).toBe('us-east-1');
            delete got.PresignedUrl;
            delete got.DestinationRegion;
          }
          expect(got).toEqual(want);

          // botocore signs `host` from the URL; the socket would send it as the Host header.
          const headers = { ...request.headers, host: new URL(request.url).host };
          const caller = verifySigV4({ method: request.method, path: '/', query: '', headers, body: Buffer.from(request.body) }, lookup, new Date());
          expect(caller).toEqual({ accessKeyId: BOTO_ACCESS_KEY, accountId: '210987654321', region: 'us-east-1', service: 'ec2' });
        });
      });
    }

    it('botocore writes spaces as + and our decoder reads them back', () => {
      const { request } = results.get('in CreateVolume #1')!;
      expect(request.body).toContain('TagSpecification.1.Tag.1.Value=a+b%26c%3Dd%2F%C3%A9%2A');
      expect(request.body).toContain('TagSpecification.1.Tag.2.Value=&');
    });

    it('botocore sends sub-second timestamps with microseconds', () => {
      const { request } = results.get('in RunInstances #1')!;
      expect(request.body).toContain('ValidUntil=2027-01-02T03%3A04%3A05.678000Z');
    });
  });

  describe('encodeResponse → botocore parser', () => {
    for (const action of EC2_ACTIONS) {
      OUTPUTS[action].forEach((output, i) => {
        it(`${action} #${i + 1}`, () => {
          const r = results.get(`out ${action} #${i + 1}`)!;
          expect(r.error).toBeUndefined();
          expect(r.result).toEqual(output);
          expect(r.requestId).toBe(`rid-${action}-${i}`); // botocore reads it from <requestId>
        });
      });
    }
  });

  describe('encodeError → botocore ClientError', () => {
    for (const [code, message, status] of errorCases) {
      it(`${code} (${status})`, () => {
        const r = results.get(`error ${code}`)!;
        expect(r.error).toEqual({ Code: code, Message: message, RequestId: `err-${code}`, HTTPStatusCode: status });
      });
    }
  });
});
