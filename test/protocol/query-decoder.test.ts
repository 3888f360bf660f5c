/** The decoder on crafted bodies: wire-name rules, scalar parsing, and each error code. */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeEc2Request, Ec2ProtocolError, type Ec2Request } from '../../src/protocol/ec2/index.js';

const V = 'Version=2016-11-15';

function errorOf(body: string | URLSearchParams): Ec2ProtocolError {
  try {
    decodeEc2Request(body);
  } catch (e) {
    if (e instanceof Ec2ProtocolError) return e;
    throw e;
  }
  throw new Error(`expected ${String(body)} to be rejected`);
}

describe('decoding', () => {
  it('the captured CLI and JS v3 bodies (fixtures/ec2/captured)', () => {
    const dir = new URL('../../fixtures/ec2/captured/', import.meta.url);
    const inputs = Object.fromEntries(readdirSync(dir).map((f) => {
      const fx = JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as { request: { body: string } };
      return [f.replace('.json', ''), decodeEc2Request(fx.request.body).input];
    }));
    expect(inputs['cli-create-snapshot']).toEqual({
      Description: 'nightly backup', VolumeId: 'vol-12414ec6e1725ed81',
      TagSpecifications: [{ ResourceType: 'snapshot', Tags: [{ Key: 'team', Value: 'storage' }, { Key: 'env', Value: 'dev' }] }],
    });
    expect(inputs['cli-describe-snapshots-filters']).toEqual({
      MaxResults: 5, OwnerIds: ['self'],
      Filters: [{ Name: 'volume-id', Values: ['vol-12414ec6e1725ed81'] }, { Name: 'status', Values: ['completed', 'pending'] }],
    });
    expect(inputs['cli-delete-volume-dry-run']).toEqual({ VolumeId: 'vol-12414ec6e1725ed81', DryRun: true });
    expect(inputs['cli-describe-volumes-session-token']).toEqual({ Filters: [{ Name: 'tag:Name', Values: ['data1'] }] });
    expect(inputs['js-create-volume']).toEqual({
      AvailabilityZone: 'us-east-1b', Size: 4, VolumeType: 'gp3', ClientToken: '9478caec-5e63-49e4-bd7e-f3fb383d370c',
      TagSpecifications: [{ ResourceType: 'volume', Tags: [{ Key: 'Name', Value: 'js vol' }] }],
    });
  });

  it('narrows the input type by action', () => {
    const req: Ec2Request = decodeEc2Request(`Action=AttachVolume&${V}&VolumeId=vol-1&InstanceId=i-1&Device=%2Fdev%2Fsdf`);
    if (req.action !== 'AttachVolume') throw new Error('wrong action');
    const device: string = req.input.Device; // required members are not optional in the type
    expect(device).toBe('/dev/sdf');
  });

  it('+ and %20 are both spaces; %2B is a plus', () => {
    const a = decodeEc2Request(`Action=CreateTags&${V}&ResourceId.1=vol-1&Tag.1.Key=a+b&Tag.1.Value=c%20d%2Be`);
    expect(a.input).toEqual({ Resources: ['vol-1'], Tags: [{ Key: 'a b', Value: 'c d+e' }] });
  });

  it('accepts URLSearchParams, and a GET query string with its ?', () => {
    const params = new URLSearchParams({ Action: 'DeleteVolume', Version: '2016-11-15', VolumeId: 'vol-1' });
    expect(decodeEc2Request(params).input).toEqual({ VolumeId: 'vol-1' });
    expect(decodeEc2Request(`?Action=DeleteVolume&${V}&VolumeId=vol-1`).input).toEqual({ VolumeId: 'vol-1' });
  });

  it('list indexes in numeric order, gaps closed', () => {
    const r = decodeEc2Request(`Action=DescribeVolumes&${V}&VolumeId.10=c&VolumeId.2=b&VolumeId.1=a`);
    expect(r.input).toEqual({ VolumeIds: ['a', 'b', 'c'] });
  });

  it('empty values stay empty strings; a filter without values has no Values', () => {
    const r = decodeEc2Request(`Action=CreateTags&${V}&ResourceId.1=vol-1&Tag.1.Key=k&Tag.1.Value=`);
    expect(r.input).toEqual({ Resources: ['vol-1'], Tags: [{ Key: 'k', Value: '' }] });
    expect(decodeEc2Request(`Action=DescribeVolumes&${V}&Filter.1.Name=size`).input).toEqual({ Filters: [{ Name: 'size' }] });
  });

  it('scalars: integers, longs, booleans (any case), timestamps', () => {
    expect(decodeEc2Request(`Action=DescribeVolumes&${V}&MaxResults=-0005&DryRun=TRUE`).input).toEqual({ MaxResults: -5, DryRun: true });
    const r = decodeEc2Request(`Action=RunInstances&${V}&MinCount=1&MaxCount=1&InstanceMarketOptions.SpotOptions.ValidUntil=2027-01-02T03:04:05.678000Z`);
    expect(r.input).toEqual({ MinCount: 1, MaxCount: 1, InstanceMarketOptions: { SpotOptions: { ValidUntil: new Date('2027-01-02T03:04:05.678Z') } } });
    const offset = decodeEc2Request(`Action=RunInstances&${V}&MinCount=1&MaxCount=1&InstanceMarketOptions.SpotOptions.ValidUntil=2027-01-02T05:04:05%2B02:00`);
    expect(offset.input).toMatchObject({ InstanceMarketOptions: { SpotOptions: { ValidUntil: new Date('2027-01-02T03:04:05Z') } } });
  });

  it('ignores the common and presign parameters', () => {
    const r = decodeEc2Request(`Action=DeleteVolume&${V}&VolumeId=vol-1&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a%2Fb&X-Amz-Date=20261126T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00&AWSAccessKeyId=A&SignatureMethod=HmacSHA256&SignatureVersion=2&Signature=x&Timestamp=t&Expires=e&SecurityToken=tok`);
    expect(r.input).toEqual({ VolumeId: 'vol-1' });
  });

  it('returns the Version as sent', () => {
    expect(decodeEc2Request(`Action=DescribeRegions&${V}`).version).toBe('2016-11-15');
  });
});

describe('errors', () => {
  const cases: Array<[string, string, string, RegExp?]> = [
    ['MissingAction', '', `${V}&VolumeId=vol-1`],
    ['MissingAction', 'empty Action', `Action=&${V}`],
    ['MissingParameter', 'no Version', 'Action=DescribeRegions', /must contain the parameter Version/],
    ['MissingParameter', 'empty Version', 'Action=DescribeRegions&Version=', /must contain the parameter Version/],
    ['NoSuchVersion', 'another Version', 'Action=DescribeRegions&Version=2014-10-01', /version \(2014-10-01\).*serves API version 2016-11-15/],
    ['InvalidAction', 'unknown action', `Action=CopyVolumes&${V}`, /CopyVolumes is not valid for this web service.*Served actions: AttachVolume, /],
    ['InvalidAction', 'prototype key', `Action=constructor&${V}`],
    ['UnknownParameter', 'top level', `Action=DeleteVolume&${V}&VolumeId=vol-1&Bogus=1`, /^The parameter Bogus is not recognized$/],
    ['UnknownParameter', 'member name instead of wire name', `Action=DescribeVolumes&${V}&VolumeIds.1=vol-1`, /VolumeIds\.1/],
    ['UnknownParameter', 'wrong case', `Action=DeleteVolume&${V}&volumeId=vol-1`],
    ['UnknownParameter', 'list without index', `Action=DescribeVolumes&${V}&VolumeId=vol-1`],
    ['UnknownParameter', 'index 0', `Action=DescribeVolumes&${V}&Filter.0.Name=size`, /Filter\.0\.Name/],
    ['UnknownParameter', 'non-numeric index', `Action=DescribeVolumes&${V}&VolumeId.a=vol-1`],
    ['UnknownParameter', 'nested unknown', `Action=DescribeVolumes&${V}&Filter.1.Nme=size`, /Filter\.1\.Nme/],
    ['UnknownParameter', 'scalar with children', `Action=DescribeVolumes&${V}&MaxResults.1=5`],
    ['UnknownParameter', 'structure given a value', `Action=RunInstances&${V}&MinCount=1&MaxCount=1&Placement=us-east-1a`],
    ['UnknownParameter', 'action without input members', `Action=DescribeRegions&${V}&Bogus=1`],
    ['InvalidParameterValue', 'non-integer', `Action=DescribeVolumes&${V}&MaxResults=5x`, /Value \(5x\) for parameter MaxResults is invalid/],
    ['InvalidParameterValue', 'integer out of 32-bit range', `Action=CreateVolume&${V}&Size=2147483648`],
    ['InvalidParameterValue', 'empty integer', `Action=CreateVolume&${V}&Size=`],
    ['InvalidParameterValue', 'boolean', `Action=DeleteVolume&${V}&VolumeId=vol-1&DryRun=yes`],
    ['InvalidParameterValue', 'timestamp', `Action=RunInstances&${V}&MinCount=1&MaxCount=1&InstanceMarketOptions.SpotOptions.ValidUntil=tomorrow`],
    ['InvalidParameterValue', 'impossible date', `Action=RunInstances&${V}&MinCount=1&MaxCount=1&InstanceMarketOptions.SpotOptions.ValidUntil=2027-13-45T00:00:00Z`],
    ['InvalidParameterValue', 'enum', `Action=CreateVolume&${V}&VolumeType=gp4`, /Valid values: standard, io1, io2, gp2, sc1, st1, gp3\./],
    ['InvalidParameterValue', 'enum in a nested list', `Action=CreateVolume&${V}&TagSpecification.1.ResourceType=volumes`, /TagSpecification\.1\.ResourceType/],
    ['MissingParameter', 'required scalar', `Action=DeleteVolume&${V}`, /^The request must contain the parameter VolumeId$/],
    ['MissingParameter', 'required list', `Action=CreateTags&${V}&Tag.1.Key=k`, /parameter resourceIdSet$/],
    ['MissingParameter', 'required nested member', `Action=CreateSnapshots&${V}&InstanceSpecification.ExcludeBootVolume=true`, /InstanceSpecification\.InstanceId/],
    ['MalformedQueryString', 'bad percent-encoding', `Action=DeleteVolume&${V}&VolumeId=vol%zz`],
    ['MalformedQueryString', 'invalid UTF-8', `Action=DeleteVolume&${V}&VolumeId=%C3%28`],
    ['MalformedQueryString', 'duplicate key', `Action=DescribeVolumes&${V}&VolumeId.1=a&VolumeId.1=b`],
    ['MalformedQueryString', 'duplicate Action', `Action=DeleteVolume&Action=DeleteSnapshot&${V}`],
    ['MalformedQueryString', 'empty name', `Action=DeleteVolume&${V}&=x`],
  ];
  for (const [code, what, body, message] of cases) {
    it(`${code}: ${what || 'no Action'}`, () => {
      const e = errorOf(body);
      expect(e.code).toBe(code);
      expect(e.httpStatus).toBe(400);
      if (message) expect(e.message).toMatch(message);
    });
  }

  it('an unknown parameter is reported before a missing one', () => {
    expect(errorOf(`Action=DeleteVolume&${V}&VolumId=vol-1`).code).toBe('UnknownParameter');
  });
});
