/**
 * Round trips through the real `@aws-sdk/client-ec2` (its own serializer, signer and XML parser),
 * with a capturing transport instead of a network:
 *   SDK input → wire body → our decoder → must equal the input;
 *   our encoder → XML → SDK parser → must equal the output we encoded;
 *   our error XML → the SDK's thrown exception.
 */
import { describe, expect, it } from 'vitest';
import { EC2ServiceException } from '@aws-sdk/client-ec2';
import {
  decodeEc2Request, EC2_ACTIONS, encodeError, encodeResponse, type Ec2Action, type Ec2Output,
} from '../../src/protocol/ec2/index.js';
import { verifySigV4 } from '../../src/protocol/sigv4/index.js';
import { INPUTS, OUTPUTS, withoutEmpty } from './helpers/cases.js';
import { capturingClient, sendAction, SDK_ACCESS_KEY, SDK_SECRET_KEY, type CapturedRequest } from './helpers/sdk-capture.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const lookup = (id: string) => (id === SDK_ACCESS_KEY ? { secretAccessKey: SDK_SECRET_KEY, accountId: '123456789012' } : undefined);

/** Answers every request with an empty success of the right action, echoing the request id. */
function emptySuccess(req: CapturedRequest) {
  const action = /^Action=(\w+)/.exec(req.body)?.[1] as Ec2Action;
  return { status: 200, headers: { 'x-amzn-requestid': 'req-1' }, body: encodeResponse(action, {} as Ec2Output[typeof action], 'req-1') };
}

describe('JS v3 request → decodeEc2Request', () => {
  it('has input cases for every served action', () => {
    expect(Object.keys(INPUTS).sort()).toEqual([...EC2_ACTIONS].sort());
  });

  for (const action of EC2_ACTIONS) {
    INPUTS[action].forEach((input, i) => {
      it(`${action} #${i + 1}`, async () => {
        const { client, requests } = capturingClient(emptySuccess);
        await sendAction(client, action, input);
        const req = requests[0]!;
        expect(req.method).toBe('POST');
        expect(req.path).toBe('/');
        expect(req.body.startsWith(`Action=${action}&Version=2016-11-15`)).toBe(true);

        const decoded = decodeEc2Request(req.body);
        expect(decoded.action).toBe(action);
        expect(decoded.version).toBe('2016-11-15');
        const got = { ...decoded.input } as Record<string, unknown>;
        const want = withoutEmpty(input) as Record<string, unknown>;
        // What the SDK adds by itself: an idempotency token, and CopySnapshot's presigned source URL.
        if ((action === 'CreateVolume' || action === 'RunInstances') && want.ClientToken === undefined) {
          expect(got.ClientToken).toMatch(UUID);
          delete got.ClientToken;
        }
        if (action === 'CopySnapshot') {
          expect(got.PresignedUrl).toMatch(/^https:\/\/.*[?&]X-Amz-Signature=[0-9a-f]{64}/);
          expect(got.DestinationRegion).toBe('us-east-1');
          delete got.PresignedUrl;
          delete got.DestinationRegion;
        }
        expect(got).toEqual(want);

        // The same captured request carries a signature our verifier accepts.
        const caller = verifySigV4({
          method: req.method, path: req.path, query: '', body: Buffer.from(req.body), headers: req.headers,
        }, lookup, new Date());
        expect(caller).toMatchObject({ accessKeyId: SDK_ACCESS_KEY, accountId: '123456789012', region: 'us-east-1', service: 'ec2' });
      });
    });
  }

  it('JS v3 writes spaces as %20 and our decoder reads them back', async () => {
    const { client, requests } = capturingClient(emptySuccess);
    await sendAction(client, 'CreateTags', { Resources: ['vol-1'], Tags: [{ Key: 'a b', Value: 'c d+e' }] });
    expect(requests[0]!.body).toContain('Tag.1.Key=a%20b&Tag.1.Value=c%20d%2Be');
    expect(decodeEc2Request(requests[0]!.body).input).toEqual({ Resources: ['vol-1'], Tags: [{ Key: 'a b', Value: 'c d+e' }] });
  });
});

describe('encodeResponse → JS v3 parser', () => {
  it('has output cases for every served action', () => {
    expect(Object.keys(OUTPUTS).sort()).toEqual([...EC2_ACTIONS].sort());
  });

  for (const action of EC2_ACTIONS) {
    OUTPUTS[action].forEach((output, i) => {
      it(`${action} #${i + 1}`, async () => {
        const xml = encodeResponse(action, output as Ec2Output[typeof action], 'req-42');
        const { client } = capturingClient(() => ({ status: 200, headers: { 'x-amzn-requestid': 'req-42' }, body: xml }));
        const { output: parsed, metadata } = await sendAction(client, action, INPUTS[action][0]);
        expect(parsed).toEqual(output);
        expect(metadata.requestId).toBe('req-42');
      });
    });
  }

  it('keeps the scalar forms the contract promises', async () => {
    const xml = encodeResponse('DescribeSnapshots', OUTPUTS.DescribeSnapshots[0]!, 'r');
    expect(xml).toContain('<startTime>2026-11-26T22:31:45.123Z</startTime>');
    expect(xml).toContain('<fullSnapshotSizeInBytes>17179869184</fullSnapshotSizeInBytes>');
    const { client } = capturingClient(() => ({ status: 200, body: xml }));
    const { output } = await sendAction(client, 'DescribeSnapshots', {});
    const [first, second] = output.Snapshots as Array<Record<string, unknown>>;
    expect(first!.StartTime).toBeInstanceOf(Date);
    expect((first!.StartTime as Date).toISOString()).toBe('2026-11-26T22:31:45.123Z');
    expect(first!.Progress).toBe('42%');
    expect(first!.Tags).toEqual([]); // <tagSet/> is an empty list, not a missing one
    expect(first!.StateMessage).toBe('');
    expect(second!.Tags).toEqual([{ Key: 'k', Value: 'v' }]);
    expect(output.NextToken).toBe('snap-2');
  });

  it('omits absent members (the SDK sees undefined, not empty)', async () => {
    const xml = encodeResponse('DescribeVolumes', { Volumes: [{ VolumeId: 'vol-9' }] }, 'r');
    expect(xml).not.toContain('nextToken');
    const { client } = capturingClient(() => ({ status: 200, body: xml }));
    const { output } = await sendAction(client, 'DescribeVolumes', {});
    expect(output).toEqual({ Volumes: [{ VolumeId: 'vol-9' }] });
  });
});

describe('encodeError → JS v3 exception', () => {
  const cases: Array<[string, string, number]> = [
    ['InvalidVolume.NotFound', "The volume 'vol-0123456789abcdef0' does not exist.", 400],
    ['DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412],
    ['AuthFailure', 'AWS was not able to validate the provided access credentials', 401],
    ['InternalError', 'An internal error has occurred <&>', 500],
  ];
  for (const [code, message, status] of cases) {
    it(`${code} (${status})`, async () => {
      const { client } = capturingClient(() => ({
        status, headers: { 'x-amzn-requestid': 'err-7', 'content-type': 'text/xml;charset=UTF-8' }, body: encodeError(code, message, 'err-7'),
      }));
      const err = await sendAction(client, 'DeleteVolume', { VolumeId: 'vol-0123456789abcdef0' }).then(
        () => { throw new Error('expected the SDK to throw'); },
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(EC2ServiceException);
      const e = err as EC2ServiceException & { Code?: string };
      expect(e.name).toBe(code);
      expect(e.message).toBe(message);
      expect(e.$fault).toBe(status >= 500 ? 'server' : 'client');
      expect(e.$metadata.httpStatusCode).toBe(status);
      expect(e.$metadata.requestId).toBe('err-7');
    });
  }
});
