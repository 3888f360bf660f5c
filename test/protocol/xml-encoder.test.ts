/** The encoder's own rules: envelope, names, lists, escaping, omitted members, type errors. */
import { readFileSync } from 'node:fs';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { EC2_XML_NAMESPACE, encodeError, encodeResponse, type Volume } from '../../src/protocol/ec2/index.js';

const parser = new XMLParser({ ignoreAttributes: false, parseTagValue: false, trimValues: true });
const parse = (xml: string): unknown => parser.parse(xml);
const golden = (name: string) => readFileSync(new URL(`../../fixtures/ec2/golden/${name}`, import.meta.url), 'utf8');

describe('envelope', () => {
  it('reproduces the canned DescribeVolumes response of contract §2.3 (parsed by all three clients)', () => {
    const xml = encodeResponse('DescribeVolumes', {
      Volumes: [{
        VolumeId: 'vol-1234567890abcdef0', Size: 80, SnapshotId: '', AvailabilityZone: 'us-east-1a', State: 'in-use',
        CreateTime: new Date('2026-11-26T10:00:00Z'),
        Attachments: [{
          VolumeId: 'vol-1234567890abcdef0', InstanceId: 'i-1234567890abcdef0', Device: '/dev/sdh', State: 'attached',
          AttachTime: new Date('2026-11-26T10:01:02.123Z'), DeleteOnTermination: false,
        }],
        VolumeType: 'gp3', Iops: 3000, Throughput: 125, Encrypted: false, MultiAttachEnabled: false,
      }],
    }, '4b9d3d8f-2c35-4a7e-9a6b-7a0d2a1c9e11');
    expect(parse(xml)).toEqual(parse(golden('describe-volumes.xml')));
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<DescribeVolumesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>')).toBe(true);
  });

  it('reproduces the error envelope of contract §2.5: no namespace, capitalised RequestID', () => {
    const xml = encodeError('InvalidVolume.NotFound', "The volume 'vol-0123456789abcdef0' does not exist.", '7f2f4c0e-5f0c-4c59-9d0b-2a8c8f0e6f11');
    expect(xml).toBe(golden('error-invalid-volume-not-found.xml').trim());
  });

  it('one namespace constant, with the trailing slash', () => {
    expect(EC2_XML_NAMESPACE).toBe('http://ec2.amazonaws.com/doc/2016-11-15/');
  });

  it('actions with no modelled output answer <return>true</return>', () => {
    expect(encodeResponse('DeleteVolume', {}, 'r')).toContain('<DeleteVolumeResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><return>true</return></DeleteVolumeResponse>');
  });

  it('an output with nothing set is just the request id', () => {
    expect(encodeResponse('DescribeVolumes', {}, 'r')).toMatch(/<DescribeVolumesResponse [^>]*><requestId>r<\/requestId><\/DescribeVolumesResponse>$/);
  });
});

describe('members', () => {
  it('uses locationNames, not member names (State → status, Regions → regionInfo, Endpoint → regionEndpoint)', () => {
    expect(encodeResponse('CreateVolume', { State: 'creating' }, 'r')).toContain('<status>creating</status>');
    const regions = encodeResponse('DescribeRegions', { Regions: [{ RegionName: 'us-east-1', Endpoint: 'ec2.us-east-1.amazonaws.com' }] }, 'r');
    expect(regions).toContain('<regionInfo><item><regionName>us-east-1</regionName><regionEndpoint>ec2.us-east-1.amazonaws.com</regionEndpoint></item></regionInfo>');
  });

  it('empty lists are <x/>, empty strings <x/>, undefined and null omitted, unknown keys ignored', () => {
    const v = { VolumeId: 'vol-1', SnapshotId: '', Attachments: [], Tags: undefined, KmsKeyId: null, internalGeneration: 7 };
    const xml = encodeResponse('CreateVolume', v as unknown as Volume, 'r');
    expect(xml).toContain('<attachmentSet/>');
    expect(xml).toContain('<snapshotId/>');
    expect(xml).not.toMatch(/tagSet|kmsKeyId|internalGeneration/);
  });

  it('booleans, integers, longs and timestamps', () => {
    const xml = encodeResponse('CreateSnapshot', {
      Encrypted: true, VolumeSize: 16384, FullSnapshotSizeInBytes: 2 ** 44, StartTime: new Date(Date.UTC(2026, 10, 26, 22, 31, 44, 5)),
    }, 'r');
    expect(xml).toContain('<encrypted>true</encrypted>');
    expect(xml).toContain('<volumeSize>16384</volumeSize>');
    expect(xml).toContain('<fullSnapshotSizeInBytes>17592186044416</fullSnapshotSizeInBytes>');
    expect(xml).toContain('<startTime>2026-11-26T22:31:44.005Z</startTime>');
  });

  it('escapes text and drops characters XML cannot carry', () => {
    const value = 'a&b <c> "d" \'e\' é 🎉\r\n\tf\u0001g';
    const xml = encodeResponse('DescribeTags', { Tags: [{ Key: '</key>', Value: value }] }, 'r&<');
    expect(xml).toContain('<key>&lt;/key&gt;</key>');
    expect(xml).toContain('<requestId>r&amp;&lt;</requestId>');
    const parsed = new XMLParser({ parseTagValue: false, trimValues: false, processEntities: true, htmlEntities: true }).parse(xml) as {
      DescribeTagsResponse: { tagSet: { item: { value: string } } };
    };
    expect(parsed.DescribeTagsResponse.tagSet.item.value).toBe('a&b <c> "d" \'e\' é 🎉\r\n\tfg');
    expect(encodeError('X', '<&>', 'r')).toContain('<Message>&lt;&amp;&gt;</Message>');
  });
});

describe('a wrongly typed output is a handler bug: TypeError naming the member', () => {
  const bad: Array<[string, () => string, RegExp]> = [
    ['timestamp as string', () => encodeResponse('CreateVolume', { CreateTime: '2026-11-26' as unknown as Date }, 'r'), /CreateTime: expected a valid Date/],
    ['invalid Date', () => encodeResponse('CreateVolume', { CreateTime: new Date('nope') }, 'r'), /CreateTime/],
    ['fractional integer', () => encodeResponse('CreateVolume', { Size: 1.5 }, 'r'), /Size: expected a integer/],
    ['number as string', () => encodeResponse('CreateVolume', { VolumeId: 7 as unknown as string }, 'r'), /VolumeId: expected a string, got number 7/],
    ['boolean as string', () => encodeResponse('CreateVolume', { Encrypted: 'false' as unknown as boolean }, 'r'), /Encrypted/],
    ['object for a list', () => encodeResponse('DescribeVolumes', { Volumes: {} as unknown as [] }, 'r'), /Volumes: expected an array/],
    ['nested path', () => encodeResponse('DescribeVolumes', { Volumes: [{ Attachments: [{ AttachTime: 1 as unknown as Date }] }] }, 'r'), /Volumes\[0\]\.Attachments\[0\]\.AttachTime/],
  ];
  for (const [what, fn, message] of bad) {
    it(what, () => {
      expect(fn).toThrow(TypeError);
      expect(fn).toThrow(message);
    });
  }
  it('an action that is not served', () => {
    expect(() => encodeResponse('CopyVolumes' as 'DeleteVolume', {}, 'r')).toThrow(/unknown action CopyVolumes/);
  });
});
